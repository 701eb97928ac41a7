"""X-Road (CamDX) REST addressing: which service to call, and who is calling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from subgraphs.operator.errors import SettingsError

CLIENT_HEADER = "X-Road-Client"
ID_HEADER = "X-Road-Id"
USER_HEADER = "X-Road-UserId"


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

    def headers(self, end_user: str | None) -> dict[str, str]:
        """Headers for one request: a fresh ``X-Road-Id`` every time."""
        headers = {CLIENT_HEADER: self.client, ID_HEADER: str(uuid.uuid4())}
        if end_user:
            headers[USER_HEADER] = end_user
        return headers
