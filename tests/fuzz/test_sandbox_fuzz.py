"""The operators' sandboxes fuzzed over their REST APIs: a bad body, path, method or setting
is a 4xx with an ``error`` that says what to send, never a 500, and nothing of our insides."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FuzzedStack
from tests.fuzz.http import METHODS, odd_body
from tests.fuzz.properties import budget, check_reply
from tests.fuzz.values import odd_text, odd_values, to_json
from tests.fuzz.wire import send

pytestmark = pytest.mark.asyncio(loop_scope="package")
# (sandbox, path, the batch's key) for every batch endpoint of docs/sandbox.md
BATCHES = [
    ("idpoor", "/v1/households/by-member", "spids"),
    ("idpoor", "/v1/households/by-id", "household_ids"),
    ("nssf", "/v1/members/by-spid", "spids"),
    ("pca", "/v1/payments/by-beneficiary", "spids"),
    ("moi", "/v1/verifications", "checks"),
]
RECORDS = [("idpoor", "/v1/households/"), ("nssf", "/v1/members/")]
CALM = {"latency_ms": 0, "jitter_ms": 0, "error_rate": 0, "hang": False, "outage": False}
JSON = [(b"Content-Type", b"application/json")]


@st.composite
def batch_items(draw: st.DrawFn, key: str, hints: tuple[str, ...]) -> list[Any]:
    text = st.sampled_from(hints) | odd_text()
    if key == "checks":
        check = st.fixed_dictionaries(
            {
                "khmer_id": text,
                "family_name": text,
                "given_name": text,
                "birth_date": st.sampled_from(["1990-05-17", "1990-02-30", "19900517", ""]) | text,
            }
        )
        item: st.SearchStrategy[Any] = check | odd_values(max_leaves=3)
    else:
        item = text | odd_values(max_leaves=2)
    return draw(st.lists(item, max_size=draw(st.sampled_from([3, 20, 101]))))


@budget(60)
@given(data=st.data())
async def test_a_batch_of_anything_is_answered_or_refused_in_words(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    sandbox, path, key = data.draw(st.sampled_from(BATCHES), label="endpoint")
    body: Any = {key: data.draw(batch_items(key, fuzzed_stack.hints), label="items")}
    raw = data.draw(st.just(to_json(body)) | odd_body(body), label="body")
    method = data.draw(st.sampled_from([b"POST", b"POST", *METHODS]), label="method")
    url = fuzzed_stack.stack.sandboxes[sandbox]
    reply = await send(url, method, path.encode(), JSON, raw)
    check_reply(reply, raw, graphql=False, method=method)


@budget(30)
@given(data=st.data())
async def test_a_record_path_of_anything_is_a_record_or_a_404(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    sandbox, prefix = data.draw(st.sampled_from(RECORDS), label="endpoint")
    ident = data.draw(st.sampled_from(fuzzed_stack.hints) | odd_text(), label="id")
    target = (prefix + quote(ident.encode("utf-8", "surrogatepass"), safe="")).encode()
    reply = await send(fuzzed_stack.stack.sandboxes[sandbox], b"GET", target, [])
    check_reply(reply, target, graphql=False, method=b"GET")


@budget(30)
@given(data=st.data())
async def test_odd_fault_settings_are_refused_in_words(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    sandbox = data.draw(st.sampled_from(sorted(fuzzed_stack.stack.sandboxes)), label="sandbox")
    url = fuzzed_stack.stack.sandboxes[sandbox]
    settings = data.draw(
        st.dictionaries(
            st.sampled_from([*CALM, "unknown"]) | odd_text(10), odd_values(max_leaves=2), max_size=3
        )
        | odd_values(max_leaves=3),
        label="settings",
    )
    raw = data.draw(st.just(to_json(settings)) | odd_body({"latency_ms": 1}), label="body")
    try:
        reply = await send(url, b"POST", b"/admin/config", JSON, raw)
        check_reply(reply, raw, graphql=False)
    finally:  # whatever was accepted, the other tests want the sandbox calm
        calm = await send(url, b"POST", b"/admin/config", JSON, to_json(CALM))
        assert calm.status == 200, calm.text
