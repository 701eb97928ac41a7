"""``tonle audit``: verify the access log, answer "who saw this person's data", make keys."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from tonle.database import CommandFailure, clear_failures, database_option, run_on_database

T = TypeVar("T")

# Where `tonle demo` keeps the access log's key pair, beside its database.
DEMO_PUBLIC_KEY = Path(".tonle/secrets/access-log-public-key.pem")

EXAMPLES = """\
examples:
  tonle audit keygen --out /etc/tonle/audit-keys
  TONLE_AUDIT_SIGNING_KEY=/etc/tonle/audit-keys/access-log-signing-key.pem tonle gateway ...
  tonle audit verify --public-key /etc/tonle/audit-keys/access-log-public-key.pem
  tonle audit who-saw 123456789010 --since 2026-01-01
  tonle audit who-saw HH-00012 --household --json

verify exits 0 when the log is intact, 1 when it is not (each problem is printed with its
seq), 2 when it cannot be checked (database or key unreadable).
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser(
        "audit",
        help="the access log: verify it, who saw a person's data, signing keys",
        description="The access log records every request that returned personal data, "
        "hash-chained and with signed checkpoints (docs/access-log.md).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = audit.add_subparsers(dest="audit_command", required=True)

    verify = commands.add_parser(
        "verify", help="recompute the chain and check every checkpoint's signature"
    )
    database_option(verify)
    verify.add_argument(
        "--public-key",
        action="append",
        type=Path,
        metavar="FILE",
        help="PEM public key that signed checkpoints; repeat for every key since a rotation "
        "(default: TONLE_AUDIT_PUBLIC_KEY, else the public half of TONLE_AUDIT_SIGNING_KEY)",
    )
    verify.set_defaults(func=verify_command)

    who = commands.add_parser("who-saw", help="every request that returned one person's data")
    who.add_argument("subject", metavar="SPID", help="the person's SPID (or, with --household, "
                     "a household ID)")  # fmt: skip
    who.add_argument("--household", action="store_true", help="SPID is a household ID")
    who.add_argument("--since", type=_since, metavar="DATE", help="YYYY-MM-DD or an ISO time")
    who.add_argument("--json", action="store_true", help="print JSON")
    database_option(who)
    who.set_defaults(func=who_saw_command)

    keygen = commands.add_parser("keygen", help="generate an Ed25519 checkpoint signing key pair")
    keygen.add_argument("--out", type=Path, required=True, metavar="DIR")
    keygen.set_defaults(func=keygen_command)


def _since(value: str) -> dt.datetime:
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date (YYYY-MM-DD) or an ISO time (2026-11-30T08:00:00+07:00)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@clear_failures("tonle audit verify")
def verify_command(args: argparse.Namespace) -> int:
    from policies.audit import load_public_key, public_key_from_env, verify

    def keys() -> list[Any]:
        if args.public_key:
            return [load_public_key(path) for path in args.public_key]
        key = public_key_from_env()
        demo = args.database is None and not os.environ.get("TONLE_DATABASE_URL")
        if key is None and demo and DEMO_PUBLIC_KEY.is_file():
            # The demo's own database, checked with the key the demo made for it.
            print(f"checking signatures with the demo's key, {DEMO_PUBLIC_KEY}", file=sys.stderr)
            key = load_public_key(DEMO_PUBLIC_KEY)
        return [key] if key is not None else []

    report = _run(args, lambda sessions: verify(sessions, _guard(keys)))
    for finding in report.findings:
        print(f"seq {finding.seq}: {finding.kind}: {finding.message}")
    if report.total_findings > len(report.findings):
        print(f"... and {report.total_findings - len(report.findings)} more problems")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not report.intact:
        print(
            f"access log NOT intact: {report.total_findings} problems in {report.records} "
            f"records (last seq {report.last_seq})"
        )
        return 1
    signed = (
        f"{report.verified_checkpoints} checkpoints verified, the last over record "
        f"{report.last_verified_checkpoint}"
        if report.verified_checkpoints
        else f"{report.checkpoints} checkpoints, none verified"
    )
    print(f"access log intact: {report.records} records, {signed}")
    return 0


@clear_failures("tonle audit who-saw")
def who_saw_command(args: argparse.Namespace) -> int:
    from identity_store import is_valid_spid
    from policies.audit import HOUSEHOLD, PERSON, AccessSummary, who_saw

    kind = HOUSEHOLD if args.household else PERSON
    if kind == PERSON and not is_valid_spid(args.subject):
        print(
            "tonle audit who-saw: that is not a valid SPID (12 digits, the last a Verhoeff "
            "check digit); give --household for a household ID",
            file=sys.stderr,
        )
        return 2

    async def every(sessions: Any) -> list[AccessSummary]:
        found: list[AccessSummary] = []
        after = None
        while True:
            page = await who_saw(
                sessions, args.subject, args.since, kind=kind, first=1000, after=after
            )
            found += page.accesses
            if not page.has_next_page:
                return found
            after = page.end_cursor

    accesses = _run(args, every)
    if args.json:
        document = {
            "subject": args.subject,
            "kind": kind,
            "since": args.since.isoformat() if args.since else None,
            "accesses": [_as_json(access) for access in accesses],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return 0
    since = f" since {args.since.isoformat()}" if args.since else ""
    print(f"{len(accesses)} requests returned the data of {kind} {args.subject}{since}")
    if accesses:
        header = ("seq", "at (UTC)", "partner", "purpose", "end user", "outcome", "policy",
                  "fields")  # fmt: skip
        rows = [header] + [
            (
                str(a.seq),
                a.at.strftime("%Y-%m-%d %H:%M:%S"),
                a.partner,
                a.purpose,
                a.end_user or "-",
                a.outcome,
                f"v{a.policy_version}" if a.policy_version is not None else "-",
                ", ".join(a.fields),
            )
            for a in accesses
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        for row in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1])
    return 0


def _as_json(access: Any) -> dict[str, Any]:
    return {
        "seq": access.seq,
        "at": access.at.isoformat(),
        "partner": access.partner,
        "purpose": access.purpose,
        "end_user": access.end_user,
        "operation_name": access.operation_name,
        "document_hash": access.document_hash,
        "policy_version": access.policy_version,
        "fields": list(access.fields),
        "outcome": access.outcome,
    }


def keygen_command(args: argparse.Namespace) -> int:
    from policies.audit import SIGNING_KEY_ENV, SigningKeyError, generate_key_pair

    try:
        files = generate_key_pair(args.out)
    except SigningKeyError as error:
        print(f"tonle audit keygen: {error}", file=sys.stderr)
        return 2
    print(f"wrote {files.private} (private, mode 0600) and {files.public}; key ID {files.key_id}")
    print(
        f"Give the gateways the private key through {SIGNING_KEY_ENV}={files.private} and keep "
        "it out of the database and its backups; verify with "
        f"`tonle audit verify --public-key {files.public}`."
    )
    return 0


def _guard(make: Callable[[], T]) -> T:
    from policies.audit import SigningKeyError

    try:
        return make()
    except SigningKeyError as error:
        raise CommandFailure(str(error)) from None


def _run(args: argparse.Namespace, work: Callable[[Any], Awaitable[T]]) -> T:
    return run_on_database(args, work, what="the access log")
