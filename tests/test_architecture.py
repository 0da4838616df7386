"""The pipeline's shape, kept by a test: writers are pure and know nothing of each other.

A writer takes the validated model and writes files.  Caching, changelogs (diff) and the command
line are the build's business; presentation shared between writers lives in quizgen/present.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import quizgen.writers as writers_pkg

FORBIDDEN = {"cache", "diff", "build", "cli", "lock"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            found.add(base)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if node.module else base + alias.name)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_writers_import_no_other_writer_and_no_build_machinery():
    folder = Path(writers_pkg.__file__).parent
    names = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    for path in sorted(folder.glob("*.py")):
        if path.stem == "__init__":
            continue
        for module in imported_modules(path):
            parts = module.lstrip(".").split(".")
            if module.startswith("..") or module.startswith("quizgen."):
                top = parts[1] if module.startswith("quizgen.") else parts[0]
                assert top not in FORBIDDEN, f"{path.name} imports {module}: writers must not know about {top}"
            elif module.startswith("."):
                assert parts[0] not in names, f"{path.name} imports the writer {module}; share code via present.py"
