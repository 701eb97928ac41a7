"""A variable's coercion error says where and what is wrong, without the value it was given."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.runtime import MultipleRequestErrors
from tests.policies.schemas import tonle_gateway

REGISTER = "mutation R($r: RegistrationInput!) { registerPerson(input: $r) { spid } }"
SOMEONE = {
    "familyName": "Sokhom",
    "givenName": "Daravuth",
    "birthDate": "1987-03-14",
    "sex": "MALE",
    "villageCode": "12010101",
    "programme": "pension",
    "localId": "NSSF-77",
}


def messages(variables: dict[str, Any]) -> list[str]:
    gateway = tonle_gateway()
    prepared = gateway.prepare(REGISTER, None)
    with pytest.raises(MultipleRequestErrors) as refused:
        gateway.coerce_variables(prepared, variables)
    return [error.as_error()["message"] for error in refused.value.errors]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"localId": None}, "to include required field 'localId'."),
        ({"famliyName": "x"}, "not to include unknown field 'famliyName'. Did you mean"),
        ({"sex": "M"}, "at .sex: Value 'M' does not exist in 'Sex' enum."),
    ],
)
def test_the_error_names_the_problem_and_not_the_persons_data(
    change: dict[str, Any], expected: str
) -> None:
    person = {k: v for k, v in {**SOMEONE, **change}.items() if v is not None}
    found = messages({"r": person})
    assert len(found) == 1 and expected in found[0], found
    for value in ("Sokhom", "Daravuth", "1987-03-14", "NSSF-77"):
        assert value not in found[0]
    assert "found" not in found[0].lower()
