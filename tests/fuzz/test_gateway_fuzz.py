"""The gateway with access policies on, fuzzed: no document, variable or HTTP request a
partner (or anyone) sends gets a 5xx, a stack trace, a path of ours or SQL, and every error
has a message and a code.

Documents are drawn from the API schema (so that hidden fields and wrong partners are
tried too) and from each demo partner's own view (so that most of them run: subgraph
fetches, masks, scope, the access log); credentials are each partner's, or none.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FuzzedStack
from tests.fuzz.documents import almost_valid, requests
from tests.fuzz.http import RawRequest, odd_requests
from tests.fuzz.properties import budget, check_reply
from tests.fuzz.values import odd_values, to_json
from tests.fuzz.wire import exchange

pytestmark = pytest.mark.asyncio(loop_scope="package")
JSON_HEADERS = ((b"Content-Type", b"application/json"), (b"Accept", b"application/json"))


async def post(fuzzed: FuzzedStack, credentials: int, body: dict[str, object]) -> None:
    request = RawRequest(
        b"POST",
        b"/graphql",
        (*fuzzed.credentials[credentials], *JSON_HEADERS),
        to_json(body),
    )
    reply = await exchange(fuzzed.stack.gateway, request)
    check_reply(reply, request.shown())


@budget(60)
@given(data=st.data())
async def test_any_document_of_any_view_is_answered_without_a_fault(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    view = data.draw(st.integers(0, len(fuzzed_stack.views) - 1), label="view")
    drawn = data.draw(requests(fuzzed_stack.views[view], fuzzed_stack.hints), label="request")
    # A partner's own view, asked with that partner's credentials most of the time.
    credentials = data.draw(
        st.sampled_from([view, view, 0, len(fuzzed_stack.credentials) - 1])
        if view < len(fuzzed_stack.credentials)
        else st.integers(0, len(fuzzed_stack.credentials) - 1),
        label="credentials",
    )
    await post(fuzzed_stack, credentials, drawn.body())


@budget(40)
@given(data=st.data())
async def test_an_almost_valid_document_is_a_parse_or_validation_error_not_a_fault(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    view = data.draw(st.integers(1, len(fuzzed_stack.views) - 1), label="view")
    drawn = data.draw(requests(fuzzed_stack.views[view], fuzzed_stack.hints), label="request")
    broken = data.draw(almost_valid(drawn), label="broken")
    credentials = data.draw(st.integers(0, len(fuzzed_stack.credentials) - 1))
    await post(fuzzed_stack, credentials, broken.body())


@budget(40)
@given(data=st.data())
async def test_odd_variables_are_bad_input_not_a_fault(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    view = data.draw(st.integers(1, len(fuzzed_stack.views) - 1), label="view")
    drawn = data.draw(requests(fuzzed_stack.views[view], fuzzed_stack.hints), label="request")
    names = [*drawn.variables, "undeclared"]
    variables = data.draw(
        st.dictionaries(st.sampled_from(names), odd_values(), max_size=len(names)),
        label="variables",
    )
    await post(fuzzed_stack, view, {**drawn.body(), "variables": {**drawn.variables, **variables}})


@budget(60)
@given(data=st.data())
async def test_odd_http_is_refused_in_words_not_with_a_fault(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    view = data.draw(st.integers(1, len(fuzzed_stack.views) - 1), label="view")
    drawn = data.draw(requests(fuzzed_stack.views[view], fuzzed_stack.hints, depth=2))
    request = data.draw(odd_requests(drawn.body(), fuzzed_stack.credentials), label="http")
    reply = await exchange(fuzzed_stack.stack.gateway, request)
    check_reply(reply, request.shown(), method=request.method)
