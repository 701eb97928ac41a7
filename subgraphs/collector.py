"""The cyclic garbage collector of a subgraph process, tuned for large answers.

A subgraph answers ``_entities`` for 10,000 people with a few hundred thousand short-lived
objects, almost none of them in reference cycles. With CPython's default thresholds
(700 allocations for a young collection) such a request set off hundreds of young
collections and several full ones, each walking everything alive; what the process
loaded at start-up (schema, gazetteer, imports) was walked every time.
"""

from __future__ import annotations

import gc

# Young collections every 50,000 net allocations rather than 700; the older generations
# keep CPython's ratios. Memory held by cycles is freed a little later, no less.
YOUNG_THRESHOLD = 50_000


def settle_long_lived() -> None:
    """Freeze what is loaded by now out of the collector's reach; collect young less often.

    Call once, when the process is ready to serve (its lifespan's start).
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
