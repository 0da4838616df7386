"""From drafts to files in the project: ids, sources, images, validation, and an all-or-nothing write.

Every file is first written into a private staging folder and validated there
with quizgen's own loader and validator (the same code `quizgen check` runs), so
what import writes is exactly what check accepts.  Problems in the staged text
are mapped back to the draft's origin (`vocab.csv:7`).  Only when nothing is
wrong are the files moved into place; on any problem the project is untouched.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .. import ids
from ..errors import Problem, QuizgenError
from ..loader import inside, load_yaml
from ..project import CONFIG_FILE, DECKS_DIR, SOURCES_FILE, fact_file_paths, load_config, load_sources
from ..validate import ID_RE, parse_config, parse_fact_file, parse_sources
from . import yamltext
from .draft import Draft, prompt_slug, unique

IMAGES_DIR = "images"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif")


@dataclass
class Batch:
    """What a reader returns: drafts, located problems, and report lines about the input as a whole."""

    drafts: list[Draft] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)  # source records the input carries
    languages: tuple[str, ...] = ()  # the input's own languages, for a new project (quizgen packages)
    lenient: bool = False  # packages: a fact that fails validation is left out and reported, not fatal
    temp_dirs: list[str] = field(default_factory=list)  # removed once the import is over


@dataclass
class Result:
    files: list[str]
    facts: int
    images: list[str]
    placeholder_source: str
    placeholder_facts: int
    notes: list[str]
    created_project: bool


def safe_name(name: str) -> str | None:
    """A plain, portable file name for a copied image, or None when it is not an image."""
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    if ext not in IMAGE_SUFFIXES:
        return None
    stem = re.sub(r"[^\w-]+", "-", stem, flags=re.U).strip("-_")[:60] or "image"
    return stem + ext


def problems_error(problems: list[Problem]) -> QuizgenError:
    n = len(problems)
    return QuizgenError(f"{n} problem{'s' if n != 1 else ''} found; nothing was written", problems)


def project_state(root: str) -> tuple[dict, dict, bool]:
    """(config, known sources, exists) of the target; a broken config or sources file stops the import."""
    if not os.path.isdir(os.path.join(root, DECKS_DIR)):
        return load_config(root)[0], {}, False
    config, problems = load_config(root)
    sources, source_problems = load_sources(root)
    problems += source_problems
    if problems:
        n = len(problems)
        raise QuizgenError(f"{n} problem{'s' if n != 1 else ''} in the project; fix them before importing", problems)
    return config, sources, True


def existing_ids(root: str, skip: set[str]) -> dict[str, str]:
    """fact id -> 'path:line' for every fact already in the project (files about to be replaced excluded).

    Read from the YAML nodes without validating: a half-finished file elsewhere must not block an import."""
    found: dict[str, str] = {}
    paths, _ = fact_file_paths(root)
    for rel in paths:
        if rel in skip:
            continue
        node, problems = load_yaml(os.path.join(root, rel), rel)
        if problems or not isinstance(node, MappingNode):
            continue
        facts = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == "facts"), None)
        for item in facts.value if isinstance(facts, SequenceNode) else ():
            if isinstance(item, MappingNode):
                for key, value in item.value:
                    if isinstance(key, ScalarNode) and key.value == "id" and isinstance(value, ScalarNode):
                        found.setdefault(value.value, f"{rel}:{value.start_mark.line + 1}")
    return found


def target_files(drafts: list[Draft], file: str | None) -> tuple[dict[str, list[Draft]], list[Problem]]:
    """One fact file per deck: decks/<slug of the deck>.yaml, or the one --file names (one deck only)."""
    decks: dict[str, list[Draft]] = {}
    for draft in drafts:
        decks.setdefault(draft.deck, []).append(draft)
    if file is not None:
        if len(decks) > 1:
            names = ", ".join(sorted(decks))
            return {}, [Problem("--file", 0, f"names one file, but the input has {len(decks)} decks ({names})")]
        return {file: drafts} if drafts else {}, []
    files: dict[str, list[Draft]] = {}
    for deck in sorted(decks):
        base = f"{DECKS_DIR}/{ids.slug(deck)}"
        rel, n = f"{base}.yaml", 1
        while rel in files or rel == SOURCES_FILE:
            n += 1
            rel = f"{base}-{n}.yaml"
        files[rel] = decks[deck]
    return files, []


def check_file_option(file: str) -> str:
    """--file must be a fact file inside decks/ (relative, no '..', .yaml or .yml)."""
    rel = file.replace("\\", "/")
    parts = rel.split("/")
    if os.path.isabs(file) or ".." in parts or parts[0] != DECKS_DIR or len(parts) < 2:
        raise QuizgenError(f"--file {file!r}: must be a path inside the project's decks/ folder, like decks/vocab.yaml")
    if not rel.endswith((".yaml", ".yml")) or rel == SOURCES_FILE:
        raise QuizgenError(f"--file {file!r}: must end in .yaml or .yml and not be decks/sources.yaml")
    return rel


def assign_ids(files: dict[str, list[Draft]], taken: dict[str, str]) -> list[Problem]:
    """Ids the input brings are kept (and must be free); the others are slugs of the prompt, made unique.

    Explicit ids are reserved first, then generated ones are given in input order: the same input
    into the same project gives the same ids every time."""
    problems = []
    used = set(taken)
    drafts = [d for group in files.values() for d in group]
    for draft in drafts:
        fid = draft.fields.get("id")
        if fid is None:
            continue
        if not ID_RE.match(fid):
            problems.append(located(draft, f"id: {fid!r} must use lowercase letters, digits, '-' and '_'"))
        elif fid in used:
            where = taken.get(fid, "earlier in this input")
            problems.append(located(draft, f"id: {fid!r} is already used ({where})"))
        used.add(fid)
    for draft in drafts:
        if "id" not in draft.fields:
            prompt = draft.fields.get("question") or draft.fields.get("text") or draft.fields.get("statement") or ""
            draft.fields = {"id": unique(prompt_slug(prompt), used), **draft.fields}
    return problems


def keep_guids(files: dict[str, list[Draft]], project_id: str) -> None:
    """`anki_guid:` for every fact whose old note's GUID is not the one this project would give it.

    The build then writes the note under the old GUID, so the learner's existing note is the one that
    updates (README, "Already have a deck?", says when Anki agrees).  A quizgen package imported back
    into its own project needs none: its GUIDs are already the derived ones."""
    for draft in (d for group in files.values() for d in group):
        if draft.guid and "id" in draft.fields and draft.guid != ids.note_guid(project_id, draft.fields["id"]):
            draft.fields["anki_guid"] = draft.guid


def located(draft: Draft, message: str) -> Problem:
    label = draft.origin.message
    return Problem(draft.origin.path, draft.origin.line, f"{label}: {message}" if label else message)


def image_path(root: str, name: str, data_digest: str, planned: dict[str, str]) -> str:
    """images/<name>, or images/<stem>-<hash><ext> when that name already holds other bytes."""
    rel = f"{IMAGES_DIR}/{name}"
    full = os.path.join(root, rel)
    if planned.get(rel, data_digest) == data_digest and (not os.path.exists(full) or _digest(full) == data_digest):
        return rel
    stem, ext = os.path.splitext(name)
    return f"{IMAGES_DIR}/{stem}-{data_digest[:8]}{ext}"


def _digest(path: str) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def sources_text(root: str, new: dict[str, dict[str, str]]) -> tuple[str | None, list[Problem]]:
    """decks/sources.yaml with `new` records appended, or None when nothing is added."""
    if not new:
        return None, []
    path = os.path.join(root, SOURCES_FILE)
    text = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
        node, _ = load_yaml(path, SOURCES_FILE)
        if node is not None and (not isinstance(node, MappingNode) or node.flow_style):
            entries = "".join(yamltext.source_entry(k, v) for k, v in new.items())
            return None, [
                Problem(SOURCES_FILE, 1, f"is not a block mapping, so import cannot add to it; add:\n{entries}")
            ]
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(yamltext.source_entry(k, v) for k, v in new.items()), []


def run(
    batch: Batch,
    root: str,
    *,
    display: str,
    file: str | None,
    source_id: str | None,
    force: bool,
    languages: tuple[str, ...] | None = None,
) -> Result:
    """Plan, stage, validate and publish `batch` into the project at `root` (created when missing)."""
    config, known_sources, exists = project_state(root)
    if source_id is not None and source_id not in known_sources and source_id not in batch.sources:
        known = ", ".join(sorted(known_sources)) or "none yet"
        raise QuizgenError(f"--source {source_id!r}: not in {SOURCES_FILE} (known: {known})")
    if not batch.drafts and batch.problems:
        raise problems_error(batch.problems)
    if not batch.drafts:
        raise QuizgenError(f"{display}: nothing to import (no facts found)")
    if not exists:
        config["languages"] = languages or batch.languages or config["languages"]

    files, problems = target_files(batch.drafts, file)
    if problems:
        raise problems_error(problems)
    problems = list(batch.problems)  # reported together with what validation finds in the good rows
    for rel in files:
        if os.path.lexists(os.path.join(root, rel)) and not force:
            problems.append(Problem(rel, 0, "already exists; use --force to replace it, or --file to name another"))
        elif os.path.lexists(os.path.join(root, rel)) and not inside(root, os.path.join(root, rel)):
            problems.append(Problem(rel, 0, "is a link out of the project; refusing to replace it"))
    taken = existing_ids(root, set(files)) if exists else {}
    problems += assign_ids(files, taken)
    config["id"] = config["id"] or ids.new_project_id()
    keep_guids(files, config["id"])

    # sources: what the input carries and the project lacks, then one placeholder for the rest
    new_sources = {k: v for k, v in batch.sources.items() if k not in known_sources}
    placeholder = ""
    unsourced = [d for group in files.values() for d in group if "source" not in d.fields and "cite" not in d.fields]
    if unsourced:
        placeholder = source_id or unique(
            f"import-{prompt_slug(os.path.splitext(os.path.basename(display))[0])}", set()
        )
        if placeholder not in known_sources and placeholder not in batch.sources:
            new_sources[placeholder] = {
                "title": f"{os.path.basename(display)} (imported: replace with the real source)"
            }
        for draft in unsourced:
            draft.fields["source"] = placeholder

    # images: content-addressed when a name is taken
    planned: dict[str, str] = {}
    media: dict[str, str] = {}  # project-relative path -> file to copy
    for group in files.values():
        for draft in group:
            image = draft.media.pop("image", None)
            if image is None:
                continue
            name, src = image
            rel = image_path(root, name, _digest(src), planned)
            planned[rel] = _digest(src)
            media[rel] = src
            draft.fields["image"] = rel
    sources_yaml, source_problems = sources_text(root, new_sources)
    problems += source_problems
    return publish(root, exists, config, files, media, sources_yaml, display, placeholder, batch, problems)


def publish(root, exists, config, files, media, sources_yaml, display, placeholder, batch, problems) -> Result:
    parent = root if exists else os.path.dirname(root) or "."
    os.makedirs(parent, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=".quizgen-import-", dir=parent)
    try:
        starts = stage_files(stage, root, exists, config, files, media, sources_yaml, display)
        found = validate_stage(stage, config, files, starts)
        if found and batch.lenient and not problems:
            files = leave_out(files, found, batch)  # then stage again without them
            if not files:
                raise problems_error(found)
            shutil.rmtree(stage)
            os.makedirs(stage)
            starts = stage_files(stage, root, exists, config, files, media, sources_yaml, display)
            found = validate_stage(stage, config, files, starts)
        problems = problems + found
        if problems:
            raise problems_error(problems)
        if exists:
            for rel in [*media, *files, *([SOURCES_FILE] if sources_yaml is not None else [])]:
                target = os.path.join(root, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(os.path.join(stage, rel), target)
        else:
            os.replace(stage, root)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    placeholder_facts = sum(1 for g in files.values() for d in g if d.fields.get("source") == placeholder)
    notes = list(batch.notes) + [str(located(d, note)) for g in files.values() for d in g for note in d.notes]
    return Result(
        files=list(files),
        facts=sum(len(g) for g in files.values()),
        images=sorted(media),
        placeholder_source=placeholder if placeholder_facts else "",
        placeholder_facts=placeholder_facts,
        notes=notes,
        created_project=not exists,
    )


def leave_out(files: dict[str, list[Draft]], found: list[Problem], batch: Batch) -> dict[str, list[Draft]]:
    """Drop the drafts that failed validation (reporting why); keep files that still have facts."""
    bad: dict[int, list[str]] = {}
    for draft in (d for g in files.values() for d in g):
        for p in found:
            label = draft.origin.message
            if p.path == draft.origin.path and p.line == draft.origin.line and p.message.startswith(f"{label}: "):
                bad.setdefault(id(draft), []).append(p.message[len(label) + 2 :])
    out = {}
    for rel, group in files.items():
        for draft in group:
            if id(draft) in bad:
                batch.notes.append(str(located(draft, "not imported: " + "; ".join(bad[id(draft)]))))
        kept = [d for d in group if id(d) not in bad]
        if kept:
            out[rel] = kept
    return out


def stage_files(stage, root, exists, config, files, media, sources_yaml, display) -> dict[str, list[int]]:
    """Write every new file into `stage` (plus what validation needs from the project); return fact start lines."""

    def put(rel: str, text: str) -> None:
        path = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)

    os.makedirs(os.path.join(stage, DECKS_DIR), exist_ok=True)
    for rel, src in media.items():
        os.makedirs(os.path.dirname(os.path.join(stage, rel)), exist_ok=True)
        shutil.copyfile(src, os.path.join(stage, rel))
    for draft in (d for g in files.values() for d in g):  # images the project already has, for the check
        rel = draft.fields.get("image")
        if rel and rel not in media and exists and os.path.isfile(os.path.join(root, rel)):
            os.makedirs(os.path.dirname(os.path.join(stage, rel)), exist_ok=True)
            shutil.copyfile(os.path.join(root, rel), os.path.join(stage, rel))
    starts = {}
    header = f"Imported by `quizgen import` from {os.path.basename(display)}.\nThis file is yours now: edit it freely."
    for rel, drafts in files.items():
        text, starts[rel] = yamltext.fact_file(drafts[0].deck, [d.fields for d in drafts], header)
        put(rel, text)
    if sources_yaml is not None:
        put(SOURCES_FILE, sources_yaml)
    elif exists and os.path.exists(os.path.join(root, SOURCES_FILE)):
        shutil.copyfile(os.path.join(root, SOURCES_FILE), os.path.join(stage, SOURCES_FILE))
    if not exists:
        langs = ", ".join(config["languages"])
        put(
            CONFIG_FILE,
            f"id: {config['id']}   # this course's identity in learners' Anki: never change it\nlanguages: [{langs}]\n",
        )
        put(".gitignore", "dist/\n")
    return starts


def validate_stage(stage, config, files, starts) -> list[Problem]:
    """Run quizgen's validator on the staged files; each problem goes back to the draft it came from."""
    problems: list[Problem] = []
    source_ids: set[str] = set()
    if os.path.exists(os.path.join(stage, SOURCES_FILE)):
        node, problems = load_yaml(os.path.join(stage, SOURCES_FILE), SOURCES_FILE)
        sources, source_problems = parse_sources(node, SOURCES_FILE) if node is not None else ({}, [])
        problems += source_problems
        source_ids = set(sources)
    if os.path.exists(os.path.join(stage, CONFIG_FILE)):  # a new project's quizgen.yaml
        node, config_problems = load_yaml(os.path.join(stage, CONFIG_FILE), CONFIG_FILE)
        problems += config_problems or parse_config(node, CONFIG_FILE)[1]
    languages = tuple(config["languages"])
    for rel, drafts in files.items():
        node, file_problems = load_yaml(os.path.join(stage, rel), rel)
        if node is not None:
            _, file_problems = parse_fact_file(node, rel, stage, languages, frozenset(source_ids))
        for p in file_problems:
            index = max(bisect.bisect_right(starts[rel], p.line) - 1, 0)
            problems.append(located(drafts[index], p.message))
    return problems
