"""Anki packages (.apkg): one per top-level deck, safe to re-import for years.

What makes a re-import safe (see ids.py and lock.py for the why):
- note GUIDs come from the project id and fact ids, deck ids from deck names, notetype ids are constants;
- each note's modification time comes from quizgen.lock, so a note is newer
  exactly when its content changed (Anki only updates notes that are newer);
- the four notetypes below never change their fields; only NOTETYPE_MOD moves
  forward when the templates or CSS improve, which lets Anki update them too.

genanki supplies the schema, the collection row and the notetype/deck JSON.
The notes and cards themselves are inserted here in batches (`executemany`):
genanki's per-note path stamps every note with one wall-clock time, numbers
ids from the clock, and is about three times slower at scale.  The zip is
written with fixed entry times so that the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import sqlite3
import zipfile

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from .. import ids
from ..model import CLOZE_RE, Fact, FactFile, Project, Text
from ..present import LETTERS, option_order, role_words, truth_words
from ..resources import read_shipped
from . import Options

FORMAT = "apkg"
DESCRIPTION = "Anki packages, one per top-level deck"

# Bump (to a later time) whenever templates or CSS change, never the fields.
NOTETYPE_MOD = 1_764_100_000  # last change: colours reach WCAG AA in light and night mode
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 1  # measured on 100,000 notes: 6% larger than level 6, 2.7x faster

FIELDS = (
    "Prompt1", "Prompt2", "Answer1", "Answer2", "Options1", "Options2",
    "Explanation1", "Explanation2", "Lang1", "Lang2",
    "Source", "SourceUrl", "SourceDate", "SourcePublisher", "Quote", "Image", "FactId",
)  # fmt: skip
TYPE_BY_ID = {mid: kind for kind, mid in ids.NOTETYPE_IDS.items()}
NOTETYPE_NAMES = {
    "basic": "quizgen Basic",
    "choice": "quizgen Multiple choice",
    "cloze": "quizgen Cloze",
    "truefalse": "quizgen True/False",
}


def two(name: str) -> str:
    """Both language slots of a field, the second only when present."""
    return (
        f'<div class="qg-l1" lang="{{{{Lang1}}}}">{{{{{name}1}}}}</div>'
        f'{{{{#{name}2}}}}<div class="qg-l2" lang="{{{{Lang2}}}}">{{{{{name}2}}}}</div>{{{{/{name}2}}}}'
    )


def two_cloze() -> str:
    return (
        '<div class="qg-l1" lang="{{Lang1}}">{{cloze:Prompt1}}</div>'
        '{{#Prompt2}}<div class="qg-l2" lang="{{Lang2}}">{{cloze:Prompt2}}</div>{{/Prompt2}}'
    )


IMAGE = '{{#Image}}<div class="qg-image">{{Image}}</div>{{/Image}}'
TAIL = (
    '{{#Explanation1}}<div class="qg-expl">' + two("Explanation") + "</div>{{/Explanation1}}"
    '<div class="qg-source"><span class="qg-label">출처 · Source</span> '
    '{{#SourceUrl}}<a href="{{SourceUrl}}">{{Source}}</a>{{/SourceUrl}}{{^SourceUrl}}{{Source}}{{/SourceUrl}}'
    "{{#SourcePublisher}} · {{SourcePublisher}}{{/SourcePublisher}}{{#SourceDate}} · {{SourceDate}}{{/SourceDate}}"
    '{{#Quote}}<blockquote class="qg-quote">{{Quote}}</blockquote>{{/Quote}}</div>'
    '<div class="qg-id">{{FactId}}</div>'
)


def _templates(kind: str) -> tuple[str, str]:
    if kind == "cloze":
        front = f'<div class="qg qg-cloze">{two_cloze()}{IMAGE}</div>'
        back = f'<div class="qg qg-cloze qg-back">{two_cloze()}{IMAGE}<hr id="answer">{TAIL}</div>'
        return front, back
    front = f'<div class="qg qg-{kind}"><div class="qg-prompt">{two("Prompt")}</div>{IMAGE}'
    if kind in ("choice", "truefalse"):
        front += f'<div class="qg-options">{two("Options")}</div>'
    front += "</div>"
    back = (
        f'<div class="qg-back">{{{{FrontSide}}}}</div><hr id="answer">'
        f'<div class="qg qg-{kind}"><div class="qg-answer">{two("Answer")}</div>{TAIL}</div>'
    )
    return front, back


def notetypes() -> dict[str, genanki.Model]:
    # Always the shipped CSS, never a project override: the notetype must be the same for every deck.
    css = read_shipped("anki-card.css")
    models = {}
    for kind, name in NOTETYPE_NAMES.items():
        front, back = _templates(kind)
        models[kind] = genanki.Model(
            ids.NOTETYPE_IDS[kind],
            name,
            fields=[{"name": f} for f in FIELDS],
            templates=[{"name": "Cloze" if kind == "cloze" else "Card 1", "qfmt": front, "afmt": back}],
            css=css,
            model_type=genanki.Model.CLOZE if kind == "cloze" else genanki.Model.FRONT_BACK,
        )
    return models


# ---------------------------------------------------------------------------
# fields


def esc(text: str) -> str:
    """Fact text is data: escape it, keep line breaks visible."""
    return html.escape(text.strip(), quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def slots(text: Text | None, l1: str, l2: str) -> tuple[str, str]:
    """(first, second) language slot; a neutral text fills the first slot only."""
    if text is None:
        return "", ""
    a, b = text.get(l1), text.get(l2) if l2 else None
    if b is not None and (a is None or a == b):
        a, b = (b, None) if a is None else (a, None)
    return esc(a or ""), esc(b or "")


def options_html(options: list[tuple[Text, bool]], l1: str, l2: str) -> str:
    """One lettered list; each option in the primary language, the other language beneath it, smaller."""
    items = []
    for text, correct in options:
        first, second = slots(text, l1, l2)
        cls = ' class="qg-correct"' if correct else ""
        other = f'<span class="qg-o2" lang="{l2}">{second}</span>' if second else ""
        items.append(f'<li{cls}><span class="qg-o1" lang="{l1}">{first}</span>{other}</li>')
    return '<ol class="qg-choices" type="A">' + "".join(items) + "</ol>"


def citations_html(fact: Fact, project: Project, languages: tuple[str, ...]) -> str:
    """Every citation of a fact, each with its role, source and quote, in the order written.

    It fills the Source field (the other source fields stay empty), so the notetype's fields and
    templates stay as they are: a learner's notetype needs no update for a card to show both
    the article's claim and the evidence that corrects it.
    """
    items = []
    for citation in fact.citations:
        source = project.sources[citation.source]
        title = esc(source.title)
        if source.url:
            title = f'<a href="{html.escape(source.url, quote=True)}">{title}</a>'
        meta = "".join(f" · {esc(x)}" for x in (source.publisher, source.date) if x)
        quote = f'<blockquote class="qg-quote">{esc(citation.quote)}</blockquote>' if citation.quote else ""
        label = f'<span class="qg-label">{esc(role_words(citation.role, languages))}</span>'
        items.append(f'<div class="qg-cite qg-cite-{citation.role}">{label} {title}{meta}{quote}</div>')
    return "".join(items)


def note_fields(fact: Fact, project: Project, media_name: str) -> list[str]:
    langs = project.languages
    l1, l2 = langs[0], (langs[1] if len(langs) > 1 else "")
    f = dict.fromkeys(FIELDS, "")
    f["Lang1"], f["Lang2"] = l1, l2
    f["Prompt1"], f["Prompt2"] = slots(fact.prompt, l1, l2)
    if fact.type in ("basic", "choice"):
        f["Answer1"], f["Answer2"] = slots(fact.answer, l1, l2)
    if fact.type == "choice":
        options = option_order(fact)
        f["Options1"] = options_html(options, l1, l2)  # Options2 stays empty: both languages are in one list
        letter = LETTERS[[c for _, c in options].index(True)]
        f["Answer1"] = f"{letter}. {f['Answer1']}"
        if f["Answer2"]:
            f["Answer2"] = f"{letter}. {f['Answer2']}"
    if fact.type == "truefalse":
        t1, t2 = truth_words(l1), truth_words(l2)
        mark = "○ " if fact.truth else "× "
        f["Options1"] = f"○ {t1[0]} / × {t1[1]}"
        f["Answer1"] = mark + (t1[0] if fact.truth else t1[1])
        if l2 and t2 != t1:
            f["Options2"] = f"○ {t2[0]} / × {t2[1]}"
            f["Answer2"] = mark + (t2[0] if fact.truth else t2[1])
    f["Explanation1"], f["Explanation2"] = slots(fact.explanation, l1, l2)
    if fact.single_source:
        source = project.sources.get(fact.source)
        if source is not None:
            f["Source"] = esc(source.title)
            f["SourceUrl"] = html.escape(source.url, quote=True)
            f["SourceDate"] = esc(source.date)
            f["SourcePublisher"] = esc(source.publisher)
        f["Quote"] = esc(fact.quote)
    else:
        f["Source"] = citations_html(fact, project, (l1, l2))
    if media_name:
        f["Image"] = f'<img src="{html.escape(media_name, quote=True)}">'
    f["FactId"] = fact.id
    return [f[name] for name in FIELDS]


def note_tags(fact: Fact) -> list[str]:
    tags = [ids.anki_tag(t) for t in fact.tags] + [f"quizgen::{fact.type}"]
    for sid in dict.fromkeys(c.source for c in fact.citations if c.source):
        tags.append(f"source::{ids.anki_tag(sid)}")
    return sorted(dict.fromkeys(t for t in tags if t))


_TAG_RE = re.compile(r"<[^>]+>")


def sort_field(value: str) -> str:
    return html.unescape(_TAG_RE.sub("", value.replace("<br>", " ")))


def checksum(value: str) -> int:
    return int(hashlib.sha1(sort_field(value).encode("utf-8")).hexdigest()[:8], 16)


def card_ordinals(fact: Fact) -> list[int]:
    if fact.type != "cloze":
        return [0]
    numbers = {int(m.group(1)) for _, v in fact.text.items for m in CLOZE_RE.finditer(v)}  # type: ignore[union-attr]
    return sorted(n - 1 for n in numbers)


# ---------------------------------------------------------------------------
# package


def media_for(project: Project, fact: Fact, media: dict[str, str]) -> str:
    """Content-addressed media names: stable across builds, no two files collide.

    `media` maps the name to the image's project-relative path (cached rows stay valid if the
    project folder moves)."""
    if not fact.image:
        return ""
    with open(os.path.join(project.root, fact.image), "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:20]
    name = f"qg-{digest}{os.path.splitext(fact.image)[1].lower()}"
    media[name] = fact.image
    return name


def note_digest(model_id: int, deck: str, tags: str, flds: str) -> str:
    """A note's content in 16 hex digits: what quizgen.lock records and CHANGES.md compares.

    Equal digests mean Anki would see no change (notetype, deck, tags and fields are all in it).
    """
    return hashlib.sha256(f"{model_id}\x1e{deck}\x1e{tags}\x1e{flds}".encode()).hexdigest()[:16]


def file_rows(fact_file: FactFile, project: Project) -> dict:
    """Everything one fact file contributes to a package, before note times are known.

    Pure in the fact file, the project's sources and languages: the build caches it per file,
    so a one-file edit recomputes one file's rows.
    """
    media: dict[str, str] = {}
    notes = []
    for fact in fact_file.facts:
        fields = note_fields(fact, project, media_for(project, fact, media))
        tags = " " + " ".join(note_tags(fact)) + " "
        model_id = ids.NOTETYPE_IDS[fact.type]
        flds = "\x1f".join(fields)
        digest = note_digest(model_id, fact_file.deck, tags, flds)
        cards = [(ordinal, ids.card_id(project.id, fact.id, ordinal)) for ordinal in card_ordinals(fact)]
        notes.append(
            (
                fact.id,
                digest,
                ids.note_id(project.id, fact.id),
                fact.anki_guid or ids.note_guid(project.id, fact.id),  # an imported note keeps its GUID
                model_id,
                tags,
                flds,
                sort_field(fields[0]),
                checksum(fields[0]),
                cards,
            )
        )
    return {"deck": fact_file.deck, "notes": notes, "media": media}


_INT64 = range(-(2**63), 2**63)
MEDIA_NAME = re.compile(r"qg-[0-9a-f]{20}(\.[^/\x00]*)?")


def valid_rows(value) -> bool:
    """Whether `value` has exactly the shape `file_rows` returns (as plain data: lists for tuples).

    The build reuses a stored copy of a file's rows only when this holds, so a damaged or odd
    copy is recomputed rather than written into a package."""
    if type(value) is not dict or value.keys() != {"deck", "notes", "media"} or type(value["deck"]) is not str:
        return False
    media, notes = value["media"], value["notes"]
    if type(media) is not dict or type(notes) not in (list, tuple):
        return False
    for name, rel in media.items():  # media paths are read from the project: never absolute, never '..'
        if type(rel) is not str or not rel or rel.startswith("/") or "\0" in rel or ".." in rel.split("/"):
            return False
        if not MEDIA_NAME.fullmatch(name):
            return False
    for row in notes:
        if type(row) not in (list, tuple) or tuple(map(type, row)) not in _ROW_TYPES:
            return False
        nid, mid, csum, cards = row[2], row[4], row[8], row[9]
        if nid not in _INT64 or mid not in TYPE_BY_ID or csum not in _INT64:
            return False
        for card in cards:
            if type(card) not in (list, tuple) or len(card) != 2:
                return False
            if type(card[0]) is not int or type(card[1]) is not int or card[0] not in _INT64 or card[1] not in _INT64:
                return False
    return True


# (fact id, digest, note id, guid, notetype id, tags, fields, sort field, checksum, cards): as computed, and as
# stored (JSON has lists for tuples)
_ROW_TYPES = {(str, str, int, str, int, str, str, str, int, seq) for seq in (list, tuple)}


def write_package(path: str, files: list[FactFile], project: Project, options: Options, models) -> None:
    lock = options.lock
    media: dict[str, str] = {}
    used_note_ids: set[int] = set()
    used_card_ids: set[int] = set()
    decks = {ids.deck_id(f.deck): genanki.Deck(ids.deck_id(f.deck), f.deck).to_json() for f in files}
    tables, indexes = _schema()
    db_path = path + ".db"  # on disk, not in memory: zipfile then streams it in chunks
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(tables)
        conn.executescript(APKG_COL)
        default = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])["1"]
        conn.execute(
            "UPDATE col SET decks = ?, models = ?",
            (
                json.dumps({"1": default, **{str(k): v for k, v in sorted(decks.items())}}, sort_keys=True),
                json.dumps(
                    {str(m.model_id): m.to_json(NOTETYPE_MOD, min(decks)) for m in models.values()}, sort_keys=True
                ),
            ),
        )
        position = 0
        digests = options.report.setdefault("note_digests", {})  # fact id -> content digest, for the build
        for fact_file in files:
            rows = options.memo("anki-rows", fact_file, lambda f=fact_file: file_rows(f, project), valid_rows)
            did = ids.deck_id(rows["deck"])
            for row in rows["notes"]:
                digests[row[0]] = row[1]
            media.update(rows["media"])
            notes, cards = [], []
            for fact_id, digest, nid, guid, mid, tags, flds, sfld, csum, card_list in rows["notes"]:
                mod = lock.stamp(fact_id, digest) if lock is not None else (options.epoch or 0)
                nid = _unique(nid, used_note_ids)
                notes.append((nid, guid, mid, mod, -1, tags, flds, sfld, csum, 0, ""))
                for ordinal, cid in card_list:
                    position += 1
                    cards.append(
                        (
                            _unique(cid, used_card_ids),
                            nid,
                            did,
                            ordinal,
                            mod,
                            -1,
                            0,
                            0,
                            position,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0,
                            "",
                        )
                    )
            conn.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", notes)
            conn.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        conn.executescript(indexes)  # after the inserts: building an index once beats updating it 200,000 times
        conn.commit()
    finally:
        conn.close()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = _info("collection.anki2")
        with open(db_path, "rb") as src, zf.open(info, "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.remove(db_path)
        names = sorted(media)
        _add(zf, "media", json.dumps({str(i): n for i, n in enumerate(names)}).encode())
        for i, name in enumerate(names):
            with open(os.path.join(project.root, media[name]), "rb") as fh:
                _add(zf, str(i), fh.read())


def _schema() -> tuple[str, str]:
    """genanki's schema, split into tables and indexes (which are created after the inserts)."""
    statements = [st.strip() for st in APKG_SCHEMA.split(";") if st.strip()]
    tables = ";\n".join(st for st in statements if not st.upper().startswith("CREATE INDEX")) + ";"
    indexes = ";\n".join(st for st in statements if st.upper().startswith("CREATE INDEX")) + ";"
    return tables, indexes


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    zf.writestr(_info(name), data)


def _info(name: str) -> zipfile.ZipInfo:
    """Fixed entry time and attributes: the same inputs give the same bytes."""
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    if hasattr(info, "compress_level"):  # Python 3.13+ names it publicly
        info.compress_level = ZIP_LEVEL
    else:
        info._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def _unique(candidate: int, used: set[int]) -> int:
    """Derived ids collide with negligible probability; when they do, step deterministically."""
    while candidate in used:
        candidate += 1
    used.add(candidate)
    return candidate


def write(project: Project, out: str, options: Options) -> list[str]:
    models = notetypes()
    written = []
    for top, files in project.top_decks().items():
        name = ids.slug(top) + ".apkg"
        if options.progress:
            options.progress(f"apkg: {name}")
        write_package(os.path.join(out, name), files, project, options, models)
        written.append(name)
    return written
