"""Odd values for variables and bodies: what a careless or hostile client sends.

Huge and tiny numbers, NaN-like strings, nested objects and lists, every kind of Unicode
(Khmer with its invisible joiners, bidirectional overrides, NUL and other controls, lone
surrogates), and JSON written by hand: duplicate keys, NaN literals, deep nesting.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

KHMER = [chr(c) for c in range(0x1780, 0x17FF)]
NASTY_CHARS = [
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\u202a", "\u202e", "\u2066", "\u2069", "\u00ad", "\ue000", "\uffff", "\ud800", "\udfff",
    "\U0001f600", "'", '"', "\\", "%", "_", ";", "\n", "\t",
]  # fmt: skip
NASTY_STRINGS = [
    "", " ", "NaN", "Infinity", "-Infinity", "null", "undefined", "1e999", "-0", "0x10",
    "١٢٣", "០១២៣៤៥៦៧៨", "' OR 1=1 --", "Robert'); DROP TABLE person;--", "../../etc/passwd",
    "%00", "${jndi:ldap://x}", "{{7*7}}", "<script>", "\u202egnp.exe", "A" * 5000,
    "សុខ\u200bដារ៉ា", "Sok\u0000Dara", "01020101", "0102", "999999999999", "9" * 400,
]  # fmt: skip


def odd_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text with a good share of the characters that break naive code."""
    return st.one_of(
        st.sampled_from(NASTY_STRINGS),
        st.text(
            alphabet=st.one_of(
                st.characters(codec=None),  # any code point, lone surrogates included
                st.sampled_from(KHMER + NASTY_CHARS),
            ),
            max_size=max_size,
        ),
    )


def odd_numbers() -> st.SearchStrategy[int | float]:
    return st.one_of(
        st.integers(),
        st.sampled_from([0, -1, 2**31, -(2**31) - 1, 2**53 + 1, 2**63, 2**64, 10**30, -(10**400)]),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([1e308, -1e308, 5e-324, -0.0]),
    )


def odd_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON-shaped value with odd leaves, nested."""
    leaves = st.one_of(st.none(), st.booleans(), odd_numbers(), odd_text())
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(odd_text(12), inner, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def to_json(value: Any) -> bytes:
    """``value`` as JSON bytes; lone surrogates become ``\\ud800`` escapes, as a buggy
    client writes them (valid JSON syntax that no UTF-8 decoder can honour)."""
    return json.dumps(value, ensure_ascii=True).encode()


@st.composite
def hand_written_json(draw: st.DrawFn, body: dict[str, Any]) -> bytes:
    """``body`` as JSON with a twist: duplicate keys, NaN, deep nesting, trailing bytes."""
    how = draw(st.sampled_from(["duplicate", "nan", "deep", "trailing", "bom", "comment"]))
    text = to_json(body)
    if how == "duplicate":
        key = draw(st.sampled_from(["query", "variables", "operationName"]))
        extra = to_json(draw(odd_values(max_leaves=3)))
        return b"{" + b'"' + key.encode() + b'": ' + extra + b", " + text[1:]
    if how == "nan":
        return text[:-1] + b', "variables": {"n": NaN, "i": Infinity}}'
    if how == "deep":
        depth = draw(st.sampled_from([100, 1000, 1025, 5000, 50_000]))
        return text[:-1] + b', "variables": {"d": ' + b"[" * depth + b"]" * depth + b"}}"
    if how == "trailing":
        return text + draw(st.sampled_from([b"x", b"\x00", b"}", b" {}", b"\n\n"]))
    if how == "bom":
        return b"\xef\xbb\xbf" + text
    return b"/* c */" + text
