"""``tonle admin``: serve the policy console alone, and manage its accounts.

The console is also mounted at ``/admin`` on the gateway's port by ``tonle gateway
--admin`` (the demo does that). Account commands write the admin trail like the
console's pages do, naming the operating-system user and "command line" as the place.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from tonle.database import CommandFailure, clear_failures, database_option, run_on_database

ROLES = ("editor", "approver", "auditor")
CONSOLE_PATH = "/admin"
EXAMPLES = """\
examples:
  tonle admin create-user sokha --role editor --display-name "Sokha Chan"
  tonle admin create-user dara --role approver --role editor
  printf '%s\\n' "$PASSWORD" | tonle admin create-user audit1 --role auditor --password-stdin
  tonle admin list-users
  tonle admin unlock sokha
  tonle admin disable dara
  tonle admin --port 4100              # the console alone: http://127.0.0.1:4100/admin/

Roles: editor drafts changes and manages partners' keys; approver approves and publishes
other admins' drafts and proposes rollbacks; auditor reads the access log and the admin
trail. An account may hold several. Passwords are asked for (twice) or read from stdin,
never given as an argument (it would stay in the shell's history and the process list).
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser(
        "admin",
        help="the policy console: serve it, manage its accounts",
        description="Without a command, serve the policy console alone at /admin.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    admin.add_argument("--host", default="127.0.0.1")
    admin.add_argument("--port", type=int, default=4100)
    admin.add_argument(
        "--supergraph",
        help="the supergraph drafts are checked against (default: TONLE_SUPERGRAPH)",
    )
    database_option(admin)
    admin.set_defaults(func=serve_command)
    commands = admin.add_subparsers(dest="admin_command")

    # No abbreviations: --password must never be taken for --password-stdin.
    create = commands.add_parser("create-user", help="a new admin account", allow_abbrev=False)
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, choices=ROLES)
    create.add_argument("--display-name")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    database_option(create)
    create.set_defaults(func=create_user_command)

    password = commands.add_parser(
        "set-password", help="a new password (ends its sessions)", allow_abbrev=False
    )
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    database_option(password)
    password.set_defaults(func=set_password_command)

    listing = commands.add_parser("list-users", help="every account, its roles and state")
    database_option(listing)
    listing.set_defaults(func=list_users_command)

    for name, what, func in (
        ("unlock", "lift a lock-out after failed sign-ins", "unlock_command"),
        ("disable", "stop an account at once (its sessions end)", "disable_command"),
        ("enable", "let a disabled account sign in again", "enable_command"),
    ):
        command = commands.add_parser(name, help=what)
        command.add_argument("username")
        database_option(command)
        command.set_defaults(func=globals()[func])


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("The same again: ") != first:
        raise CommandFailure("the two passwords differ; nothing was changed")
    return first


def _operator() -> str:
    return f"{getpass.getuser()} (command line)"[:64]


async def _trail(sessions: Any, action: str, target: str, details: dict[str, Any]) -> None:
    from policies.console.trail import write

    await write(
        sessions,
        username=_operator(),
        action=action,
        target=target,
        details=details,
        client_address="command line",
    )


def _account_command(
    args: argparse.Namespace, action: str, change: Callable[[Any, str], Any], done: str
) -> int:
    from policies.console.accounts import AccountError

    async def work(sessions: Any) -> None:
        try:
            await change(sessions, args.username)
        except AccountError as error:
            raise CommandFailure(str(error)) from None
        await _trail(sessions, action, f"account {args.username}", {})

    run_on_database(args, work, what="the admin accounts")
    print(done.format(username=args.username), file=sys.stderr)
    return 0


@clear_failures("tonle admin create-user")
def create_user_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import AccountError, check_password, check_roles, create_user

    try:
        roles = check_roles(args.role)
        password = _password(args)
        check_password(password, args.username)
    except AccountError as error:
        raise CommandFailure(str(error)) from None

    async def work(sessions: Any) -> None:
        try:
            await create_user(
                sessions, args.username, password, roles, display_name=args.display_name
            )
        except AccountError as error:
            raise CommandFailure(str(error)) from None
        await _trail(sessions, "account_create", f"account {args.username}", {"roles": list(roles)})

    run_on_database(args, work, what="the admin accounts")
    print(
        f"created {args.username} ({', '.join(roles)}); sign in at {CONSOLE_PATH}/login",
        file=sys.stderr,
    )
    return 0


@clear_failures("tonle admin set-password")
def set_password_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import AccountError, check_password, set_password

    password = _password(args)
    try:
        check_password(password, args.username)
    except AccountError as error:
        raise CommandFailure(str(error)) from None
    return _account_command(
        args,
        "account_password",
        lambda sessions, name: set_password(sessions, name, password),
        "new password for {username}; its open sessions ended",
    )


@clear_failures("tonle admin list-users")
def list_users_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import list_users
    from policies.repository import utcnow

    accounts = run_on_database(args, list_users, what="the admin accounts")
    now = utcnow()
    print(f"{'USERNAME':<20} {'ROLES':<28} STATE")
    for account in accounts:
        if account.disabled_at is not None:
            state = f"disabled since {account.disabled_at:%Y-%m-%d %H:%M} UTC"
        elif account.locked_until is not None and account.locked_until > now:
            state = f"locked until {account.locked_until:%Y-%m-%d %H:%M} UTC"
        else:
            state = "active"
        print(f"{account.username:<20} {', '.join(account.roles):<28} {state}")
    if not accounts:
        print("no accounts yet: tonle admin create-user USERNAME --role editor", file=sys.stderr)
    return 0


@clear_failures("tonle admin unlock")
def unlock_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import unlock

    return _account_command(args, "account_unlock", unlock, "{username} may sign in again")


@clear_failures("tonle admin disable")
def disable_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import disable

    return _account_command(
        args, "account_disable", disable, "{username} is disabled; its sessions ended"
    )


@clear_failures("tonle admin enable")
def enable_command(args: argparse.Namespace) -> int:
    from policies.console.accounts import enable

    return _account_command(args, "account_enable", enable, "{username} may sign in again")


def console_mount(
    config: Any,
) -> tuple[Any, Callable[[], AbstractAsyncContextManager[None]]]:
    """The console as a route at ``/admin`` and the lifespan its host must run (a mounted
    app's own lifespan is not run by Starlette)."""
    from starlette.routing import Mount

    from policies.console import create_console_app

    app = create_console_app(config)

    @asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        async with app.router.lifespan_context(app):
            yield

    return Mount(CONSOLE_PATH, app), lifespan


def serve_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    from policies.console import ConsoleConfig
    from tonle.serving import Service, ServiceGroup
    from tonle.serving import run as serve_forever

    config = ConsoleConfig.from_env(args.database)
    if args.supergraph:
        config = replace(config, supergraph_path=args.supergraph)
    if not config.supergraph_path:
        print(
            "note: no supergraph (--supergraph FILE or TONLE_SUPERGRAPH): drafts are not "
            "checked against the API schema and the agreement editor has no schema to show",
            file=sys.stderr,
        )
    mount, lifespan = console_mount(config)

    @asynccontextmanager
    async def outer_lifespan(_: Starlette) -> AsyncIterator[None]:
        async with lifespan():
            yield

    app = Starlette(
        routes=[Route("/", lambda _: RedirectResponse(CONSOLE_PATH + "/")), mount],
        lifespan=outer_lifespan,
    )

    async def run() -> None:
        group = ServiceGroup()
        group.install_signal_handlers()
        url = await group.start_process(Service("console", app, args.port, args.host))
        print(f"Tonle policy console on {url}{CONSOLE_PATH}/", file=sys.stderr)
        await group.wait()

    serve_forever(run())
    return 0
