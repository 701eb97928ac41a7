"""A coverage report run through the gateway: read the partner's fields, page, count, publish.

Memory holds one page and the running counts, never the people of the area. Each page is a
request of the partner's own (its key, or a delegation the gateway issued: the coverage
subgraph), so its agreement decides what is counted and every page is in the access log.
A page the gateway answers with errors (an operator down leaves fields null) is asked again,
then the run stops: counting the unanswered as "not poor" would publish wrong figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from analysts.coverage import CoverageCounts, CoverageError, check_request
from analysts.coverage_query import FIELDS_QUERY, PartnerFields, page_query
from analysts.export import Progress
from analysts.gateway_client import Answer, GatewayClient, GatewayRefused

PAGE_SIZE = 5000
PAGE_RETRIES = 2


class CoverageFailed(CoverageError):
    """The gateway could not give every page whole; ``code`` is its error's."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def count_coverage(
    client: GatewayClient,
    area: str,
    period: str,
    by: str | None = None,
    *,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[Progress], None] = lambda _: None,
    retry_pause_s: float = 1.0,
) -> CoverageCounts:
    """The area's running counts once every page is in (unsuppressed: publish them)."""
    level = check_request(area, period, by)
    fields = PartnerFields.from_answer((await client.query(FIELDS_QUERY, {})).data)
    query = page_query(fields, level, by)
    counts = CoverageCounts(area, period, by, query.available)
    progress = Progress()
    after: str | None = None
    size = page_size
    while True:
        variables = {"area": area, "first": size, "after": after}
        try:
            answer = await _page(client, query.document, variables, retry_pause_s)
        except GatewayRefused as refused:
            if refused.code == "LIMIT_EXCEEDED" and size > 1:
                size = max(1, size // 2)  # the agreement allows smaller pages: ask again
                continue
            raise
        connection = answer.data.get("people") or {}
        edges = connection.get("edges") or []
        for edge in edges:
            node = edge["node"]
            if progress.nodes == 0:
                name = ((node.get("address") or {}).get(level) or {}).get("nameEn")
                if name:
                    counts.area_name = str(name)
            counts.add(node)
            progress.nodes += 1
        progress.pages += 1
        progress.total = connection.get("totalCount")
        on_page(progress)
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage") or not edges:
            break
        after = info.get("endCursor")
    return counts


async def _page(
    client: GatewayClient, document: str, variables: dict[str, Any], pause_s: float
) -> Answer:
    for attempt in range(PAGE_RETRIES + 1):
        answer = await client.query(document, variables)
        if not answer.errors:
            return answer
        if attempt < PAGE_RETRIES:
            await asyncio.sleep(pause_s * (attempt + 1))
    first = answer.errors[0]
    code = str((first.get("extensions") or {}).get("code", "ERROR"))
    raise CoverageFailed(
        code,
        f"a page came back incomplete ({code}: {first.get('message', '')}); no report was "
        "made, since the people left unanswered would be miscounted. Try again later.",
    )
