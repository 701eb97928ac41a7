"""Input hygiene: names normalised, characters that hide or corrupt refused, on every path.

The rules are those of ``identity_store/hygiene.py`` (docs/registry.md says why); the
properties hold them for any text hypothesis draws, the examples for real Khmer names.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity_store import (
    InvalidInput,
    add_people,
    check_text,
    clean_name,
    merge_people,
    people_by_spids,
    person_by_khmer_id,
    register_person,
    search_people,
)
from identity_store.hygiene import BIDI_CONTROLS, DROPPED, KHMER_JOINERS, is_khmer
from sandbox.population import generate_population
from tests.identity_store.conftest import row_counts
from tests.identity_store.people import person, registration

Sessions = async_sessionmaker[AsyncSession]

REFUSED = {
    "\x00": "a control character (U+0000)",
    "\x07": "a control character (U+0007)",
    "\x7f": "a control character (U+007F)",
    "\x85": "a control character (U+0085)",
    "\u202e": "a bidirectional control (U+202E RIGHT-TO-LEFT OVERRIDE)",
    "\u202a": "a bidirectional control (U+202A LEFT-TO-RIGHT EMBEDDING)",
    "\u2066": "a bidirectional control (U+2066 LEFT-TO-RIGHT ISOLATE)",
    "\u2069": "a bidirectional control (U+2069 POP DIRECTIONAL ISOLATE)",
    "\ud800": "half of a UTF-16 surrogate pair (U+D800)",
    "\ue000": "a private-use character (U+E000)",
    "\uffff": "a noncharacter (U+FFFF)",
    "\u2062": "an invisible formatting character (U+2062 INVISIBLE TIMES)",
}
KHMER_LETTERS = [chr(c) for c in range(0x1780, 0x17DE)]
ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec=None),
        st.sampled_from([*KHMER_LETTERS, *KHMER_JOINERS, *DROPPED, " ", "\t", "\n", "\u00a0"]),
    ),
    max_size=30,
)


@given(ANY_TEXT)
def test_a_name_is_cleaned_or_refused_and_cleaning_twice_changes_nothing(text: str) -> None:
    try:
        cleaned = clean_name(text, "family name")
    except InvalidInput as error:
        assert str(error).startswith("family name: character ")
        return
    assert clean_name(cleaned, "family name") == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(c in DROPPED or c in BIDI_CONTROLS for c in cleaned)
    assert not any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Zl", "Zp") for c in cleaned)
    assert all(c == " " or unicodedata.category(c) != "Zs" for c in cleaned)
    for index, char in enumerate(cleaned):
        if char in KHMER_JOINERS:  # only ever between two Khmer characters
            assert 0 < index < len(cleaned) - 1
            assert is_khmer(cleaned[index - 1]) and is_khmer(cleaned[index + 1])


@pytest.mark.parametrize(("char", "named"), REFUSED.items())
def test_a_character_that_hides_or_corrupts_text_is_refused_by_name(char: str, named: str) -> None:
    for text in (f"So{char}k", f"សុ{char}ខ"):
        with pytest.raises(InvalidInput, match=re.escape(f"character 3 is {named}")):
            clean_name(text, "family name")
    with pytest.raises(InvalidInput, match=re.escape(named)):
        check_text(f"N-{char}1", "local_id")


def test_real_khmer_names_are_kept_as_written() -> None:
    population = generate_population(300, seed=5)
    for someone in population.people:
        for name in (someone.family_name_km, someone.given_name_km):
            assert clean_name(name, "name") == unicodedata.normalize("NFC", name)


def test_khmer_keeps_its_word_separator_and_joiners_between_khmer_letters_only() -> None:
    assert clean_name("ស្រី\u200bមុំ", "name") == "ស្រី\u200bមុំ"  # a word break, as written
    assert clean_name("ស្រី\u200c\u200bមុំ", "name") == "ស្រី\u200cមុំ"  # a run keeps its first
    assert clean_name("ក\u200dខ", "name") == "ក\u200dខ"
    assert clean_name("\u200bស្រីមុំ\u200b", "name") == "ស្រីមុំ"  # nothing to separate at the ends
    assert clean_name("ស្រី \u200bមុំ", "name") == "ស្រី មុំ"  # a space separates already
    assert clean_name("So\u200bk\u200d", "name") == "Sok"  # nothing to shape in Latin script


def test_spaces_and_invisible_marks_are_normalised_in_any_script() -> None:
    assert clean_name("  Sok\t\tDara\n", "name") == "Sok Dara"
    assert clean_name("Sok\u00a0\u2003Dara", "name") == "Sok Dara"
    assert clean_name("\ufeffSo\u00adk\u200e", "name") == "Sok"
    assert clean_name("Se\u0301ng", "name") == "S\u00e9ng"  # NFC
    assert clean_name("\u200b \u2060", "name") == ""


def test_free_text_keeps_its_line_breaks_but_no_other_control() -> None:
    assert check_text("same person:\n\tsame card", "reason", multiline=True).count("\n") == 1
    with pytest.raises(InvalidInput, match=re.escape("U+000A")):
        check_text("N-\n1", "local_id")
    with pytest.raises(InvalidInput, match=re.escape("U+0000")):
        check_text("same\x00person", "reason", multiline=True)
    assert check_text("NSSF/0001 ស", "local_id") == "NSSF/0001 ស"  # kept exactly as sent


async def test_a_registration_is_stored_with_clean_names_and_replays_with_stray_characters(
    sessions: Sessions,
) -> None:
    first = await register_person(
        sessions,
        registration(
            family_name=" Sok\u200b", given_name="Da\u00adra ", family_name_km="\ufeffសុខ",
            given_name_km="ស្រី\u200bមុំ", idempotency_key="k-1",
        ),
    )  # fmt: skip
    again = await register_person(
        sessions,
        registration(
            family_name="Sok", given_name="Dara", family_name_km="សុខ",
            given_name_km="ស្រី\u200bមុំ", idempotency_key="k-1",
        ),
    )  # fmt: skip
    assert again.replayed and again.spid == first.spid
    async with sessions() as session:
        stored = (await people_by_spids(session, [first.spid]))[first.spid]
    assert (stored.family_name, stored.given_name) == ("Sok", "Dara")
    assert (stored.family_name_km, stored.given_name_km) == ("សុខ", "ស្រី\u200bមុំ")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"family_name": "Sok\x00"}, "family name: character 4 is a control character (U+0000)"),
        ({"given_name": "\u202eDara"}, "given name: character 1 is a bidirectional control"),
        ({"given_name_km": "ដា\u2067រ៉ា"}, "given name in Khmer script: character 3 is a bidi"),
        ({"family_name": "\u200b\u2060"}, "family and given names must not be empty"),
        ({"local_id": "N-\x001"}, "local_id: character 3 is a control character"),
        ({"idempotency_key": "k\ud800"}, "idempotency_key: character 2 is half of a UTF-16"),
        ({"birth_date": dt.date(1, 1, 1)}, "birth date 0001-01-01 is before 1900"),
        ({"birth_date": dt.date(1899, 12, 31)}, "is before 1900"),
    ],
)
async def test_a_registration_with_refused_text_or_an_impossible_date_stores_nothing(
    sessions: Sessions, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        await register_person(sessions, registration(**overrides))
    assert set((await row_counts(sessions)).values()) == {0}


async def test_a_bulk_load_cleans_names_like_a_registration(sessions: Sessions) -> None:
    rng = random.Random(3)
    added = person(rng, family_name="Sok\u200b ", given_name=" Dara\t", khmer_id="០១២៣៤៥៦៧៨")
    await add_people(sessions, [added])
    async with sessions() as session:
        stored = await person_by_khmer_id(session, "012345678")
        also = await person_by_khmer_id(session, "០១២៣៤៥៦៧៨")  # as printed on the card
    assert stored is not None and also is not None
    assert (stored.family_name, stored.given_name, stored.khmer_id) == ("Sok", "Dara", "012345678")
    with pytest.raises(InvalidInput, match=re.escape("U+0000")):
        await add_people(sessions, [person(rng, given_name="Da\x00ra")])


async def test_a_search_cleans_names_and_refuses_what_a_registration_refuses(
    sessions: Sessions,
) -> None:
    rng = random.Random(4)
    target = person(rng, family_name_km="សុខ", given_name_km="ស្រី\u200bមុំ")
    await add_people(sessions, [target])
    async with sessions() as session:
        latin = await search_people(session, "\ufeffSok\u200b", " Dara\t", dt.date(1990, 5, 17))
        khmer = await search_people(session, "សុខ\u200b", "ស្រីមុំ", dt.date(1990, 1, 1), "year")
        with pytest.raises(InvalidInput, match=r"familyName: character 2 is a control"):
            await search_people(session, "S\x00ok", "Dara")
        with pytest.raises(InvalidInput, match="give both a family name and a given name"):
            await search_people(session, "\u200b", "Dara")
    assert [hit.person.spid for hit in latin] == [target.spid]
    assert [hit.person.spid for hit in khmer] == [target.spid]


async def test_a_merge_reason_may_have_paragraphs_but_no_control_character(
    sessions: Sessions,
) -> None:
    rng = random.Random(5)
    one, two = person(rng), person(rng, given_name="Darra")
    await add_people(sessions, [one, two])
    with pytest.raises(InvalidInput, match=r"reason: character 5 is a control character"):
        await merge_people(sessions, one.spid, two.spid, "staff", "same\x00card")
    with pytest.raises(InvalidInput, match=r"decidedBy: character 6 is a bidirectional"):
        await merge_people(sessions, one.spid, two.spid, "staff\u202e", "same card")
    merged = await merge_people(sessions, one.spid, two.spid, "staff", "same card\n\nsame face")
    assert merged.spid == one.spid
