"""``tonle dedup --registry``: batch de-duplication over the registry, into review cases."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from identity_store import (
    InvalidInput,
    NewPerson,
    add_people,
    check_new_person,
    create_engine,
    migrate,
    new_spid,
    normalize_phone,
    review_cases,
    session_factory,
)
from identity_store.models import RegistrationEvent, ReviewCase
from sandbox.duplicates import generate_registrations
from tonle.cli import main


async def _registry_with_duplicates(url: str) -> frozenset[tuple[str, str]]:
    """People registered side by side, duplicates included; the true pairs, by SPID."""
    await migrate(url)
    rng = random.Random(5)
    data = generate_registrations(150, seed=21)
    people: list[NewPerson] = []
    spid_of: dict[str, str] = {}
    khmer_ids: set[str] = set()
    for r in data.records:
        if not (r.family_name and r.given_name and r.birth_date and r.sex and r.village_code):
            continue
        khmer_id = r.khmer_id if r.khmer_id not in khmer_ids else None
        person = NewPerson(
            spid=new_spid(rng),
            khmer_id=khmer_id,
            family_name=r.family_name,
            given_name=r.given_name,
            family_name_km=r.family_name_km,
            given_name_km=r.given_name_km,
            birth_date=r.birth_date,
            birth_precision=r.birth_precision or "day",
            sex=r.sex,
            village_code=r.village_code,
            phone=normalize_phone(r.phone) if r.phone else None,
        )
        try:
            check_new_person(person)
        except InvalidInput:
            continue  # a generated variant the registry would refuse (e.g. a moved village)
        if khmer_id:
            khmer_ids.add(khmer_id)
        people.append(person)
        spid_of[person.spid] = r.person_spid
    engine = create_engine(url)
    try:
        await add_people(session_factory(engine), people)
    finally:
        await engine.dispose()
    spids = sorted(spid_of)
    return frozenset(
        (a, b) for i, a in enumerate(spids) for b in spids[i + 1 :] if spid_of[a] == spid_of[b]
    )


async def _cases(url: str) -> tuple[list[tuple[str, str]], int]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            page = await review_cases(session, first=10_000)
            events = await session.scalar(
                select(func.count())
                .select_from(RegistrationEvent)
                .where(RegistrationEvent.kind == "review_opened")
            )
            total = await session.scalar(select(func.count()).select_from(ReviewCase))
            assert total == len(page.cases)
            return [(c.spid, c.candidate_spid) for c in page.cases], int(events or 0)
    finally:
        await engine.dispose()


async def test_dedup_over_the_registry_opens_one_review_case_per_pair_found(
    database_url: str, tmp_path: Path
) -> None:
    truth = await _registry_with_duplicates(database_url)
    assert truth  # the registry holds duplicates to find
    pairs, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    model = Path(__file__).parents[2] / "identity_store" / "matching" / "default_model.json"
    args = ["dedup", "--registry", database_url, "--pairs", str(pairs)]
    args += ["--clusters", str(clusters), "--model", str(model), "--quiet"]
    assert await _run([*args, "--open-review-cases"]) == 0
    with pairs.open() as handle:
        found = {tuple(sorted((r["id_l"], r["id_r"]))) for r in csv.DictReader(handle)}
    assert found
    assert len(found & truth) / len(found) >= 0.95  # what it flags is mostly right
    cases, events = await _cases(database_url)
    assert {tuple(sorted(c)) for c in cases} == found
    assert events == len(cases)
    # a second run finds the same pairs and opens nothing more
    assert await _run([*args, "--open-review-cases"]) == 0
    assert len((await _cases(database_url))[0]) == len(cases)


async def _run(argv: list[str]) -> int:
    # The command runs its own event loop; keep it off the test's.
    import asyncio

    return await asyncio.to_thread(main, argv)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["people.csv", "--registry"], "either INPUT.csv"),
        (["--registry", "sqlite+aiosqlite:///x.db", "--id-column", "rec_id"], "either INPUT.csv"),
        (["people.csv", "--id-column", "rec_id", "--open-review-cases"], "with --registry only"),
        ([], "give INPUT.csv with --id-column"),
    ],
)
def test_registry_and_csv_input_are_not_mixed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    outputs = ["--pairs", str(tmp_path / "p.csv"), "--clusters", str(tmp_path / "c.csv")]
    assert main(["dedup", *extra, *outputs]) == 2
    assert message in capsys.readouterr().err
