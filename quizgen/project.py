"""Load a whole quiz project: find its files, run load + validate on each, check across files.

This is the only place that knows the project layout (`decks/`, `decks/sources.yaml`,
`quizgen.yaml`, and through quiz.py `quizzes/`).  It returns either a complete, valid `Project` or every problem
found in every file, never a half-valid project.
"""

from __future__ import annotations

import os

from .errors import Problem, QuizgenError
from .ids import new_project_id
from .loader import inside, load_yaml
from .model import FactFile, Project
from .quiz import load_quizzes
from .validate import parse_config, parse_fact_file, parse_sources

CONFIG_FILE = "quizgen.yaml"
DECKS_DIR = "decks"
SOURCES_FILE = "decks/sources.yaml"
FACT_SUFFIXES = (".yaml", ".yml")


def find_root(project: str) -> str:
    root = os.path.abspath(project)
    if not os.path.exists(root):
        raise QuizgenError(f"{project}: does not exist")
    if not os.path.isdir(root):
        raise QuizgenError(f"{project}: is not a folder (a quiz project is a folder with decks/ in it)")
    if not os.path.isdir(os.path.join(root, DECKS_DIR)):
        raise QuizgenError(
            f"{project}: not a quiz project (no '{DECKS_DIR}/' folder); run 'quizgen init DIR' to start one"
        )
    return root


def fact_file_paths(root: str) -> tuple[list[str], list[Problem]]:
    """Every fact file under decks/, as sorted project-relative paths; links out of the project are refused."""
    found, problems = [], []
    decks = os.path.join(root, DECKS_DIR)
    for dirpath, dirnames, filenames in os.walk(decks):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith(".") or not name.endswith(FACT_SUFFIXES):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel == SOURCES_FILE:
                continue
            if not inside(root, full):
                problems.append(Problem(rel, 0, "is a link to a file outside the project; refusing to read it"))
                continue
            found.append(rel)
    return sorted(found), problems


def load_config(root: str) -> tuple[dict, list[Problem]]:
    path = os.path.join(root, CONFIG_FILE)
    if not os.path.lexists(path):
        return parse_config(None, CONFIG_FILE)
    if not inside(root, path):
        refused = Problem(CONFIG_FILE, 0, "is a link to a file outside the project; refusing to read it")
        return parse_config(None, CONFIG_FILE)[0], [refused]
    node, problems = load_yaml(path, CONFIG_FILE)
    if problems:
        return parse_config(None, CONFIG_FILE)[0], problems
    return parse_config(node, CONFIG_FILE)


def load_sources(root: str):
    path = os.path.join(root, SOURCES_FILE)
    if not os.path.exists(path):
        return {}, []
    if not inside(root, path):
        return {}, [Problem(SOURCES_FILE, 0, "is a link to a file outside the project; refusing to read it")]
    node, problems = load_yaml(path, SOURCES_FILE)
    if problems:
        return {}, problems
    return parse_sources(node, SOURCES_FILE)


def load_fact_file(root: str, rel: str, languages, source_ids) -> tuple[FactFile | None, list[Problem]]:
    """Load and validate one fact file: the unit of work that the build caches and parallelises."""
    node, problems = load_yaml(os.path.join(root, rel), rel)
    if problems:
        return None, problems
    return parse_fact_file(node, rel, root, languages, source_ids)


def check_unique_ids(files: list[FactFile]) -> list[Problem]:
    seen: dict[str, tuple[str, int]] = {}
    guids: dict[str, tuple[str, int]] = {}  # two notes with one GUID in a package: Anki would keep only one
    problems = []
    for f in files:
        for fact in f.facts:
            if fact.id in seen:
                path, line = seen[fact.id]
                problems.append(Problem(f.path, fact.line, f"duplicate id {fact.id!r} (first used at {path}:{line})"))
            else:
                seen[fact.id] = (f.path, fact.line)
            if fact.anki_guid and fact.anki_guid in guids:
                path, line = guids[fact.anki_guid]
                problems.append(
                    Problem(f.path, fact.line, f"anki_guid: {fact.anki_guid!r} is also used at {path}:{line}")
                )
            elif fact.anki_guid:
                guids[fact.anki_guid] = (f.path, fact.line)
    return problems


def load_sequential(root: str, rels: list[str], languages, source_ids):
    return [load_fact_file(root, rel, languages, source_ids) for rel in rels]


def missing_id_problem(root: str) -> Problem:
    """A project needs an identity before it can be built: say so, with a fresh one to paste."""
    exists = os.path.isfile(os.path.join(root, CONFIG_FILE))
    return Problem(
        CONFIG_FILE,
        1 if exists else 0,
        f"no project id; {'add' if exists else 'create quizgen.yaml with'} the line `id: {new_project_id()}` "
        "(a random value that keeps this course's cards apart from every other course in a learner's Anki; "
        "write it once and never change it)",
    )


def load_project(project: str, loader=None, require_id: bool = True) -> Project:
    """Load and validate everything; raise QuizgenError listing every problem found.

    `require_id=False` is for reading an old revision of a project (diff), which may predate ids.

    `loader(root, rels, languages, source_ids)` returns one (FactFile | None, problems)
    per path; the build passes one with a cache and worker processes in front of
    `load_fact_file`, without this module knowing about either.
    """
    root = find_root(project)
    config, problems = load_config(root)
    if require_id and not config["id"] and not any(p.path == CONFIG_FILE for p in problems):
        problems.append(missing_id_problem(root))
    sources, source_problems = load_sources(root)
    problems += source_problems
    paths, path_problems = fact_file_paths(root)
    problems += path_problems
    load = loader or load_sequential
    files = []
    for fact_file, file_problems in load(root, paths, tuple(config["languages"]), frozenset(sources)):
        problems += file_problems
        if fact_file is not None:
            files.append(fact_file)
    problems += check_unique_ids(files)
    if not paths and not path_problems:
        problems.append(Problem(DECKS_DIR, 0, "no fact files (decks/*.yaml) found"))
    # Quizzes refer to facts, so they come after them; with broken fact files only their shape is checked.
    facts_ok = not any(p.path.startswith(DECKS_DIR + "/") or p.path == DECKS_DIR for p in problems)
    quizzes, quiz_problems = load_quizzes(root, tuple(config["languages"]), files, facts_ok)
    problems += quiz_problems
    if problems:
        n = len(problems)
        raise QuizgenError(f"{n} problem{'s' if n != 1 else ''} found", problems)
    return Project(
        root=root,
        languages=tuple(config["languages"]),
        sources=sources,
        files=tuple(files),
        title=config["title"],
        lint_ignore=tuple(config["lint_ignore"]),
        id=config["id"],
        quizzes=quizzes,
        anki_lang=config["anki_lang"],
        anki_package=config["anki_package"],
    )
