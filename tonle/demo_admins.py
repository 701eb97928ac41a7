"""The demo's policy admins: one account per role, with fresh passwords at every start.

Their passwords live only as long as the demo, like the partners' keys: written to
``demo-credentials.json`` (mode 0600) and printed, never stored but as argon2 hashes.
"""

from __future__ import annotations

import secrets

from policies.console.accounts import create_user, enable, list_users, set_password, unlock
from policies.console.trail import write
from policies.repository import Sessions

# username, display name, roles. The approver may also draft, so the demo can show a draft
# its own author cannot approve.
DEMO_ADMINS = (
    ("editor", "Demo editor", ("editor",)),
    ("approver", "Demo approver", ("approver", "editor")),
    ("auditor", "Demo auditor", ("auditor",)),
)
BY = "tonle demo"


async def set_up_admins(sessions: Sessions) -> dict[str, dict[str, object]]:
    """Every demo admin with a new password (earlier sessions end); username -> credentials."""
    existing = {account.username for account in await list_users(sessions)}
    out: dict[str, dict[str, object]] = {}
    for username, display_name, roles in DEMO_ADMINS:
        password = secrets.token_urlsafe(15)
        if username in existing:
            await set_password(sessions, username, password)
            await enable(sessions, username)
            await unlock(sessions, username)
            action = "account_password"
        else:
            await create_user(sessions, username, password, roles, display_name=display_name)
            action = "account_create"
        await write(
            sessions,
            username=BY,
            action=action,
            target=f"account {username}",
            details={"roles": list(roles)},
            client_address="command line",
        )
        out[username] = {"password": password, "roles": list(roles)}
    return out
