"""Raw HTTP/1.1 on a socket, so that a request can be as odd as a client can make it.

aiohttp (like every polite client) refuses to send an unknown method with odd bytes,
duplicate ``Content-Length``, a body that disagrees with its headers or a path that is not
percent-encoded. The fuzz tests need exactly those, so they write the bytes themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tests.fuzz.http import RawRequest


# The server closed the connection while the request was still being sent (a body larger
# than it reads): a refusal, not a crash.
CLOSED_EARLY = -1


@dataclass(frozen=True)
class RawReply:
    """What came back: the status (0 when the server closed without answering), headers, body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request_bytes(
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    host: bytes,
    content_length: bool = True,
) -> bytes:
    """One HTTP/1.1 request on the wire; ``Host`` and ``Connection: close`` are added."""
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: " + host, b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if content_length and not any(n.lower() == b"content-length" for n, _ in headers):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def send_raw(base_url: str, raw: bytes, *, timeout_s: float = 30.0) -> RawReply:
    """Send ``raw`` to the server of ``base_url`` and read the answer until it closes."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        try:
            writer.write(raw)
            await writer.drain()
        except ConnectionError:
            # The server answered (a 413, say) and closed before reading all we sent: what
            # it answered may still be readable; if not, it refused without a word.
            pass
        try:
            data = await asyncio.wait_for(reader.read(), timeout_s)
        except ConnectionResetError:
            return RawReply(CLOSED_EARLY, (), b"")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return parse_reply(data)


async def send(
    base_url: str,
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    *,
    content_length: bool = True,
) -> RawReply:
    """A request built by :func:`request_bytes` for the server of ``base_url``."""
    host = urlsplit(base_url).netloc.encode()
    raw = request_bytes(method, target, headers, body, host=host, content_length=content_length)
    return await send_raw(base_url, raw)


def parse_reply(data: bytes) -> RawReply:
    if not data:
        return RawReply(0, (), b"")
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    status = int(status_line.split(b" ")[1])
    headers = []
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
    if any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers):
        rest = _dechunk(rest)
    return RawReply(status, tuple(headers), rest)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


async def exchange(base_url: str, request: RawRequest) -> RawReply:
    """Send a drawn :class:`~tests.fuzz.http.RawRequest` to the server of ``base_url``."""
    return await send(base_url, request.method, request.target, list(request.headers), request.body)
