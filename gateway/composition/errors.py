"""Composition errors: every problem found, each with a code, what is wrong, and where."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CompositionIssue:
    """One reason the subgraphs do not compose."""

    code: str
    message: str
    locations: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" [{', '.join(self.locations)}]" if self.locations else ""
        return f"{self.code}: {self.message}{where}"


class CompositionError(Exception):
    """The subgraphs do not compose; ``issues`` lists every problem found."""

    def __init__(self, issues: list[CompositionIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"the subgraphs do not compose ({len(issues)} problem(s)):\n{lines}")
