"""Exceptions raised by fraudgraph. The CLI turns each into one line on stderr and exit code 1."""

from __future__ import annotations

from dataclasses import dataclass


class FraudGraphError(Exception):
    """Base class of every error fraudgraph raises on purpose.

    ``setting`` names the setting the user can change to fix it ("config", "note", "engine", ...),
    in the library's words; a front end (the CLI's flags, the workbench's fields) says where that
    setting is. Messages themselves never name a command-line flag.
    """

    def __init__(self, *args: object, setting: str | None = None) -> None:
        super().__init__(*args)
        self.setting = setting


@dataclass(frozen=True)
class Problem:
    """One rejected value: where it is and what was expected."""

    file: str
    line: int | None  # 1-based line in the file (header is line 1); None for file-level problems
    column: str | None
    value: object
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        col = f" column {self.column}:" if self.column else ""
        return f"{where}:{col} {self.message}"


class InputError(FraudGraphError):
    """Input data broke the data contract; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem], *, limit: int = 20):
        self.problems = list(problems)
        self.total = len(self.problems)  # the real count when only the first problems are listed
        shown = "; ".join(str(p) for p in self.problems[:limit])
        more = len(self.problems) - limit
        if more > 0:
            shown += f"; ... and {more} more problem(s)"
        n = len(self.problems)
        super().__init__(f"{n} problem(s) in input: {shown}" if n > 1 else shown)


class PolicyError(FraudGraphError):
    """The policy file is invalid (unknown key, bad threshold, overlapping tiers)."""


class NotFoundError(FraudGraphError):
    """An account, ring or sweep named by the user does not exist in the workspace."""


class WorkspaceError(FraudGraphError):
    """The workspace cannot be opened or is in an unexpected state (schema version, corruption)."""


class LockedError(FraudGraphError):
    """Another sweep holds the workspace lock, or the workspace is taking its first load; try again
    later (CLI exit code 75)."""


class CypherError(FraudGraphError):
    """A named Cypher file is missing, malformed, or called with missing or extra parameters."""
