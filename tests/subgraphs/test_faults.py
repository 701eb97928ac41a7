"""Subgraph logs name their faults without the personal data a message may hold."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from graphql import GraphQLError

from subgraphs import moi
from subgraphs.faults import log_faults
from tests.servers import serve


def _raised(error: Exception) -> Exception:
    try:
        raise error
    except Exception as caught:
        return caught


def test_a_fault_is_logged_by_type_path_and_stack_never_by_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Expected(Exception):
        pass

    fault = GraphQLError(
        "x", path=["person", "nssf"], original_error=_raised(ValueError("Sok Dara 1990-05-17"))
    )
    refusal = GraphQLError("x", original_error=_raised(Expected("Chea Sophea")))
    invalid = GraphQLError('Value cannot represent a Date: "1990-02-31".')
    with caplog.at_level(logging.ERROR):
        log_faults([fault, refusal, invalid], logging.getLogger("test"), (Expected,))
    assert len(caplog.records) == 1
    text = caplog.text
    assert "unexpected ValueError at person.nssf" in text
    assert "_raised" in text  # the stack
    for personal in ("Sok", "Dara", "1990", "Chea", "Sophea"):
        assert personal not in text


async def test_an_operator_subgraph_does_not_log_what_a_client_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    query = (
        '{ verifyKhmerId(khmerId: "123456789", familyName: "Sopheakneary", '
        'givenName: "Dara", birthDate: "1990-02-31") { result } }'
    )
    with caplog.at_level(logging.DEBUG):
        async with (
            serve(moi.create_app("http://127.0.0.1:9", retries=0)) as url,
            aiohttp.ClientSession() as session,
            session.post(url + "/graphql", json={"query": query}) as response,
        ):
            body = await response.json()
    assert "1990-02-31" in body["errors"][0]["message"]  # the client is told
    assert "1990-02-31" not in caplog.text  # the logs are not
    assert "Sopheakneary" not in caplog.text
