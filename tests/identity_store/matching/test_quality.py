"""De-duplication quality on a small generated population stays above a floor."""

from __future__ import annotations

from bench.registry import public
from bench.registry.quality import baseline, online, pairs_of_clusters, quality
from identity_store.matching import MatchModel, blocking_keys
from sandbox.duplicates import generate_registrations


def test_the_online_matcher_beats_exact_matching_by_far() -> None:
    data = generate_registrations(1500, seed=31)
    truth = data.true_pairs()
    clusters, _ = online(data.records, MatchModel.default())
    matcher = quality(pairs_of_clusters(clusters), truth)
    exact = quality(pairs_of_clusters(baseline(data.records)), truth)
    assert matcher.precision >= 0.98, matcher
    assert matcher.recall >= 0.9, matcher
    assert exact.recall < 0.5
    assert matcher.f1 > exact.f1 + 0.3


def test_duplicates_share_a_blocking_key() -> None:
    data = generate_registrations(1500, seed=32)
    records = {r.rec_id: r.match_record() for r in data.records}
    truth = data.true_pairs()
    blocked = sum(bool(blocking_keys(records[a]) & blocking_keys(records[b])) for a, b in truth)
    assert blocked / len(truth) > 0.97


def test_blocking_keys_stay_selective() -> None:
    data = generate_registrations(20_000, seed=33)
    counts: dict[str, int] = {}
    for r in data.records:
        for key in blocking_keys(r.match_record()):
            counts[key] = counts.get(key, 0) + 1
    # 26,000 registrations; at a million people a key selects about 40 times as many
    assert max(counts.values()) <= 40
    assert sum(counts.values()) / len(counts) < 2.5


def test_the_public_data_set_febrl4_reaches_f1_095_at_precision_099() -> None:
    # FEBRL4's two files as one backlog, mapped as a new user would, nothing tuned to it.
    result, records, true_pairs, _ = public.run()
    assert (records, true_pairs) == (10_000, 5_000)
    assert result.precision >= 0.99 and result.f1 >= 0.95, result
