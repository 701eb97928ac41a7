"""Who acts: the registering operator, its user and who decides come from the credentials.

The gateway signs the caller (``policies.caller``); a mutation takes the operator, the
programmes it may register for, the end user and the deciding partner from it, never
from the input, so that no key can register as another operator or decide in another's
name. An input value that says the same is accepted; a different one is refused. A
request without caller headers comes from a gateway in ``--open`` mode (development,
conformance): there the input says who, as before, and must say it.
"""

from __future__ import annotations

from identity_store import InvalidInput
from policies.caller import Caller
from subgraphs.identity.errors import Forbidden

OPEN = Caller()


def is_open(caller: Caller) -> bool:
    """Whether the request came without caller headers (a gateway in ``--open`` mode)."""
    return caller == OPEN


def registering_operator(caller: Caller, given: str | None) -> str:
    """The operator a registration is made as: the caller's, or in open mode the input's."""
    if is_open(caller):
        if given is None:
            raise InvalidInput(
                "operator is required: this registry runs without credentials (--open) "
                "and takes the registering operator from the input."
            )
        return given
    if caller.operator is None:
        raise Forbidden(
            "these credentials may not register people: they name no operator to "
            "register as. Ask a policy admin for an agreement that registers as an operator."
        )
    if given is not None and given != caller.operator:
        raise InvalidInput(
            f"operator comes from your credentials (you register as {caller.operator}); "
            "leave it out of the input."
        )
    return caller.operator


def check_programme(caller: Caller, programme: str) -> None:
    """Refuse a programme the caller's agreement does not register for."""
    if is_open(caller) or caller.programmes is None or programme in caller.programmes:
        return
    allowed = ", ".join(caller.programmes) or "none"
    raise Forbidden(
        f"these credentials register people for these programmes only: {allowed}; "
        f"not {programme!r}."
    )


def registering_user(caller: Caller, given: str | None) -> str | None:
    """Who registered, for the history: the caller's end user, or in open mode the input's."""
    if is_open(caller):
        return given
    if given is not None and given != caller.end_user:
        raise InvalidInput(
            "registeredBy comes from your credentials (the end user your request names "
            "to the gateway, X-Tonle-End-User); leave it out of the input."
        )
    return caller.end_user


def deciding(caller: Caller, given: str | None) -> str:
    """Who decides a review case, merge or unmerge: the caller, or in open mode the input."""
    if is_open(caller):
        if given is None:
            raise InvalidInput(
                "decidedBy is required: this registry runs without credentials (--open) "
                "and records who decided from the input."
            )
        return given
    actor = caller.actor
    if actor is None:
        raise Forbidden("these credentials name no partner, so no decision can be recorded.")
    if given is not None and given != actor:
        raise InvalidInput(
            f"decidedBy comes from your credentials ({actor}); leave it out of the input."
        )
    return actor
