"""Valid people for registry tests."""

from __future__ import annotations

import datetime as dt
import random

from identity_store import NewPerson, Registration, new_spid

VILLAGE = "01020101"
OTHER_VILLAGE = "01020102"


def person(rng: random.Random, **overrides: object) -> NewPerson:
    values: dict[str, object] = {
        "spid": new_spid(rng),
        "khmer_id": None,
        "family_name": "Sok",
        "given_name": "Dara",
        "birth_date": dt.date(1990, 5, 17),
        "sex": "male",
        "village_code": VILLAGE,
    }
    values.update(overrides)
    return NewPerson(**values)  # type: ignore[arg-type]


def registration(**overrides: object) -> Registration:
    """Sok Dara, registered by NSSF; override any field."""
    values: dict[str, object] = {
        "operator": "nssf",
        "programme": "health_care",
        "local_id": "NSSF-0001",
        "family_name": "Sok",
        "given_name": "Dara",
        "birth_date": dt.date(1990, 5, 17),
        "sex": "male",
        "village_code": VILLAGE,
        "phone": "012345678",
    }
    values.update(overrides)
    return Registration(**values)  # type: ignore[arg-type]
