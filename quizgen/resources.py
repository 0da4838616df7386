"""Where templates come from: the project's own templates/ first, then the ones quizgen ships.

The shipped templates live in the repository's top-level templates/ folder and are
installed as the package `quizgen.templates`, so a non-editable install finds them too.
"""

from __future__ import annotations

import os

import quizgen.templates as _shipped

SHIPPED = os.path.dirname(os.path.abspath(_shipped.__file__))


def search_path(project_root: str | None = None) -> list[str]:
    """Template folders in lookup order: a project may override any template by name."""
    paths = []
    if project_root:
        own = os.path.join(project_root, "templates")
        if os.path.isdir(own):
            paths.append(own)
    paths.append(SHIPPED)
    return paths


def read_shipped(name: str) -> str:
    with open(os.path.join(SHIPPED, name), encoding="utf-8") as fh:
        return fh.read()
