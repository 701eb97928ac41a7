"""Normal forms of names, phone numbers and free text, so that spellings of one value agree.

Khmer names reach the registry romanized by whoever typed them, with no single standard:
Sok and Sokh, Chea and Chia, Chhun and Chun, Ouk and Uk are the same names. The
romanization key folds those variants together; comparisons still tell an exact
spelling from a key-only agreement, so the model can weigh them differently.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Applied in order to an upper-case string of A-Z only. Consonant digraphs first (CHH
# before CH), then vowel clusters, then the final H and doubled letters.
_ROMANIZATION_RULES: tuple[tuple[str, str], ...] = (
    ("CHH", "C"),
    ("CH", "C"),
    ("KH", "K"),
    ("PH", "P"),
    ("TH", "T"),
    ("W", "V"),
    ("OEU", "E"),
    ("OE", "E"),
    ("EU", "E"),
    ("EA", "IA"),
    ("OU", "U"),
    ("OO", "U"),
    ("AU", "AO"),
    ("Y", "I"),
)
_DOUBLED = re.compile(r"(.)\1+")
_NOT_LETTER = re.compile(r"[^A-Z]")
_NOT_WORD = re.compile(r"[^0-9A-Z]+")
_NOT_DIGIT = re.compile(r"\D")

# Khmer code points by the order they take after a base character.
_COENG = "\u17d2"
_RO = "\u179a"
_ROBAT = "\u17cc"
_SHIFTERS = frozenset("\u17c9\u17ca")
_KHMER_BLANK = re.compile("(?<=[\u1780-\u17ff]) (?=[\u1780-\u17ff])")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def latin_name(text: str | None) -> str | None:
    """Upper-case A-Z only: accents, spaces, hyphens and apostrophes removed."""
    if text is None:
        return None
    letters = _NOT_LETTER.sub("", _strip_accents(text).upper())
    return letters or None


@lru_cache(maxsize=65536)
def romanization_key(text: str | None) -> str | None:
    """A key that the common romanizations of one Khmer name share (Sokh, Sok -> SOK)."""
    name = latin_name(text)
    if name is None:
        return None
    for variant, canonical in _ROMANIZATION_RULES:
        name = name.replace(variant, canonical)
    if len(name) > 1 and name.endswith("H"):
        name = name[:-1]
    return _DOUBLED.sub(r"\1", name)


def _khmer_rank(mark: str) -> int:
    """Where a combining mark (or a coeng pair) goes in a syllable's canonical order."""
    if mark == _ROBAT:
        return 1
    if mark.startswith(_COENG):
        return 3 if mark == _COENG + _RO else 2
    if mark in _SHIFTERS:
        return 4
    if "\u17b6" <= mark <= "\u17c5":  # dependent vowels
        return 5
    return 6


def _is_khmer_mark(char: str) -> bool:
    return "\u17b6" <= char <= "\u17d3" or char == "\u17dd"


@lru_cache(maxsize=65536)
def khmer_name(text: str | None) -> str | None:
    """Khmer script in one canonical form: NFC, no zero-width or blank characters, and the
    marks of every syllable in the standard order (coeng RO after other subscripts, the
    register shifter before the vowel), which keyboards let people type either way."""
    if text is None:
        return None
    chars = [c for c in unicodedata.normalize("NFC", text) if c not in _INVISIBLE]
    chars = [c for c in chars if not c.isspace()]
    out: list[str] = []
    marks: list[str] = []

    def flush() -> None:
        out.extend(sorted(marks, key=_khmer_rank))  # sorted() is stable
        marks.clear()

    i = 0
    while i < len(chars):
        char = chars[i]
        if char == _COENG and i + 1 < len(chars):
            marks.append(char + chars[i + 1])
            i += 2
            continue
        if _is_khmer_mark(char):
            marks.append(char)
        else:
            flush()
            out.append(char)
        i += 1
    flush()
    return "".join(out) or None


@lru_cache(maxsize=65536)
def phone_number(text: str | None) -> str | None:
    """The national number without the +855, 00855 or 0 prefix: "+855 12 345 678" -> "12345678"."""
    if text is None:
        return None
    digits = _NOT_DIGIT.sub("", text)
    if digits.startswith("00855"):
        digits = digits[5:]
    elif digits.startswith("855") and len(digits) >= 11:
        digits = digits[3:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= 6 else None


@lru_cache(maxsize=65536)
def script_name(text: str | None) -> str | None:
    """A name written in Khmer or any other script than Latin, in one form: case-folded,
    then :func:`khmer_name` (which leaves other scripts' marks in their order)."""
    if text is None:
        return None
    return khmer_name(text.casefold())


def _is_word_character(char: str) -> bool:
    # letters, marks (Khmer vowels and signs are marks) and digits of any script
    return unicodedata.category(char)[0] in "LMN"


@lru_cache(maxsize=65536)
def free_text(text: str | None) -> str | None:
    """Upper case, Latin accents removed, words of letters and digits (of any script)
    separated by one space."""
    if text is None:
        return None
    if text.isascii():
        words = _NOT_WORD.sub(" ", text.upper()).split()
    else:
        folded = (
            _strip_accents(char) if char < "\u0250" else char
            for char in unicodedata.normalize("NFC", text)
        )
        words = "".join(c if _is_word_character(c) else " " for c in folded).upper().split()
    # Khmer is written without spaces between words, so where writers put them varies.
    return _KHMER_BLANK.sub("", " ".join(words)) or None


def identifier(text: str | None) -> str | None:
    """An identifier's letters and digits only, upper case: "ab-123 4" -> "AB1234"."""
    if text is None:
        return None
    value = _NOT_WORD.sub("", text.upper())
    return value or None
