"""Load a whole quiz project: find its files, run load + validate on each, check across files.

This is the only place that knows the project layout (`decks/`, `decks/sources.yaml`,
`quizgen.yaml`, and through quiz.py `quizzes/`).  `load_partial` returns the project as far
as it is valid plus every problem found in every file (for `check`, which still runs the
duplicate-id check, the quotes and lint over the sound facts); `load_project` returns a
complete, valid `Project` or raises with every problem (for `build`, which never writes a
half-valid one).
"""

from __future__ import annotations

import os

from . import ids
from .errors import Problem, QuizgenError
from .ids import new_project_id
from .limits import MAX_FILE_NAME_BYTES
from .loader import inside, load_yaml
from .model import FactFile, Project
from .quiz import load_quizzes
from .validate import AnyId, parse_config, parse_fact_file, parse_sources

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
    loaded = load_yaml(path, CONFIG_FILE)
    if loaded.problems:  # a broken quizgen.yaml: the default languages, rather than half of its list
        return parse_config(None, CONFIG_FILE)[0], loaded.problems
    return parse_config(loaded.node, CONFIG_FILE)


def load_sources(root: str) -> tuple[dict, list[Problem]]:
    sources, problems, _ = read_sources(root)
    return sources, problems


def read_sources(root: str) -> tuple[dict, list[Problem], bool]:
    """The sources, their problems, and whether every source could be read (see AnyId)."""
    path = os.path.join(root, SOURCES_FILE)
    if not os.path.exists(path):
        return {}, [], True
    if not inside(root, path):
        return {}, [Problem(SOURCES_FILE, 0, "is a link to a file outside the project; refusing to read it")], False
    loaded = load_yaml(path, SOURCES_FILE)
    if loaded.node is None:
        return {}, loaded.problems, not loaded.problems
    sources, problems = parse_sources(loaded.node, SOURCES_FILE, loaded.complete)
    return sources, loaded.problems + problems, loaded.complete


def load_fact_file(root: str, rel: str, languages, source_ids) -> tuple[FactFile | None, list[Problem]]:
    """Load and validate one fact file: the unit of work that the build caches and parallelises.

    With problems, the FactFile (if any) is partial: see parse_fact_file."""
    loaded = load_yaml(os.path.join(root, rel), rel)
    if loaded.node is None:
        return None, loaded.problems
    fact_file, problems = parse_fact_file(loaded.node, rel, root, languages, source_ids, loaded.complete)
    return fact_file, loaded.problems + problems


def check_unique_ids(files: list[FactFile]) -> list[Problem]:
    """Every id once in the project; the ids of facts rejected for other problems take part too."""
    seen: dict[str, tuple[str, int]] = {}
    guids: dict[str, tuple[str, int]] = {}  # two notes with one GUID in a package: Anki would keep only one
    problems = []
    for f in files:
        entries = [(fact.id, fact.line) for fact in f.facts]
        if f.rejected_ids:
            entries = sorted(entries + list(f.rejected_ids), key=lambda e: e[1])
        for fid, line in entries:
            if fid in seen:
                path, first = seen[fid]
                problems.append(Problem(f.path, line, f"duplicate id {fid!r} (first used at {path}:{first})"))
            else:
                seen[fid] = (f.path, line)
        for fact in f.facts:
            if fact.anki_guid and fact.anki_guid in guids:
                path, line = guids[fact.anki_guid]
                problems.append(
                    Problem(f.path, fact.line, f"anki_guid: {fact.anki_guid!r} is also used at {path}:{line}")
                )
            elif fact.anki_guid:
                guids[fact.anki_guid] = (f.path, fact.line)
    return problems


def check_package_names(files: list[FactFile]) -> list[Problem]:
    """Two top-level decks must not give one package file name ("Foo Bar" and "foo-bar" both give
    foo-bar.apkg): the second would overwrite the first, so `check` reports it at both decks' files."""
    first: dict[str, tuple[str, str]] = {}
    problems = []
    for f in sorted(files, key=lambda f: f.path):
        if not f.deck:
            continue
        top = f.deck.split("::")[0]
        name = ids.slug(top) + ".apkg"
        if name not in first:
            first[name] = (top, f.path)
        elif first[name][0] != top:
            other, path = first[name]
            problems.append(
                Problem(
                    f.path,
                    f.deck_line or 1,
                    f"deck: {top!r} and {other!r} (in {path}) both give the package file name {name!r}; "
                    "rename one of them",
                )
            )
    return problems


def check_page_names(paths: list[str]) -> list[Problem]:
    """HTML pages are named after their fact file (decks/unit/a.yaml -> unit-a-quiz.html): a deep path
    could give a name longer than a file system allows.  (Equal stems are numbered by the writer.)"""
    problems = []
    for rel in paths:
        stem = ids.file_stem(rel)
        if len(stem.encode("utf-8")) > MAX_FILE_NAME_BYTES:
            problems.append(
                Problem(
                    rel,
                    0,
                    f"the path gives an HTML page name of {len(stem.encode('utf-8'))} bytes; the limit is "
                    f"{MAX_FILE_NAME_BYTES} (use a shorter file or folder name)",
                )
            )
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


def load_partial(project: str, loader=None, require_id: bool = True) -> tuple[Project, list[Problem]]:
    """Load and validate everything: the project as far as it is valid, and every problem found.

    `require_id=False` is for reading an old revision of a project (diff), which may predate ids.

    `loader(root, rels, languages, source_ids)` returns one (FactFile | None, problems)
    per path; the build passes one with a cache and worker processes in front of
    `load_fact_file`, without this module knowing about either.
    """
    root = find_root(project)
    config, problems = load_config(root)
    if require_id and not config["id"] and not any(p.path == CONFIG_FILE for p in problems):
        problems.append(missing_id_problem(root))
    sources, source_problems, sources_complete = read_sources(root)
    problems += source_problems
    paths, path_problems = fact_file_paths(root)
    problems += path_problems + check_page_names(paths)
    load = loader or load_sequential
    source_ids = frozenset(sources) if sources_complete else AnyId(sources)
    files = []
    for fact_file, file_problems in load(root, paths, tuple(config["languages"]), source_ids):
        problems += file_problems
        if fact_file is not None:
            files.append(fact_file)
    problems += check_unique_ids(files)
    problems += check_package_names(files)
    if not paths and not path_problems:
        problems.append(Problem(DECKS_DIR, 0, "no fact files (decks/*.yaml) found"))
    # Quizzes refer to facts, so they come after them; with broken fact files only their shape is checked.
    facts_ok = not any(p.path.startswith(DECKS_DIR + "/") or p.path == DECKS_DIR for p in problems)
    quizzes, quiz_problems = load_quizzes(root, tuple(config["languages"]), files, facts_ok)
    problems += quiz_problems
    project_ = Project(
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
    return project_, problems


def load_project(project: str, loader=None, require_id: bool = True) -> Project:
    """Load and validate everything; raise QuizgenError listing every problem found."""
    loaded, problems = load_partial(project, loader, require_id)
    if problems:
        n = len(problems)
        raise QuizgenError(f"{n} problem{'s' if n != 1 else ''} found", problems)
    return loaded
