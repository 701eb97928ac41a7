"""``tonle policies``: check, import, export, publish and roll back access policies; show a view."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from tonle.database import CommandFailure, clear_failures, database_option, run_on_database

EXAMPLES = """\
examples:
  tonle policies validate policy.yaml
  tonle policies import policy.yaml --reason "NGO pilot in Takeo" --publish
  tonle policies view --partner ngo-cash --purpose eligibility_check
  tonle policies list
  tonle policies export --version 3 --out policy-v3.yaml
  tonle policies rollback 3 --reason "v4 hid a field IDPoor relies on"

Policies are checked against the API schema of a supergraph (--supergraph FILE, default
TONLE_SUPERGRAPH, else the demo's .tonle/supergraph.graphql). The format: docs/policies.md.
"""

DEMO_SUPERGRAPH = Path(".tonle/supergraph.graphql")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policies = sub.add_parser(
        "policies",
        help="access policies: validate, import, publish, roll back, view",
        description="Access policies decide which partner sees which field for which purpose. "
        "Every change is a new numbered version; gateways enforce the published one.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = policies.add_subparsers(dest="policies_command", required=True)

    validate = commands.add_parser("validate", help="check a policy file (nothing is stored)")
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=validate_command)

    imported = commands.add_parser("import", help="store a policy file as a new version")
    imported.add_argument("file", type=Path)
    imported.add_argument("--reason", required=True, help="why this change (kept with it)")
    imported.add_argument("--publish", action="store_true", help="publish it at once")
    imported.set_defaults(func=import_command)

    export = commands.add_parser("export", help="print a version as a policy file")
    export.add_argument("--version", type=int, help="default: the published version")
    export.add_argument("--out", type=Path, help="write here instead of stdout")
    export.set_defaults(func=export_command)

    publish = commands.add_parser("publish", help="make a version the one gateways enforce")
    publish.add_argument("version", type=int, nargs="?", help="default: the latest version")
    publish.add_argument("--reason", required=True)
    publish.set_defaults(func=publish_command)

    rollback = commands.add_parser(
        "rollback", help="publish an old version's content again, as a new version"
    )
    rollback.add_argument("version", type=int)
    rollback.add_argument("--reason", required=True)
    rollback.set_defaults(func=rollback_command)

    listing = commands.add_parser("list", help="versions, newest first")
    listing.set_defaults(func=list_command)

    view = commands.add_parser(
        "view", help="the schema one partner sees for one purpose, as SDL, masks marked"
    )
    view.add_argument("--partner", required=True)
    view.add_argument("--purpose", required=True)
    view.add_argument("--version", type=int, help="default: the published version")
    view.set_defaults(func=view_command)

    for parser in (validate, imported, export, publish, rollback, listing, view):
        database_option(parser)
    for parser in (validate, imported, publish, view):
        parser.add_argument(
            "--supergraph",
            type=Path,
            help="the supergraph whose API schema policies are checked against",
        )
    for parser in (imported, publish, rollback):
        parser.add_argument("--by", help="who makes the change (default: your login name)")


def _who(args: argparse.Namespace) -> str:
    return str(args.by or os.environ.get("TONLE_ADMIN") or getpass.getuser())


def _gateway(args: argparse.Namespace) -> Any:
    """A gateway over ``--supergraph`` (or the default), or None when there is none."""
    from gateway import Gateway, GatewayError

    given = args.supergraph or os.environ.get("TONLE_SUPERGRAPH")
    path = Path(given) if given else DEMO_SUPERGRAPH
    if not path.is_file():
        if given:
            raise CommandFailure(f"there is no supergraph file at {path}")
        return None
    try:
        return Gateway.from_sdl(path.read_text(encoding="utf-8"))
    except GatewayError as error:
        raise CommandFailure(f"{path}: {error}") from None


def _read(file: Path) -> tuple[Any, str]:
    from policies.document import PolicyFileError, parse_policy

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandFailure(f"cannot read {file}: {error.strerror}") from None
    try:
        return parse_policy(text, str(file)), text
    except PolicyFileError as error:
        raise CommandFailure("the policy file has problems:\n" + str(error)) from None


def _partners(args: argparse.Namespace) -> dict[str, Any] | None:
    from policies.repository import list_partners

    try:
        found = run_on_database(args, list_partners, what="the partners")
    except CommandFailure:
        return None
    return {p.code: p.facts for p in found}


def _check(args: argparse.Namespace, document: Any, *, strict: bool) -> bool:
    """Print problems; True when the policy may be stored. Without a schema, names go unchecked."""
    from policies.check import check_policy

    gateway = _gateway(args)
    if gateway is None:
        print(
            "note: no supergraph to check field names against (give --supergraph FILE); "
            "only the file's form was checked",
            file=sys.stderr,
        )
        return True
    result = check_policy(document, gateway.api_schema, partners=_partners(args))
    for problem in result.errors:
        print(f"error: {problem}", file=sys.stderr)
    for problem in result.warnings:
        print(f"warning: {problem}", file=sys.stderr)
    if result.errors and strict:
        return False
    return result.ok


@clear_failures("tonle policies validate")
def validate_command(args: argparse.Namespace) -> int:
    document, _ = _read(args.file)
    if not _check(args, document, strict=True):
        return 1
    print(
        f"{args.file}: valid ({len(document.agreements)} agreements, "
        f"{len(document.purposes)} purposes)"
    )
    return 0


@clear_failures("tonle policies import")
def import_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import add_version, publish

    document, text = _read(args.file)
    if not _check(args, document, strict=True):
        raise CommandFailure("not imported: fix the errors above")

    async def work(sessions: Any) -> int:
        number = await add_version(
            sessions, document, created_by=_who(args), reason=args.reason, source=text
        )
        if args.publish:
            await publish(sessions, number, by=_who(args), reason=args.reason)
        return number

    try:
        number = run_on_database(args, work, what="the policy versions")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    state = "published" if args.publish else "not published (tonle policies publish)"
    print(f"stored as version {number}, {state}")
    return 0


@clear_failures("tonle policies export")
def export_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import published, version_document

    async def work(sessions: Any) -> Any:
        number = args.version
        if number is None:
            current = await published(sessions)
            if current is None:
                raise CommandFailure("nothing is published yet; give --version N")
            number = current.number
        return await version_document(sessions, number)

    try:
        stored = run_on_database(args, work, what="the policy versions")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    text = stored.source or stored.document.to_yaml()
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote version {stored.number} to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


@clear_failures("tonle policies publish")
def publish_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import latest_version, publish, version_document

    async def load(sessions: Any) -> Any:
        number = args.version if args.version is not None else await latest_version(sessions)
        if number is None:
            raise CommandFailure("there is no version yet: tonle policies import FILE")
        return await version_document(sessions, number)

    try:
        stored = run_on_database(args, load, what="the policy versions")
        if not _check(args, stored.document, strict=True):
            raise CommandFailure(
                f"version {stored.number} does not fit this supergraph; not published"
            )

        async def work(sessions: Any) -> None:
            await publish(sessions, stored.number, by=_who(args), reason=args.reason)

        run_on_database(args, work, what="the policy versions")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    print(f"published version {stored.number}; gateways enforce it within seconds")
    return 0


@clear_failures("tonle policies rollback")
def rollback_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import rollback

    async def work(sessions: Any) -> int:
        return await rollback(sessions, args.version, by=_who(args), reason=args.reason)

    try:
        number = run_on_database(args, work, what="the policy versions")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    print(f"version {args.version} published again as version {number}")
    return 0


@clear_failures("tonle policies list")
def list_command(args: argparse.Namespace) -> int:
    from policies.repository import list_versions, published

    async def work(sessions: Any) -> Any:
        return await list_versions(sessions), await published(sessions)

    versions, current = run_on_database(args, work, what="the policy versions")
    if not versions:
        print("no policy versions yet: tonle policies import FILE --reason ...")
    for version in versions:
        mark = "*" if current and current.number == version.number else " "
        based = f" (= v{version.based_on})" if version.based_on else ""
        print(
            f"{mark} v{version.number:<4} {version.created_at:%Y-%m-%d %H:%M} "
            f"{version.created_by:<12} {version.reason}{based}"
        )
    if current is not None:
        print(f"* published: version {current.number}")
    return 0


@clear_failures("tonle policies view")
def view_command(args: argparse.Namespace) -> int:
    from policies.errors import PolicyError
    from policies.repository import list_partners, published, version_document

    gateway = _gateway(args)
    if gateway is None:
        raise CommandFailure(
            "give --supergraph FILE: a view is a cut of that supergraph's API schema"
        )

    async def work(sessions: Any) -> Any:
        number = args.version
        if number is None:
            current = await published(sessions)
            if current is None:
                raise CommandFailure("nothing is published yet; give --version N")
            number = current.number
        partners = {p.code: p for p in await list_partners(sessions)}
        return await version_document(sessions, number), partners

    try:
        stored, partners = run_on_database(args, work, what="the policy versions")
    except PolicyError as error:
        raise CommandFailure(str(error)) from None
    partner = partners.get(args.partner)
    if partner is None:
        raise CommandFailure(f"no partner has code {args.partner!r}; tonle partners list")
    agreement = stored.document.agreement(args.partner, args.purpose)
    if agreement is None:
        theirs = ", ".join(stored.document.purposes_of(args.partner)) or "none"
        raise CommandFailure(
            f"version {stored.number} has no agreement for {args.partner} and "
            f"{args.purpose!r}; its purposes: {theirs}"
        )
    sys.stdout.write(render_view(gateway, stored, partner.facts, agreement))
    return 0


def render_view(gateway: Any, stored: Any, partner: Any, agreement: Any) -> str:
    """The partner's schema as SDL, each masked field marked, its scope and limits on top."""
    from policies.console.preview import render_view as view_sdl

    return view_sdl(
        gateway, stored.document, partner, agreement, version=f"policy version {stored.number}"
    )
