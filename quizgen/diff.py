"""What a re-import will do to a learner's collection: notes added, updated, left behind, moved.

Both sides become a `Snapshot`: fact id -> the note Anki would hold (deck, notetype,
field values exactly as written into the package).  The current project is turned
into notes by the Anki writer's own code, so "changed" here means exactly "Anki will
update this note"; an earlier side is read from an .apkg that quizgen wrote, or
from the project as it was at a git revision.
"""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
import zipfile
from dataclasses import dataclass, field

from . import ids
from .cache import open_regular
from .errors import QuizgenError
from .model import Project
from .writers.anki import note_digest

TYPE_BY_MODEL = {mid: kind for kind, mid in ids.NOTETYPE_IDS.items()}


@dataclass(frozen=True)
class Note:
    """A note as packaged.  The fields stay one joined string until they are needed: a
    snapshot of 100,000 notes then costs one string a note, and comparing is one string compare."""

    deck: str
    type: str
    flds: str  # field values joined by \x1f, exactly as in the package
    names: tuple[str, ...]  # field names

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        return tuple(zip(self.names, self.flds.split("\x1f")))


Snapshot = dict  # fact id -> Note


# ---------------------------------------------------------------------------------------
# the two sides


def project_snapshot(project: Project, only: set[str] | None = None) -> Snapshot:
    """The notes the Anki writer makes of `project` (of the facts in `only`, when given)."""
    from .writers.anki import FIELDS, file_rows

    snap: Snapshot = {}
    for fact_file in project.files:
        if only is not None and not any(f.id in only for f in fact_file.facts):
            continue
        rows = file_rows(fact_file, project)
        for fact_id, _digest, _nid, _guid, mid, _tags, flds, *_ in rows["notes"]:
            if only is None or fact_id in only:
                snap[fact_id] = Note(rows["deck"], TYPE_BY_MODEL[mid], flds, FIELDS)
    return snap


MAX_COLLECTION_BYTES = 1 << 30  # a 100,000-note collection is ~50 MB
MAX_VALUE_BYTES = 64 << 20  # any one field, deck list or notetype list
QUERY_SECONDS = 60.0  # reading a 100,000-note package takes about a second
PROGRESS_STEPS = 1000  # SQLite VM steps between two looks at the clock
NEEDED = {"col": {"decks", "models"}, "notes": {"id", "mid", "tags", "flds"}, "cards": {"nid", "did"}}


def open_collection(db: str, where: str) -> sqlite3.Connection:
    """A foreign SQLite file opened so that it can only be read, and only briefly.

    Read-only and immutable (no journal, no locks, no writes), untrusted schema objects may
    not call functions, no value may exceed MAX_VALUE_BYTES, and every query is interrupted
    after QUERY_SECONDS.  The tables read must be plain tables with plain columns: a view
    (say, over an infinite recursive CTE) or a generated column is refused before any query."""
    conn = sqlite3.connect(f"file:{urllib.parse.quote(db)}?mode=ro&immutable=1", uri=True)
    try:
        if hasattr(conn, "setlimit"):  # Python 3.11+
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        conn.execute("PRAGMA trusted_schema = OFF")
        deadline = time.monotonic() + QUERY_SECONDS
        conn.set_progress_handler(lambda: time.monotonic() > deadline, PROGRESS_STEPS)
        kinds = {
            name: (kind, sql or "") for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master")
        }
        for table, columns in NEEDED.items():
            kind, sql = kinds.get(table, ("", ""))
            if kind != "table" or not sql.lstrip().upper().startswith("CREATE TABLE"):
                raise QuizgenError(f"{where}: not an Anki package written by quizgen ({table} is not a plain table)")
            found = {row[1]: row[6] for row in conn.execute(f"PRAGMA table_xinfo({table})")}  # name -> hidden
            if not columns <= found.keys() or any(found[c] for c in columns):
                raise QuizgenError(f"{where}: not an Anki package written by quizgen ({table} lacks plain columns)")
    except BaseException:
        conn.close()
        raise
    return conn


def _json_field(text, where: str, what: str):
    """A JSON column of the col table: an object, of at most MAX_VALUE_BYTES, not nested absurdly."""
    if type(text) is not str:
        raise QuizgenError(f"{where}: not an Anki package written by quizgen (col.{what} is not text)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise QuizgenError(
            f"{where}: not an Anki package written by quizgen (col.{what} is not readable JSON)"
        ) from None
    if type(value) is not dict:
        raise QuizgenError(f"{where}: not an Anki package written by quizgen (col.{what} is not a JSON object)")
    return value


def _decks_and_models(conn: sqlite3.Connection, where: str) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
    row = conn.execute("SELECT decks, models FROM col").fetchone()
    if row is None:
        raise QuizgenError(f"{where}: not an Anki package written by quizgen (no collection row)")
    decks, models = {}, {}
    for key, deck in _json_field(row[0], where, "decks").items():
        if type(deck) is dict and type(deck.get("name")) is str and key.isdigit() and len(key) < 20:
            decks[int(key)] = deck["name"]
    for key, model in _json_field(row[1], where, "models").items():
        fields = model.get("flds") if type(model) is dict else None
        if type(fields) is list and key.isdigit() and len(key) < 20:
            names = tuple(f["name"] for f in fields if type(f) is dict and type(f.get("name")) is str)
            if len(names) == len(fields):
                models[int(key)] = names
    return decks, models


def apkg_snapshot(path: str, only: set[str] | None = None, keys: bool = False, scope: set | None = None) -> Snapshot:
    """Read the notes of a package quizgen wrote (other notetypes are ignored).

    `keys=True` keeps only each note's `note_digest` (a 100,000-note package then costs a few MB);
    `only` keeps full notes for those fact ids alone; `scope`, when given, receives the top-level
    names of the decks the package holds.  The package is untrusted: it must be a regular file, its
    collection is bounded in size and opened with `open_collection`'s limits, and anything odd is
    a QuizgenError naming the file."""
    if os.path.isdir(path):
        raise QuizgenError(f"{path}: is a folder, not an Anki package")
    snap: Snapshot = {}
    try:
        fd = open_regular(path, follow=True)
        with os.fdopen(fd, "rb") as fh, zipfile.ZipFile(fh) as zf, tempfile.TemporaryDirectory() as tmp:
            names = zf.namelist()
            name = "collection.anki21" if "collection.anki21" in names else "collection.anki2"
            if zf.getinfo(name).file_size > MAX_COLLECTION_BYTES:
                raise QuizgenError(f"{path}: its collection is over {MAX_COLLECTION_BYTES >> 20} MB; not read")
            db = os.path.join(tmp, "collection.db")
            copied = 0
            with zf.open(name) as src, open(db, "wb") as dst:
                while block := src.read(1 << 20):
                    copied += len(block)
                    if copied > MAX_COLLECTION_BYTES:
                        raise QuizgenError(f"{path}: its collection is over {MAX_COLLECTION_BYTES >> 20} MB; not read")
                    dst.write(block)
            conn = open_collection(db, path)
            try:
                decks, models = _decks_and_models(conn, path)
                if not models.keys() & TYPE_BY_MODEL.keys():
                    raise QuizgenError(f"{path}: not an Anki package written by quizgen (none of its notetypes)")
                if scope is not None:
                    scope.update(name.split("::")[0] for did, name in decks.items() if did != 1)
                deck_of = dict(conn.execute("SELECT nid, min(did) FROM cards GROUP BY nid"))
                for nid, mid, tags, flds in conn.execute("SELECT id, mid, tags, flds FROM notes"):
                    if mid not in TYPE_BY_MODEL or mid not in models or type(flds) is not str or type(tags) is not str:
                        continue
                    names = models[mid]
                    fact_id = (
                        flds.rsplit("\x1f", 1)[-1]
                        if names and names[-1] == "FactId"
                        else dict(zip(names, flds.split("\x1f"))).get("FactId")
                    )
                    if not fact_id or (only is not None and fact_id not in only):
                        continue
                    deck, kind = decks.get(deck_of.get(nid), "?"), TYPE_BY_MODEL[mid]
                    snap[fact_id] = note_digest(mid, deck, tags, flds) if keys else Note(deck, kind, flds, names)
            finally:
                conn.close()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            raise QuizgenError(f"{path}: reading it took too long (over {QUERY_SECONDS:.0f} s); not read") from None
        raise QuizgenError(f"{path}: not an Anki package written by quizgen ({exc})") from None
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, sqlite3.Error, KeyError, ValueError, TypeError) as exc:
        raise QuizgenError(f"{path}: not an Anki package written by quizgen ({exc})") from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise QuizgenError(f"{path}: not an Anki package written by quizgen ({type(exc).__name__})") from None
    return snap


def packages_snapshot(paths, only: set[str] | None = None, keys: bool = False, scope: set | None = None) -> Snapshot:
    snap: Snapshot = {}
    for path in sorted(paths):
        snap.update(apkg_snapshot(path, only, keys, scope))
    return snap


MAX_ARCHIVE_BYTES = 2 << 30
MAX_ARCHIVE_MEMBERS = 200_000


def git_snapshot(project_dir: str, rev: str) -> Snapshot:
    """The project as it was at a git revision, loaded and validated like the current one.

    The whole project folder at that revision is extracted (images and templates outside decks/
    included) into a private folder, from a `git archive` streamed to disk.  Only plain files and
    folders with plain relative names are accepted: a symbolic link anywhere in that tree is
    refused by name rather than followed, and sizes are bounded."""
    from .project import load_project

    project_dir = os.path.abspath(project_dir)

    def git(*args, **kw):
        return subprocess.run(["git", "-C", project_dir, *args], check=False, **kw)

    top = git("rev-parse", "--show-toplevel", capture_output=True, text=True)
    if top.returncode != 0:
        raise QuizgenError(f"{project_dir}: not inside a git repository, so --against git:{rev} cannot work")
    prefix = os.path.relpath(project_dir, top.stdout.strip())
    prefix = "" if prefix == "." else prefix.replace(os.sep, "/")
    if (
        rev.startswith("-")
        or git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", capture_output=True).returncode
    ):
        raise QuizgenError(f"git:{rev}: no such revision")
    tree = f"{rev}:{prefix}" if prefix else f"{rev}^{{tree}}"
    if git("cat-file", "-e", tree, capture_output=True).returncode != 0:
        raise QuizgenError(f"git:{rev}: the project folder {prefix or './'} did not exist at that revision")
    with tempfile.TemporaryDirectory() as tmp:
        archive_path = os.path.join(tmp, "old.tar")
        with open(archive_path, "wb") as fh:
            # from the top: in a sub-folder, git archive would look for that sub-folder inside `tree`
            archive = subprocess.run(
                ["git", "-C", top.stdout.strip(), "archive", "--format=tar", tree], stdout=fh, stderr=subprocess.PIPE
            )
        if archive.returncode != 0:
            raise QuizgenError(f"git:{rev}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
        root = os.path.join(tmp, "old")
        try:
            with tarfile.open(archive_path) as tar:
                extract(tar, root, rev)
        except (tarfile.TarError, OSError) as exc:
            raise QuizgenError(f"git:{rev}: cannot extract the project ({exc})") from None
        try:
            old = load_project(root, require_id=False)
        except QuizgenError as exc:
            raise QuizgenError(f"the project at git:{rev} is not valid:\n{exc.format_message()}") from None
        return project_snapshot(old)


def extract(tar: tarfile.TarFile, dest: str, rev: str = "") -> None:
    """Extract plain files and folders that stay inside `dest`; refuse links and anything else by name."""
    members, total = [], 0
    for member in tar:
        if len(members) >= MAX_ARCHIVE_MEMBERS:
            raise QuizgenError(f"git:{rev}: more than {MAX_ARCHIVE_MEMBERS:,} files; not a quiz project")
        name = member.name
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "\0" in name:
            raise QuizgenError(f"git:{rev}: {name!r}: a path outside the project; refusing the archive")
        if member.issym() or member.islnk():
            raise QuizgenError(
                f"git:{rev}: {name} is a symbolic link; quizgen reads no links from an old revision "
                "(compare against a built .apkg instead)"
            )
        if not (member.isfile() or member.isdir()):
            raise QuizgenError(f"git:{rev}: {name} is not a plain file or folder; refusing the archive")
        total += member.size
        if total > MAX_ARCHIVE_BYTES:
            raise QuizgenError(f"git:{rev}: the project is over {MAX_ARCHIVE_BYTES >> 30} GiB; refusing the archive")
        members.append(member)
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, members=members, filter="data")
    else:  # Python < 3.10.12 / 3.11.4: the checks above already are the data filter's for these members
        tar.extractall(dest, members=members)  # noqa: S202 - members checked above


def snapshot_of(project_dir: str, against: str) -> tuple[Snapshot, set[str] | None]:
    """The earlier side of a diff, and the top-level decks it covers (None: the whole project).

    A single package holds some top-level decks only, so only those are compared; a folder of
    packages or a git revision covers the whole project."""
    if against.startswith("git:"):
        return git_snapshot(project_dir, against[4:]), None
    if os.path.isdir(against):
        if os.path.lexists(os.path.join(against, ".quizgen-publish")):
            raise QuizgenError(
                f"{against}: a build into it was interrupted and is half published; "
                "run `quizgen build` for it again (that puts the earlier files back) before comparing"
            )
        paths = [os.path.join(against, n) for n in sorted(os.listdir(against)) if n.endswith(".apkg")]
        if not paths:
            raise QuizgenError(f"{against}: no .apkg files to compare against")
        return packages_snapshot(paths), None
    if os.path.lexists(against):
        scope: set[str] = set()
        return apkg_snapshot(against, scope=scope), scope
    raise QuizgenError(f"--against {against}: expected an .apkg file, a folder of them, or git:REV")


def in_scope(snapshot: Snapshot, scope: set[str] | None) -> Snapshot:
    """The notes of `snapshot` in the top-level decks `scope` (all of them for None)."""
    if scope is None:
        return snapshot
    return {k: n for k, n in snapshot.items() if n.deck.split("::")[0] in scope}


# ---------------------------------------------------------------------------------------
# comparing


@dataclass
class Change:
    fact_id: str
    kind: str  # added | changed | removed | moved
    deck: str
    old_deck: str = ""
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (label, old text, new text)


@dataclass
class Diff:
    changes: list[Change]
    warnings: list[str]
    unchanged: int

    def by_deck(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for change in self.changes:
            out.setdefault(change.deck, []).append(change)
        return dict(sorted(out.items()))

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("added", "changed", "removed", "moved"), 0)
        for change in self.changes:
            counts[change.kind] += 1
        return counts


_TAGS = re.compile(r"<[^>]+>")
SKIP = {"FactId", "Lang1", "Lang2"}


def as_text(value: str) -> str:
    """A field as a reader sees it: tags dropped (list items become ' / ', citations and their
    quotes lines of their own), entities decoded."""
    value = value.replace("<br>", "\n").replace("</li><li", "</li> / <li")
    value = value.replace("</div><div", "</div>\n<div").replace("<blockquote", "\n<blockquote")
    return html.unescape(_TAGS.sub("", value)).strip()


def label(name: str, note: Note, langs: dict[str, str]) -> str:
    base = {
        "Prompt": {"cloze": "text", "truefalse": "statement"}.get(note.type, "question"),
        "Answer": "answer",
        "Options": "options",
        "Explanation": "explanation",
        "Hint": "hint",
        "Audio": "audio",
    }
    for prefix, word in base.items():
        if name.startswith(prefix) and name[-1] in "12":
            lang = langs.get(f"Lang{name[-1]}", "")
            return f"{word} ({lang})" if lang else word
    return {
        "Source": "source",
        "SourceUrl": "source link",
        "SourceDate": "source date",
        "SourcePublisher": "source publisher",
        "Quote": "quote",
        "Image": "image",
        "Citations": "source",  # a fact's several citations, rendered together
        "Reverse": "reverse card",
    }.get(name, name)


def compare(old: Snapshot, new: Snapshot, unchanged: int = 0) -> Diff:
    """Compare two snapshots; `unchanged` counts notes already known equal and left out of both."""
    changes: list[Change] = []
    for fact_id in sorted(set(old) | set(new)):
        a, b = old.get(fact_id), new.get(fact_id)
        if a is None:
            changes.append(Change(fact_id, "added", b.deck))
            continue
        if b is None:
            changes.append(Change(fact_id, "removed", a.deck))
            continue
        if a == b:
            unchanged += 1
            continue
        langs = dict(b.fields)
        af = dict(a.fields)
        fields = [
            (label(name, b, langs), as_text(af.get(name, "")), as_text(value))
            for name, value in b.fields
            if name not in SKIP and af.get(name, "") != value
        ]
        kind = "moved" if a.deck != b.deck else "changed"
        if kind == "changed" and not fields and a.type == b.type:
            unchanged += 1
            continue
        changes.append(Change(fact_id, kind, b.deck, a.deck if kind == "moved" else "", fields))
    warnings = layout_warnings(old, new) + rename_warnings(changes, old, new) + type_warnings(changes, old, new)
    return Diff(changes, warnings, unchanged)


NOTETYPE_WORDS = {"basic": "Basic", "choice": "Multiple choice", "cloze": "Cloze", "truefalse": "True/False"}


def layout_warnings(old: Snapshot, new: Snapshot) -> list[str]:
    """The notetypes' field layout differs from the old package's (the one-time move to the final
    layout): Anki's default import cannot update such notetypes in place (tests/test_anki_upgrade.py)."""
    changed: dict[str, tuple[int, int]] = {}
    for fact_id, b in new.items():
        a = old.get(fact_id)
        if isinstance(a, Note) and isinstance(b, Note) and a.type == b.type and a.names != b.names:
            changed.setdefault(b.type, (len(a.names), len(b.names)))
    if not changed:
        return []
    what = ", ".join(f"quizgen {NOTETYPE_WORDS.get(t, t)} {n} -> {m} fields" for t, (n, m) in sorted(changed.items()))
    return [
        f"the notetypes' field layout changes ({what}): Anki cannot update a notetype's fields in place with its "
        "default import options. Tell learners to tick 'Merge note types' when importing (Anki 23.10 or later): "
        "their notetypes are then upgraded in place with every card and review kept. Without it Anki adds copies "
        "('quizgen Basic+') and updates none of their notes"
    ]


def type_warnings(changes: list[Change], old: Snapshot, new: Snapshot) -> list[str]:
    """A fact whose type changed: Anki does not update a note whose notetype differs (it reports a
    conflict and keeps the learner's old note), so the fix never reaches anyone who has the deck."""
    warnings = []
    for c in changes:
        if c.kind in ("changed", "moved") and old[c.fact_id].type != new[c.fact_id].type:
            warnings.append(
                f"`{c.fact_id}` changes type from {old[c.fact_id].type} to {new[c.fact_id].type}: Anki does not "
                f"update a note whose notetype changed, so learners keep the old card; keep its type, or retire "
                f"the id and add the new card under a new one"
            )
    return warnings


RENAME_PAIRS = 20_000  # fuzzy comparisons per deck; beyond that only identical texts are matched


def rename_warnings(changes: list[Change], old: Snapshot, new: Snapshot) -> list[str]:
    """A removed and an added fact in the same deck with nearly the same text: probably a renamed id.

    Identical texts are matched through a dictionary (linear); near-identical ones pairwise, with
    difflib's cheap upper bounds first, and at most RENAME_PAIRS pairs per deck, so that a
    release removing and adding thousands of facts stays fast."""

    def words(note: Note) -> str:
        return " ".join(as_text(v) for k, v in note.fields if k.startswith(("Prompt", "Answer")))

    removed: dict[str, list[Change]] = {}
    added: dict[str, list[Change]] = {}
    for c in changes:
        if c.kind == "removed":
            removed.setdefault(c.deck, []).append(c)
        elif c.kind == "added":
            added.setdefault(c.deck, []).append(c)
    found: list[tuple[str, str]] = []
    for deck, gone in removed.items():
        came = added.get(deck, [])
        if not came:
            continue
        new_words = [(a, words(new[a.fact_id])) for a in came]
        by_text: dict[str, list[str]] = {}
        for a, text in new_words:
            by_text.setdefault(text, []).append(a.fact_id)
        budget = RENAME_PAIRS
        for r in gone:
            text = words(old[r.fact_id])
            exact = by_text.get(text, [])
            found += [(r.fact_id, a) for a in exact]
            if budget < len(new_words):
                continue
            budget -= len(new_words)
            matcher = difflib.SequenceMatcher(None, text)  # autojunk kept: bounded cost on long texts
            for a, other in new_words:
                if other == text:
                    continue
                matcher.set_seq1(other)
                if matcher.real_quick_ratio() >= 0.8 and matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8:
                    found.append((r.fact_id, a.fact_id))
    return [
        f"did you rename `{r}` to `{a}`? Renaming an id loses learners' review "
        f"history (Anki sees a new note and keeps the old one); put the old id back to update it instead"
        for r, a in found
    ]


# ---------------------------------------------------------------------------------------
# rendering


_TOKEN = re.compile(r"\w+\s*|[^\w\s]+\s*|\s+")  # a word with its trailing space: runs of changes read as one


def word_diff(old: str, new: str, style: str) -> str:
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out = []
    marks = {"text": ("[-", "-]", "{+", "+}"), "markdown": ("~~", "~~", "**", "**")}[style]
    ka, kb = [t.rstrip() for t in a], [t.rstrip() for t in b]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(b[j1:j2]))  # the new text's spacing
            continue
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        space = old_part[len(old_part.rstrip()) :] if op != "insert" else new_part[len(new_part.rstrip()) :]
        if old_part.strip():
            out.append(f"{marks[0]}{old_part.rstrip()}{marks[1]}")
        if new_part.strip():
            out.append(f"{marks[2]}{new_part.rstrip()}{marks[3]}")
        out.append(space)
    return "".join(out).replace("\n", " ⏎ ")


EFFECT = {
    "added": "new note",
    "changed": "note updated, review history kept",
    "removed": "no longer in the deck; Anki keeps the learner's note and its history",
    "moved": "note updated; Anki leaves existing cards in the deck where the learner has them",
}


def render(diff: Diff, style: str = "text") -> str:
    if style == "json":
        return (
            json.dumps(
                {
                    "counts": {**diff.counts(), "unchanged": diff.unchanged},
                    "warnings": diff.warnings,
                    "changes": [
                        {
                            "id": c.fact_id,
                            "kind": c.kind,
                            "deck": c.deck,
                            **({"from_deck": c.old_deck} if c.old_deck else {}),
                            "fields": [{"field": f, "old": o, "new": n} for f, o, n in c.fields],
                        }
                        for c in diff.changes
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )
    counts = diff.counts()
    summary = (
        f"{counts['added']} added, {counts['changed']} changed, {counts['removed']} removed, "
        f"{counts['moved']} moved, {diff.unchanged} unchanged"
    )
    lines = []
    md = style == "markdown"
    lines.append("# Changes" if md else "Changes")
    lines.append("")
    lines.append(summary)
    for warning in diff.warnings:
        lines += ["", f"> **Warning:** {warning}" if md else f"warning: {warning}"]
    for deck, changes in diff.by_deck().items():
        lines += ["", f"## {deck}" if md else f"{deck}"]
        for kind in ("added", "changed", "moved", "removed"):
            group = [c for c in changes if c.kind == kind]
            if not group:
                continue
            lines.append(f"\n### {kind.capitalize()} ({EFFECT[kind]})\n" if md else f"  {kind} ({EFFECT[kind]}):")
            for c in group:
                moved = f" (from {c.old_deck})" if c.old_deck else ""
                lines.append(f"- `{c.fact_id}`{moved}" if md else f"    {c.fact_id}{moved}")
                for name, old, new in c.fields:
                    text = word_diff(old, new, "markdown" if md else "text")
                    lines.append(f"  - {name}: {text}" if md else f"        {name}: {text}")
    return "\n".join(lines) + "\n"
