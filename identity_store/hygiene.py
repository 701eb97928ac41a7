"""What text the registry accepts: names normalised, characters that hide or corrupt refused.

The rules, per class of character (docs/registry.md says why):

- lone surrogates, control characters (NUL, C0 other than tab and line breaks, DEL, C1),
  bidirectional embeddings, overrides and isolates, private-use characters, noncharacters
  and any other invisible formatting character: **refused**, naming the character;
- in names, tab, line breaks and every Unicode space: **one plain space**, runs collapsed,
  ends trimmed; NFC;
- in names, zero-width space, non-joiner and joiner (U+200B-U+200D): **kept between two
  Khmer characters**, where Khmer writing uses them (a word break, a ligature choice), and
  dropped anywhere else; word joiner, byte order mark, soft hyphen and the implicit
  direction marks (LRM, RLM, ALM): **dropped**, they carry nothing in a name;
- Khmer digits in Khmer IDs and phone numbers: **read as digits** (``ascii_digits``).
"""

from __future__ import annotations

import unicodedata

from identity_store.errors import InvalidInput

# Embeddings and overrides (U+202A-U+202E) and isolates (U+2066-U+2069) reorder how text
# is displayed: a name could show as another one.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Kept between two Khmer characters only: word separator, non-joiner, joiner.
KHMER_JOINERS = frozenset("\u200b\u200c\u200d")
# Invisible, and meaningless in a name wherever they stand: word joiner, byte order mark,
# soft hyphen, left-to-right, right-to-left and Arabic letter marks.
DROPPED = frozenset("\u2060\ufeff\u00ad\u200e\u200f\u061c")
# Tab and line breaks are layout, not characters of a name; in free text they may stay.
LAYOUT = frozenset("\t\n\r")
_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")


def is_khmer(char: str) -> bool:
    """Whether ``char`` belongs to the Khmer or Khmer Symbols blocks."""
    return "\u1780" <= char <= "\u17ff" or "\u19e0" <= char <= "\u19ff"


def _code(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def character_problem(char: str, *, layout_allowed: bool = False) -> str | None:
    """Why ``char`` may not stand in any text the registry stores, or None."""
    category = unicodedata.category(char)
    if category == "Cs":
        return (
            f"half of a UTF-16 surrogate pair ({_code(char)}), not a character: the text "
            "was decoded wrongly on its way here"
        )
    if category == "Cc":
        if layout_allowed and char in LAYOUT:
            return None
        return f"a control character ({_code(char)})"
    if char in BIDI_CONTROLS:
        return (
            f"a bidirectional control ({_code(char)}), which changes how the text is "
            "displayed without changing it"
        )
    if category == "Co":
        return f"a private-use character ({_code(char)}), which every font shows differently"
    if (0xFDD0 <= ord(char) <= 0xFDEF) or (ord(char) & 0xFFFE) == 0xFFFE:
        return f"a noncharacter ({_code(char)})"
    if category == "Cf" and char not in KHMER_JOINERS and char not in DROPPED:
        return f"an invisible formatting character ({_code(char)})"
    return None


def _refuse(what: str, index: int, problem: str) -> InvalidInput:
    return InvalidInput(
        f"{what}: character {index + 1} is {problem}. Remove it where the value was typed "
        "or exported, and send it again."
    )


def check_text(value: str, what: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`InvalidInput` naming the first character refused.

    For identifiers and free text (local IDs, keys, reasons): nothing is normalised, so
    that an operator's own identifier comes back exactly as it was sent. ``multiline``
    lets tab and line breaks through (a reason may have paragraphs).
    """
    if value.isascii() and value.isprintable():
        return value  # the common case, at C speed
    for index, char in enumerate(value):
        problem = character_problem(char, layout_allowed=multiline)
        if problem is not None:
            raise _refuse(what, index, problem)
    return value


def clean_name(value: str, what: str) -> str:
    """A name as the registry stores and searches it, or :class:`InvalidInput`.

    NFC; spaces, tabs and line breaks become one space; invisible characters are dropped
    except zero-width space, non-joiner and joiner between two Khmer characters; the
    characters of :func:`character_problem` are refused. The result may be empty.
    """
    if value.isascii() and value.isprintable():
        return " ".join(value.split())
    for index, char in enumerate(value):
        if char in LAYOUT:
            continue
        problem = character_problem(char)
        if problem is not None:
            raise _refuse(what, index, problem)
    chars = [
        " " if char in LAYOUT or unicodedata.category(char) in ("Zs", "Zl", "Zp") else char
        for char in unicodedata.normalize("NFC", value)
        if char not in DROPPED
    ]
    kept: list[str] = []
    for index, char in enumerate(chars):
        if char in KHMER_JOINERS:
            # Between two Khmer characters, the first of a run of zero-width characters
            # stays; anywhere else (Latin, spaces, the ends) they mean nothing.
            after = next((c for c in chars[index + 1 :] if c not in KHMER_JOINERS), "")
            if not (kept and is_khmer(kept[-1]) and is_khmer(after)):
                continue
        kept.append(char)
    return " ".join("".join(kept).split())


def ascii_digits(value: str) -> str:
    """``value`` with Khmer digits (០-៩), as Khmer ID cards print them, as 0-9."""
    return value.translate(_KHMER_DIGITS)
