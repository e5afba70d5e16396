"""What a mapping file can get wrong, located by file, line and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MappingProblem:
    """One mistake in one mapping file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class MappingError(Exception):
    """One or more mapping files are invalid; nothing was loaded."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = problems
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{count} {noun} in the mapping files:\n{lines}")
