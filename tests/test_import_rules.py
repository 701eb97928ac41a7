"""The import rules of docs/architecture.md, read from the source itself."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gateway", "subgraphs", "identity_store", "policies", "sandbox", "tonle", "analysts")


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of the nodes under ``if TYPE_CHECKING:``: imports for annotations only."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def imports_of(package: str) -> dict[str, set[str]]:
    """Module file -> every module it imports at run time (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_only(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: str, allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{module} imports {name}"
        for module, names in imports_of(package).items()
        for name in sorted(names)
        if (name == forbidden or name.startswith(forbidden + "."))
        and name not in allowed
        and not any(module.startswith(a) for a in allowed)
    ]


def test_subgraphs_never_import_the_gateway() -> None:
    assert offenders("subgraphs", "gateway") == []


def test_the_gateway_never_imports_a_subgraph_or_tonles_policies() -> None:
    # The gateway is general: it knows Tonle only through the AccessControl protocol.
    assert offenders("gateway", "subgraphs") == []
    allowed = ("policies", "policies.signing", "policies.nonces")  # signing its requests
    assert [
        o for o in offenders("gateway", "policies") if o.split(" imports ")[1] not in allowed
    ] == []


def test_policies_import_of_the_gateway_only_its_access_protocol() -> None:
    # The policy console (policies/console/) is an edge application, like tonle/: it shows
    # the API schema and previews a partner's answer through a real in-process gateway.
    found = offenders("policies", "gateway", ("gateway.access", "policies/console/"))
    assert found == []


def test_nothing_in_policies_imports_the_console() -> None:
    # So the enforcement path (gateway, subgraphs) never loads the console, nor through it
    # the gateway itself.
    assert offenders("policies", "policies.console", ("policies/console/",)) == []


def test_nothing_in_production_depends_on_the_sandboxes() -> None:
    for package in ("gateway", "subgraphs", "identity_store", "policies"):
        assert offenders(package, "sandbox") == [], package
    demo_only = [o for o in offenders("tonle", "sandbox") if not o.startswith("tonle/demo")]
    assert demo_only == []


def test_analysts_reach_tonle_only_through_the_gateway() -> None:
    # Coverage and exports are fetched over HTTP under the analyst's own agreement; importing
    # a subgraph, the registry or an operator's system would go round the policies.
    for forbidden in ("gateway", "subgraphs", "sandbox", "policies"):
        assert offenders("analysts", forbidden) == []
    assert offenders("analysts", "identity_store", allowed=("identity_store.gazetteer",)) == []
