"""Each subgraph fuzzed directly, with requests the gateway signed: nothing a gateway could
forward (a drawn document, a representation, a caller, an odd body) gets a 5xx, a trace,
a path of ours or SQL, and every error has a code.

The signature is valid, so each request gets past the trust check into GraphQL: this is
what a bug in the gateway, or a caller it lets through, could send.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema
from hypothesis import given
from hypothesis import strategies as st

from policies import Caller, RowScope, request_signer
from subgraphs.identity.schema import schema as identity_schema
from subgraphs.idpoor.schema import schema as idpoor_schema
from subgraphs.moi.schema import schema as moi_schema
from subgraphs.nssf.schema import schema as nssf_schema
from subgraphs.pca.schema import schema as pca_schema
from tests.fuzz.conftest import FuzzedStack
from tests.fuzz.documents import almost_valid, requests
from tests.fuzz.http import odd_body
from tests.fuzz.properties import budget, check_reply
from tests.fuzz.values import to_json
from tests.fuzz.wire import send
from tests.policy_stack import SECRET

pytestmark = pytest.mark.asyncio(loop_scope="package")
SCHEMAS: dict[str, GraphQLSchema] = {
    "identity": identity_schema._schema,
    "nssf": nssf_schema._schema,
    "idpoor": idpoor_schema._schema,
    "pca": pca_schema._schema,
    "moi": moi_schema._schema,
}
CALLERS = [
    None,
    Caller(partner="registry", purpose="grievance", end_user="clerk-1"),
    Caller(partner="nssf", purpose="enrolment", operator="nssf", scope=RowScope(operator="nssf")),
    Caller(partner="ngo", purpose="eligibility_check", scope=RowScope(areas=("12", "0102"))),
    Caller(partner="x", purpose="y", scope=RowScope(areas=())),
]


async def signed_post(fuzzed: FuzzedStack, name: str, body: bytes, caller: Caller | None) -> None:
    headers = {"Content-Type": "application/json", **(caller.headers() if caller else {})}
    headers.update(request_signer(SECRET, name)("POST", "/graphql", body, headers))
    wire = [(k.encode(), v.encode()) for k, v in headers.items()]
    reply = await send(fuzzed.stack.subgraphs[name], b"POST", b"/graphql", wire, body)
    check_reply(reply, body)


@budget(60)
@given(data=st.data())
async def test_any_document_a_gateway_could_forward_is_answered_without_a_fault(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(SCHEMAS)), label="subgraph")
    drawn = data.draw(requests(SCHEMAS[name], fuzzed_stack.hints), label="request")
    if data.draw(st.integers(0, 3)) == 0:
        drawn = data.draw(almost_valid(drawn), label="broken")
    caller = data.draw(st.sampled_from(CALLERS), label="caller")
    await signed_post(fuzzed_stack, name, to_json(drawn.body()), caller)


@budget(30)
@given(data=st.data())
async def test_an_odd_body_signed_by_the_gateway_is_refused_in_words(
    fuzzed_stack: FuzzedStack, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(SCHEMAS)), label="subgraph")
    drawn = data.draw(requests(SCHEMAS[name], fuzzed_stack.hints, depth=1), label="request")
    body = data.draw(odd_body(drawn.body()), label="body")
    await signed_post(fuzzed_stack, name, body, None)
