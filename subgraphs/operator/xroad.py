"""X-Road (CamDX) REST addressing: which service to call, who is calling, and for whom.

What an operator receives in each mode, and why, is in docs/operators.md ("Who a call is
for"): through a security server ``X-Road-Client`` is always Tonle's own subsystem, which
the security server authenticates; directly, it names the partner, as a statement of
Tonle's that the operator's own authentication of Tonle (API key, mTLS) stands behind.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from policies import Caller
from subgraphs.operator.errors import SettingsError

CLIENT_HEADER = "X-Road-Client"
ID_HEADER = "X-Road-Id"
USER_HEADER = "X-Road-UserId"
ISSUE_HEADER = "X-Road-Issue"


def caller_headers(caller: Caller | None) -> dict[str, str]:
    """Who a call is made for and why, in both modes.

    ``X-Road-UserId``: the partner, or ``partner/end user`` when it named its user;
    ``X-Road-Issue``: the purpose the partner declared.
    """
    headers: dict[str, str] = {}
    if caller is None:
        return headers
    actor = caller.actor
    if actor:
        headers[USER_HEADER] = actor
    if caller.purpose:
        headers[ISSUE_HEADER] = caller.purpose
    return headers


def direct_headers(caller: Caller | None) -> dict[str, str]:
    """Headers for a call straight to the operator: :func:`caller_headers` and the partner."""
    headers = caller_headers(caller)
    if caller is not None and caller.partner:
        headers[CLIENT_HEADER] = caller.partner
    return headers


@dataclass(frozen=True)
class XRoad:
    """The calling subsystem and the called service, as X-Road identifiers.

    ``client`` is ``INSTANCE/CLASS/MEMBER/SUBSYSTEM`` (e.g. ``CAMBODIA/GOV/MOSVY/TONLE``);
    ``service`` is ``INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE`` (e.g.
    ``CAMBODIA/GOV/NSSF/MEMBERS/nssf-api``). The security server forwards
    ``/r1/{service}/rest/of/path`` to the provider's REST service as ``/rest/of/path``.
    """

    client: str
    service: str

    @classmethod
    def parse(cls, client: str, service: str, *, variable: str) -> XRoad:
        client, service = client.strip("/"), service.strip("/")
        if len(client.split("/")) != 4 or "" in client.split("/"):
            raise SettingsError(
                f"{variable}_XROAD_CLIENT={client!r}: give the calling subsystem as "
                "INSTANCE/CLASS/MEMBER/SUBSYSTEM, e.g. CAMBODIA/GOV/MOSVY/TONLE"
            )
        if len(service.split("/")) != 5 or "" in service.split("/"):
            raise SettingsError(
                f"{variable}_XROAD_SERVICE={service!r}: give the service as "
                "INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE, e.g. CAMBODIA/GOV/NSSF/MEMBERS/nssf-api"
            )
        return cls(client, service)

    def path(self, operator_path: str) -> str:
        """The security-server path for one of the operator's own paths."""
        return f"/r1/{self.service}{operator_path}"

    def headers(self, caller: Caller | None) -> dict[str, str]:
        """Headers for one request: our subsystem, a fresh ``X-Road-Id``, and the caller's."""
        return {
            CLIENT_HEADER: self.client,
            ID_HEADER: str(uuid.uuid4()),
            **caller_headers(caller),
        }
