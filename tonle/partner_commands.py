"""``tonle partners``: create partners, issue, rotate and revoke their API keys, list them;
register the operations they may send by hash (trusted documents)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from tonle.database import CommandFailure, clear_failures, database_option, run_on_database

EXAMPLES = """\
examples:
  tonle partners create ngo-cash --name "Cash for Families" --kind development_partner \\
      --contact ops@example.org --key-days 365
  tonle partners create nssf --name "National Social Security Fund" --kind operator \\
      --operator nssf --xroad-client CAMBODIA/GOV/NSSF/MEMBERS
  tonle partners rotate-key ngo-cash --grace-days 7
  tonle partners revoke-key 3f9a0c1b2d4e
  tonle partners list
  tonle partners documents add ngo-cash eligibility.graphql --name "Eligibility check"
  tonle partners documents list ngo-cash
  tonle partners documents remove ngo-cash 5f1c2a9e

A key is printed once, when it is made; only its SHA-256 is stored.
"""

DOCUMENT_EXAMPLES = """\
examples:
  tonle partners documents add ngo-cash eligibility.graphql --name "Eligibility check"
  tonle partners documents list ngo-cash
  tonle partners documents remove ngo-cash 5f1c2a9e

A document is registered exactly as the file holds it: its hash is the file's SHA-256
(sha256sum FILE), and a client that sends the document itself must send it byte for byte.
The partner may then send only the hash, in extensions.persistedQuery (Apollo's format);
an agreement with 'trusted_documents: required' runs nothing else. Gateways know of a
change within seconds.
"""

KINDS = ("operator", "ministry", "development_partner", "analyst", "registry_staff")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    partners = sub.add_parser(
        "partners",
        help="partners and their API keys",
        description="Partners are the organisations that call Tonle; each has API keys "
        "(several, for rotation) and optionally a CamDX client subsystem.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = partners.add_subparsers(dest="partners_command", required=True)

    create = commands.add_parser("create", help="add a partner (and issue its first key)")
    create.add_argument("code", help="short code, e.g. ngo-cash")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=KINDS)
    create.add_argument("--contact")
    create.add_argument("--operator", help="the operator this partner is (nssf, idpoor, ...)")
    create.add_argument(
        "--xroad-client", metavar="INSTANCE/CLASS/MEMBER/SUBSYSTEM", help="its CamDX subsystem"
    )
    create.add_argument("--no-key", action="store_true", help="issue no key now")
    _expiry_options(create)
    create.set_defaults(func=create_command)

    rotate = commands.add_parser(
        "rotate-key", help="issue a new key; the others stop after a grace period"
    )
    rotate.add_argument("code")
    rotate.add_argument(
        "--grace-days", type=float, default=7, help="days the old keys keep working (default 7)"
    )
    _expiry_options(rotate)
    rotate.set_defaults(func=rotate_command)

    revoke = commands.add_parser("revoke-key", help="stop one key at once")
    revoke.add_argument("key_id", help="the key's id, as `tonle partners list` shows it")
    revoke.set_defaults(func=revoke_command)

    listing = commands.add_parser("list", help="partners and their keys (never the keys)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_command)

    documents = commands.add_parser(
        "documents",
        help="the operations a partner registered (trusted documents)",
        description="Trusted documents: the GraphQL operations a partner registers, found by "
        "their SHA-256. The partner may send only the hash; an agreement with "
        "'trusted_documents: required' runs nothing else for that partner and purpose.",
        epilog=DOCUMENT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    document_commands = documents.add_subparsers(dest="documents_command", required=True)
    add = document_commands.add_parser("add", help="register a document from a file")
    add.add_argument("code", help="the partner's code")
    add.add_argument("file", help="a .graphql file with the operation(s), as the partner sends it")
    add.add_argument("--name", help="what it is for (default: its operation's name)")
    add.set_defaults(func=add_document_command)
    shown = document_commands.add_parser("list", help="the partner's documents")
    shown.add_argument("code")
    shown.add_argument("--json", action="store_true", help="with each document's text")
    shown.set_defaults(func=list_documents_command)
    remove = document_commands.add_parser("remove", help="stop accepting a document")
    remove.add_argument("code")
    remove.add_argument("sha256", metavar="HASH", help="its SHA-256 (or its first 8+ digits)")
    remove.set_defaults(func=remove_document_command)

    for parser in (create, rotate, revoke, listing, add, shown, remove):
        database_option(parser)


def _expiry_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--key-expires", metavar="YYYY-MM-DD", help="the new key's last day")
    group.add_argument("--key-days", type=float, metavar="N", help="the new key lasts N days")
    parser.add_argument("--label", help="a note on the new key (where it is used)")


def _expiry(args: argparse.Namespace) -> dt.datetime | None:
    if args.key_days is not None:
        if args.key_days <= 0:
            raise CommandFailure("--key-days must be more than 0")
        return dt.datetime.now(dt.UTC) + dt.timedelta(days=args.key_days)
    if args.key_expires:
        try:
            day = dt.date.fromisoformat(args.key_expires)
        except ValueError:
            raise CommandFailure(
                f"--key-expires {args.key_expires!r} is not a date written YYYY-MM-DD"
            ) from None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
    return None


def _show_key(issued: Any) -> None:
    expires = issued.expires_at.isoformat(timespec="minutes") if issued.expires_at else "never"
    print(f"API key for {issued.partner} (id {issued.key_id}, expires {expires}):")
    print(f"  {issued.key}")
    print("It is shown this once and stored only as a hash: give it to the partner now.")


@clear_failures("tonle partners create")
def create_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import create_partner, issue_key

    expires = _expiry(args)

    async def work(sessions: Any) -> Any:
        partner = await create_partner(
            sessions,
            args.code,
            args.name,
            args.kind,
            contact=args.contact,
            operator=args.operator,
            xroad_client=args.xroad_client,
        )
        issued = None
        if not args.no_key:
            issued = await issue_key(sessions, partner.code, expires_at=expires, label=args.label)
        return partner, issued

    try:
        partner, issued = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    print(f"created partner {partner.code} ({partner.kind})")
    if issued is not None:
        _show_key(issued)
    return 0


@clear_failures("tonle partners rotate-key")
def rotate_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import rotate_key

    expires = _expiry(args)
    if args.grace_days < 0:
        raise CommandFailure("--grace-days cannot be negative")

    async def work(sessions: Any) -> Any:
        return await rotate_key(
            sessions,
            args.code,
            grace=dt.timedelta(days=args.grace_days),
            expires_at=expires,
            label=args.label,
        )

    try:
        issued = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    _show_key(issued)
    print(f"The partner's other keys stop working within {args.grace_days:g} days.")
    return 0


@clear_failures("tonle partners revoke-key")
def revoke_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import revoke_key

    async def work(sessions: Any) -> Any:
        return await revoke_key(sessions, args.key_id)

    try:
        key = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    print(f"revoked key {key.key_id} of {key.partner}; gateways forget it within seconds")
    return 0


@clear_failures("tonle partners list")
def list_command(args: argparse.Namespace) -> int:
    from policies.repository import list_partners

    partners = run_on_database(args, list_partners, what="the partners")
    now = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    for partner in partners:
        rows.append(
            {
                "code": partner.code,
                "name": partner.name,
                "kind": partner.kind,
                "operator": partner.operator,
                "xroad_client": partner.xroad_client,
                "contact": partner.contact,
                "keys": [
                    {
                        "key_id": key.key_id,
                        "label": key.label,
                        "created_at": key.created_at.isoformat(timespec="seconds"),
                        "expires_at": key.expires_at.isoformat(timespec="seconds")
                        if key.expires_at
                        else None,
                        "state": "revoked"
                        if key.revoked_at
                        else ("active" if key.usable(now) else "expired"),
                    }
                    for key in partner.keys
                ],
            }
        )
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for row in rows:
        extra = ", ".join(
            f"{k} {row[k]}" for k in ("operator", "xroad_client") if row[k] is not None
        )
        print(
            f"{row['code']:<16} {row['kind']:<20} {row['name']}" + (f" ({extra})" if extra else "")
        )
        for key in row["keys"]:
            expires = f", expires {key['expires_at']}" if key["expires_at"] else ""
            label = f" [{key['label']}]" if key["label"] else ""
            print(f"    key {key['key_id']}  {key['state']}{expires}{label}")
    if not rows:
        print("no partners yet: tonle partners create CODE --name NAME --kind KIND")
    return 0


@clear_failures("tonle partners documents add")
def add_document_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.trusted_documents import add_document

    try:
        with open(args.file, encoding="utf-8", newline="") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise CommandFailure(f"cannot read {args.file}: {error}") from None

    async def work(sessions: Any) -> Any:
        return await add_document(sessions, args.code, text, name=args.name)

    try:
        document, added = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    name = f" ({document.name})" if document.name else ""
    if added:
        print(f"registered {document.sha256} for {document.partner}{name}")
    else:
        print(f"{document.partner} already registered {document.sha256}{name}; nothing changed")
    return 0


@clear_failures("tonle partners documents list")
def list_documents_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.trusted_documents import list_documents

    async def work(sessions: Any) -> Any:
        return await list_documents(sessions, args.code)

    try:
        documents = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    if args.json:
        rows = [
            {
                "sha256": d.sha256,
                "name": d.name,
                "created_at": d.created_at.isoformat(timespec="seconds"),
                "document": d.document,
            }
            for d in documents
        ]
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    for d in documents:
        added = d.created_at.isoformat(timespec="minutes")
        print(f"{d.sha256}  {added}  {d.name or ''}".rstrip())
    if not documents:
        print(
            f"{args.code} has registered no documents: "
            f"tonle partners documents add {args.code} FILE.graphql"
        )
    return 0


@clear_failures("tonle partners documents remove")
def remove_document_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.trusted_documents import remove_document

    async def work(sessions: Any) -> Any:
        return await remove_document(sessions, args.code, args.sha256)

    try:
        document = run_on_database(args, work, what="the partners")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    print(f"removed {document.sha256} of {document.partner}; gateways forget it within seconds")
    return 0
