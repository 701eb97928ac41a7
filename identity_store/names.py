"""Romanization-tolerant name keys for fuzzy search."""

from __future__ import annotations

import re

# Khmer names are romanized by ear: vowels and the aspirating h vary (Sok/Sokh, Chea/Chia,
# Chhun/Chun, Ouk/Uk) while the other consonants hold. The key keeps those consonants.
_DROPPED = re.compile(r"[^A-Z]|[AEIOUYHW]")
_REPEATS = re.compile(r"(.)\1+")


def consonant_skeleton(name: str) -> str:
    """The consonants of a Latin-script name, without h, w, y and repeats: SOKH → SK."""
    return _REPEATS.sub(r"\1", _DROPPED.sub("", name.upper()))


def name_key(family_name: str, given_name: str) -> str:
    """One key for both names, the same whichever order they were written in."""
    parts = sorted((consonant_skeleton(family_name), consonant_skeleton(given_name)))
    return "|".join(parts)[:80]
