"""A deterministic synthetic population: people, households and IDPoor identification.

The demo, the tests and the benchmarks seed the registry and the operator sandboxes
from it; the same seed always gives the same population. Names are common Khmer names
in Latin and Khmer script, addresses are real gazetteer villages, and the age
structure follows Cambodia's (about 29% under 15, who have no Khmer ID).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from identity_store.gazetteer import villages_by_code
from identity_store.repository import NewPerson
from identity_store.spid import new_spid

FAMILY_NAMES = (
    ("Sok", "សុខ"), ("Chea", "ជា"), ("Kim", "គីម"), ("Heng", "ហេង"), ("Chan", "ចាន់"),
    ("Ly", "លី"), ("Meas", "មាស"), ("Keo", "កែវ"), ("Prak", "ប្រាក់"), ("Nhem", "ញ៉ែម"),
    ("Touch", "ទូច"), ("Pich", "ពេជ្រ"), ("Seng", "សេង"), ("Hun", "ហ៊ុន"), ("Sam", "សំ"),
    ("Yim", "យឹម"), ("Chhun", "ឈុន"), ("Ouk", "អ៊ុក"), ("Long", "ឡុង"), ("Mao", "ម៉ៅ"),
)  # fmt: skip
MALE_NAMES = (
    ("Dara", "ដារ៉ា"), ("Vannak", "វណ្ណៈ"), ("Rithy", "រិទ្ធី"), ("Piseth", "ពិសិដ្ឋ"),
    ("Sokha", "សុខា"), ("Visal", "វិសាល"), ("Sophal", "សុផល"), ("Vuthy", "វុទ្ធី"),
    ("Bunthoeun", "ប៊ុនធឿន"), ("Kosal", "កុសល"), ("Chanthou", "ចាន់ធូ"), ("Rotha", "រដ្ឋា"),
)  # fmt: skip
FEMALE_NAMES = (
    ("Sophea", "សុភា"), ("Srey Mom", "ស្រីមុំ"), ("Bopha", "បុប្ផា"), ("Chenda", "ចិន្តា"),
    ("Sreyleak", "ស្រីល័ក្ខ"), ("Channary", "ចន្ទនារី"), ("Malis", "ម្លិះ"),
    ("Sokunthea", "សុគន្ធា"), ("Dany", "ដានី"), ("Kanha", "កញ្ញា"), ("Thida", "ធីតា"),
    ("Raksmey", "រស្មី"),
)  # fmt: skip

REFERENCE_DATE = dt.date(2026, 11, 1)
PEOPLE_PER_VILLAGE = 40
KHMER_ID_AGE = 15


@dataclass(frozen=True)
class SyntheticPerson:
    """One registrant: identity data only, as the central registry would hold it."""

    spid: str
    khmer_id: str | None
    family_name: str
    given_name: str
    family_name_km: str
    given_name_km: str
    birth_date: dt.date
    sex: str
    village_code: str
    household_id: str
    relationship: str

    def new_person(self, village_code: str | None = None) -> NewPerson:
        """This person as the registry takes them in (optionally moved to ``village_code``)."""
        return NewPerson(
            spid=self.spid,
            khmer_id=self.khmer_id,
            family_name=self.family_name,
            given_name=self.given_name,
            family_name_km=self.family_name_km,
            given_name_km=self.given_name_km,
            birth_date=self.birth_date,
            sex=self.sex,
            village_code=village_code or self.village_code,
        )


@dataclass(frozen=True)
class Household:
    """People living together; every member lives in the household's village."""

    household_id: str
    village_code: str
    members: tuple[tuple[str, str], ...]  # (spid, relationship to the head)


@dataclass(frozen=True)
class IdPoorHousehold:
    """A household the Ministry of Planning identified as poor."""

    household_id: str
    village_code: str
    level: int
    equity_card_number: str
    valid_from: dt.date
    valid_until: dt.date
    round: str
    member_spids: tuple[str, ...]


@dataclass(frozen=True)
class Population:
    """What :func:`generate_population` returns; IDPoor data goes only to the IDPoor sandbox."""

    people: tuple[SyntheticPerson, ...]
    households: tuple[Household, ...]
    idpoor_households: tuple[IdPoorHousehold, ...]


def all_village_codes() -> tuple[str, ...]:
    """Every village code of the gazetteer, in code order."""
    return tuple(sorted(villages_by_code()))


def _birth_date(rng: random.Random, age: int, today: dt.date) -> dt.date:
    """A birth date that makes the person exactly ``age`` years old on ``today``."""
    try:
        anniversary = today.replace(year=today.year - age)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - age, day=28)
    return anniversary - dt.timedelta(days=rng.randrange(0, 365))


def generate_population(
    size: int,
    seed: int = 0,
    *,
    reference_date: dt.date = REFERENCE_DATE,
    villages: Sequence[str] | None = None,
) -> Population:
    """About ``size`` people in households, with IDPoor identification for some households.

    ``villages`` narrows where they live (e.g. one province's villages, for a benchmark);
    by default they are spread over the whole gazetteer, about 40 to a village.
    """
    if size < 1:
        raise ValueError("a population has at least one person")
    rng = random.Random(seed)
    choices = all_village_codes() if villages is None else tuple(villages)
    villages = rng.sample(choices, min(len(choices), max(1, size // PEOPLE_PER_VILLAGE)))
    people: list[SyntheticPerson] = []
    households: list[Household] = []
    idpoor: list[IdPoorHousehold] = []
    khmer_ids: set[str] = set()
    spids: set[str] = set()
    equity_cards: set[str] = set()
    while len(people) < size:
        village = rng.choice(villages)
        household_id = f"HH{village}{len(households):07d}"
        family, family_km = rng.choice(FAMILY_NAMES)
        head_age = rng.randint(22, 70)
        plan = [("head", head_age, rng.choice(("male", "male", "female")))]
        if rng.random() < 0.8:
            plan.append(("spouse", max(18, head_age + rng.randint(-6, 4)), ""))
        for _ in range(min(6, int(rng.expovariate(1 / 1.9)))):
            child_age = rng.randint(0, max(0, min(25, head_age - 18)))
            plan.append(("child", child_age, rng.choice(("male", "female"))))
        if rng.random() < 0.12:
            plan.append(
                ("parent", min(95, head_age + rng.randint(20, 30)), rng.choice(("male", "female")))
            )
        members: list[tuple[str, str]] = []
        for relationship, age, sex in plan:
            if len(people) >= size:
                break
            if relationship == "spouse":
                head_sex = plan[0][2]
                sex = "female" if head_sex == "male" else "male"
            given, given_km = rng.choice(MALE_NAMES if sex == "male" else FEMALE_NAMES)
            spid = new_spid(rng)
            while spid in spids:
                spid = new_spid(rng)
            spids.add(spid)
            khmer_id = None
            if age >= KHMER_ID_AGE and rng.random() < 0.9:
                khmer_id = f"{rng.randrange(10**8, 10**9)}"
                while khmer_id in khmer_ids:
                    khmer_id = f"{rng.randrange(10**8, 10**9)}"
                khmer_ids.add(khmer_id)
            people.append(
                SyntheticPerson(
                    spid=spid,
                    khmer_id=khmer_id,
                    family_name=family,
                    given_name=given,
                    family_name_km=family_km,
                    given_name_km=given_km,
                    birth_date=_birth_date(rng, age, reference_date),
                    sex=sex,
                    village_code=village,
                    household_id=household_id,
                    relationship=relationship,
                )
            )
            members.append((spid, relationship))
        household = Household(household_id, village, tuple(members))
        households.append(household)
        if members and rng.random() < 0.22:
            valid_from = reference_date - dt.timedelta(days=rng.randrange(3 * 365))
            card = f"{village[:2]}-{rng.randrange(10**9):09d}"
            while card in equity_cards:
                card = f"{village[:2]}-{rng.randrange(10**9):09d}"
            equity_cards.add(card)
            idpoor.append(
                IdPoorHousehold(
                    household_id=household_id,
                    village_code=village,
                    level=1 if rng.random() < 0.4 else 2,
                    equity_card_number=card,
                    valid_from=valid_from,
                    valid_until=valid_from + dt.timedelta(days=3 * 365),
                    round="regular" if rng.random() < 0.85 else "on_demand",
                    member_spids=tuple(spid for spid, _ in members),
                )
            )
    return Population(tuple(people), tuple(households), tuple(idpoor))
