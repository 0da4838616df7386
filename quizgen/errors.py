"""Errors are data: every problem carries its file and line, and nothing raises on the first one.

Validation collects `Problem`s and the CLI prints them all, compiler style, as
`path:line: message`.  `QuizgenError` is the one exception type that reaches the
command line; it derives from click's so that click prints it without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import click


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located for a human to fix."""

    path: str  # relative to the project root, with forward slashes
    line: int  # 1-based; 0 when the problem is about the whole file
    message: str
    rule: str = "error"  # lint rule name for warnings; "error" for schema problems
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        tag = f" [{self.rule}]" if self.severity == "warning" else ""
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {kind}{self.message}{tag}"

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.message)


class QuizgenError(click.ClickException):
    """A user-facing failure: bad input, an unusable option, a failed write.

    Exit code 1 means "the input is invalid"; click's own usage errors keep 2.
    """

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = sorted(problems or [], key=Problem.sort_key)

    def __reduce__(self):  # survive the trip back from a worker process with its problems
        return (type(self), (self.message, self.problems))

    def format_message(self) -> str:
        lines = [str(p) for p in self.problems]
        lines.append(self.message)
        return "\n".join(lines)

    def show(self, file=None) -> None:  # click prefixes "Error: "; we print compiler-style lines
        click.echo(self.format_message(), err=True)


class UsageProblem(QuizgenError):
    """A command-line option that cannot work for this project (e.g. `--lang kr`): exit 2, like click's."""

    exit_code = 2
