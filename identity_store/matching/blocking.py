"""Blocking keys: the registry compares a new record only with people who share one."""

from __future__ import annotations

from identity_store.matching.record import MatchRecord


def blocking_keys(record: MatchRecord) -> frozenset[str]:
    """Short strings; two records that may be the same person share at least one.

    The registry stores each person's keys in an indexed table and looks candidates up
    by them, so every key must stay selective (not, say, a bare birth year).
    """
    keys: set[str] = set()
    names = sorted(n.upper() for n in (record.family_name, record.given_name) if n and n.strip())
    if names and record.birth_date is not None:
        keys.add(f"nb:{'|'.join(names)}|{record.birth_date.year}")
    if names and record.village_code:
        keys.add(f"nv:{'|'.join(names)}|{record.village_code}")
    if record.phone:
        keys.add(f"p:{record.phone}")
    return frozenset(keys)
