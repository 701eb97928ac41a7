"""Odd HTTP requests to a GraphQL endpoint: methods, content types, charsets, bodies, query strings.

:func:`odd_requests` starts from a real request body and changes what a broken client
(or a scanner) changes: the method, the content type and its charset, the body's bytes
(encodings, NUL bytes, invalid UTF-8, sizes from empty to hundreds of kilobytes, JSON
that is not an object, duplicate keys), a GET with an odd query string, odd headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.fuzz.values import hand_written_json, odd_text, odd_values, to_json

METHODS = [b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS", b"TRACE", b"FOO"]
CONTENT_TYPES = [
    b"application/json", b"application/json; charset=utf-8", b"application/json; charset=latin-1",
    b"application/json; charset=utf-16", b"APPLICATION/JSON", b"application/json;;;q",
    b"application/graphql", b"application/graphql-response+json", b"text/plain",
    b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x", b"", b"*/*",
    b"application/json; charset=\xff",
]  # fmt: skip
ACCEPTS = [
    b"application/graphql-response+json", b"application/json", b"*/*", b"text/html",
    b"application/graphql-response+json;q=0, application/json;q=0.5", b"image/png",
    b"application/json;q=abc", b"", b"\xff\xfe",
]  # fmt: skip
BAD_BYTES = [b"\x00", b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xef\xbb\xbf"]


@dataclass(frozen=True)
class RawRequest:
    """Everything of one HTTP request but the host: sent as is by ``tests.fuzz.wire``."""

    method: bytes
    target: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def shown(self) -> bytes:
        """The request's bytes, to tell what the response may echo from what it leaks."""
        return self.target + b" ".join(v for _, v in self.headers) + self.body


def header_value() -> st.SearchStrategy[bytes]:
    """A header value as bytes: text, Latin-1 high bytes, no CR or LF (which end it)."""
    return st.one_of(
        odd_text(60).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=40),
    ).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").strip())


@st.composite
def odd_body(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    how = draw(
        st.sampled_from(
            ["json", "variables", "hand", "not_object", "bytes", "charset", "size", "empty"]
        )
    )
    if how == "json":
        return to_json(body)
    if how == "variables":
        return to_json({**body, "variables": draw(odd_values())})
    if how == "hand":
        return draw(hand_written_json(body))
    if how == "not_object":
        value = draw(st.sampled_from([[], [body], 1, "query", None, True, [[body]]]))
        return to_json(value)
    if how == "bytes":
        text = to_json(body)
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(BAD_BYTES)) + text[at:]
    if how == "charset":
        encoding = draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"]))
        return to_json(body).decode().encode(encoding, "replace")
    if how == "size":
        size = draw(st.sampled_from([1, 100, 65_536, 300_000]))
        pad = draw(st.sampled_from([b" ", b"\x00", b"{"]))
        return to_json(body)[:-1] + b"," + b'"pad": "' + pad * size + b'"}'
    return b""


@st.composite
def query_string(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """A GET's query string: the body's parameters, percent-encoded or not quite."""
    parts = []
    for key, value in body.items():
        text = value if isinstance(value, str) else to_json(value).decode()
        parts.append(f"{key}={quote(text, safe='')}".encode())
    extra = draw(
        st.lists(
            st.sampled_from(
                [
                    b"query=%FF%FE",
                    b"query=%00",
                    b"query",
                    b"=",
                    b"&&&",
                    b"variables=%5B%5B%5B",
                    b"variables=" + b"%5B" * 3000,
                    b"variables=NaN",
                    b"operationName=%ED%A0%80",
                    b"query=" + b"%7Ba" * 600,
                    b"extensions=%7B%7D",
                    b"query=%E2%80%AE",
                    b"%zz=1",
                ]
            ),
            max_size=3,
        )
    )
    return b"&".join(parts + extra)


@st.composite
def odd_requests(
    draw: st.DrawFn,
    body: dict[str, Any],
    credentials: list[tuple[tuple[bytes, bytes], ...]],
    path: bytes = b"/graphql",
) -> RawRequest:
    """An HTTP request carrying ``body`` (or a broken version of it) to ``path``."""
    method = draw(st.sampled_from(METHODS))
    headers: list[tuple[bytes, bytes]] = list(draw(st.sampled_from(credentials)))
    target = path
    payload = b""
    if method in (b"GET", b"HEAD", b"DELETE") or draw(st.integers(0, 5)) == 0:
        target = path + b"?" + draw(query_string(body))
    if method not in (b"GET", b"HEAD") or draw(st.integers(0, 5)) == 0:
        payload = draw(odd_body(body))
        headers.append((b"Content-Type", draw(st.sampled_from(CONTENT_TYPES))))
    headers.append((b"Accept", draw(st.sampled_from(ACCEPTS))))
    for _ in range(draw(st.integers(0, 2))):
        name = draw(
            st.sampled_from(
                [
                    b"X-Purpose",
                    b"X-Tonle-End-User",
                    b"X-Api-Key",
                    b"Authorization",
                    b"X-Road-Client",
                    b"Content-Encoding",
                    b"Accept-Charset",
                    b"X-Tonle-Scope",
                ]
            )
        )
        headers.append((name, draw(header_value())))
    return RawRequest(method, target, tuple(headers), payload)
