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

from .. import cloze, ids, packaging
from ..errors import QuizgenError
from ..model import Fact, FactFile, Project, Text
from ..present import LETTERS, option_order, role_words, shuffles, truth_words
from ..resources import read_shipped
from . import Options

FORMAT = "apkg"
DESCRIPTION = "Anki packages, one per top-level deck (or one per project)"

# Bump (to a later time) whenever templates or CSS change, never the fields.
NOTETYPE_MOD = 1_764_200_000  # last change: the final layout (reverse, hint, audio, citations), review-time shuffle
ZIP_LEVEL = 1  # measured on 100,000 notes: 6% larger than level 6, 2.7x faster

# The final field layout of all four notetypes.  Anki matches a notetype's layout by its field and
# template names in order; a package whose names differ is a "conflict": Anki then makes a copy
# notetype ("quizgen Basic+") and updates none of the learner's notes.  So the layout is fixed
# once, here, with room for what later releases need, and never changes again.
#   - the first 17 are the layout of the first builds, unchanged and in their order: Anki's
#     "Merge note types" import appends new fields at the end, so a learner who upgrades from that
#     layout ends with exactly this one (tests/test_anki_upgrade.py);
#   - Hint1/2 and Audio1/2 are empty today ({{hint:}} and [sound:] on the front when filled);
#   - Citations holds a fact's rendered citations when it cites more than one source or a claim;
#   - Reverse, when not empty, makes the Basic notetype's second template ("Reverse") a card;
#   - Extra is reserved for a later release's data (empty today), so it needs no new field.
# The fact id (FactId) is the browser's sort field and is not printed on the card.
FIELDS = (
    "Prompt1", "Prompt2", "Answer1", "Answer2", "Options1", "Options2",
    "Explanation1", "Explanation2", "Lang1", "Lang2",
    "Source", "SourceUrl", "SourceDate", "SourcePublisher", "Quote", "Image", "FactId",
    "Hint1", "Hint2", "Audio1", "Audio2", "Citations", "Reverse", "Extra",
)  # fmt: skip
FIRST_LAYOUT = FIELDS[:17]  # what packages built before the final layout have
SORT_FIELD = FIELDS.index("FactId")
TYPE_BY_ID = {mid: kind for kind, mid in ids.NOTETYPE_IDS.items()}
NOTETYPE_NAMES = {
    "basic": "quizgen Basic",
    "choice": "quizgen Multiple choice",
    "cloze": "quizgen Cloze",
    "truefalse": "quizgen True/False",
}
TEMPLATE_NAMES = {"basic": ("Card 1", "Reverse"), "choice": ("Card 1",), "cloze": ("Cloze",), "truefalse": ("Card 1",)}


def two(name: str, filt: str = "") -> str:
    """Both language slots of a field, the second only when present."""
    return (
        f'{{{{#{name}1}}}}<div class="qg-l1" lang="{{{{Lang1}}}}">{{{{{filt}{name}1}}}}</div>{{{{/{name}1}}}}'
        f'{{{{#{name}2}}}}<div class="qg-l2" lang="{{{{Lang2}}}}">{{{{{filt}{name}2}}}}</div>{{{{/{name}2}}}}'
    )


IMAGE = '{{#Image}}<div class="qg-image">{{Image}}</div>{{/Image}}'
AUDIO = "".join(f'{{{{#Audio{n}}}}}<div class="qg-audio">{{{{Audio{n}}}}}</div>{{{{/Audio{n}}}}}' for n in "12")
HINT = '{{#Hint1}}<div class="qg-hint">' + two("Hint", "hint:") + "</div>{{/Hint1}}"
SOURCE = (
    '{{#Source}}<div class="qg-source"><span class="qg-label">출처 · Source</span> '
    '{{#SourceUrl}}<a href="{{SourceUrl}}">{{Source}}</a>{{/SourceUrl}}{{^SourceUrl}}{{Source}}{{/SourceUrl}}'
    "{{#SourcePublisher}} · {{SourcePublisher}}{{/SourcePublisher}}{{#SourceDate}} · {{SourceDate}}{{/SourceDate}}"
    '{{#Quote}}<blockquote class="qg-quote">{{Quote}}</blockquote>{{/Quote}}</div>{{/Source}}'
)
TAIL = (
    '{{#Explanation1}}<div class="qg-expl">' + two("Explanation") + "</div>{{/Explanation1}}"
    '{{#Citations}}<div class="qg-source">{{Citations}}</div>{{/Citations}}{{^Citations}}' + SOURCE + "{{/Citations}}"
)

# Choice options are shuffled at review time by this script, the usual way on Anki desktop,
# AnkiDroid and AnkiMobile.  The front draws an order and keeps it (in the page's window, which
# the desktop keeps between the two sides, and in sessionStorage, which AnkiDroid and AnkiMobile
# keep), keyed by the fact id; the back reads it, so both sides agree within one review, and moves
# the answer letter with the answer.  Only a list marked data-qg-shuffle is reordered (the
# writer marks it unless the fact says `shuffle: false`); without scripts, or when the back finds
# no order from its front (a preview of the back alone), the card shows the fixed order.
SHUFFLE_JS = r"""<script>
(function (side) {
  var root = document.querySelectorAll(".qg-choices[data-qg-shuffle]");
  var list = root[root.length - 1];
  if (!list) return;
  var items = Array.prototype.slice.call(list.children);
  var key = "qg-order:" + list.getAttribute("data-qg-shuffle") + ":" + items.length;
  var order = null;
  function valid(o) {
    if (!o || o.length !== items.length) return false;
    var seen = {};
    for (var i = 0; i < o.length; i++) {
      if (typeof o[i] !== "number" || o[i] < 0 || o[i] >= o.length || seen[o[i]]) return false;
      seen[o[i]] = true;
    }
    return true;
  }
  if (side === "front") {
    order = items.map(function (_, i) { return i; });
    for (var i = order.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = order[i]; order[i] = order[j]; order[j] = t;
    }
    window.qgOrders = window.qgOrders || {};
    window.qgOrders[key] = order;
    try { sessionStorage.setItem(key, JSON.stringify(order)); } catch (e) {}
  } else {
    order = window.qgOrders && window.qgOrders[key];
    if (!valid(order)) {
      try { order = JSON.parse(sessionStorage.getItem(key)); } catch (e) { order = null; }
    }
    if (!valid(order)) return;
  }
  order.forEach(function (i) { list.appendChild(items[i]); });
  var letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  var at = Array.prototype.indexOf.call(list.children, list.querySelector(".qg-correct"));
  if (at >= 0) {
    Array.prototype.forEach.call(document.querySelectorAll(".qg-letter"), function (el) {
      el.textContent = letters.charAt(at);
    });
  }
})("%s");
</script>"""


def _front_body(kind: str, prompt: str) -> str:
    body = f'<div class="qg qg-{kind}"><div class="qg-prompt">{prompt}</div>{IMAGE}{AUDIO}'
    if kind in ("choice", "truefalse"):
        body += f'<div class="qg-options">{two("Options")}</div>'
    return body + HINT + "</div>"


def _card(kind: str, prompt: str, answer: str) -> tuple[str, str]:
    """Front and back of one template.  The back repeats the front's markup rather than using
    {{FrontSide}}: the front's script must not run again on the back (and draw a new order)."""
    front = _front_body(kind, prompt)
    back = (
        f'<div class="qg-back">{front}</div><hr id="answer">'
        f'<div class="qg qg-{kind}"><div class="qg-answer">{answer}</div>{TAIL}</div>'
    )
    if kind == "choice":
        return front + SHUFFLE_JS % "front", back + SHUFFLE_JS % "back"
    return front, back


def _templates(kind: str) -> list[tuple[str, str, str]]:
    """(name, front, back) of each template of a notetype."""
    if kind == "cloze":
        text = two("Prompt", "cloze:")
        front = f'<div class="qg qg-cloze">{text}{IMAGE}{AUDIO}{HINT}</div>'
        back = f'<div class="qg qg-cloze qg-back">{text}{IMAGE}{AUDIO}<hr id="answer">{TAIL}</div>'
        return [("Cloze", front, back)]
    cards = [("Card 1", *_card(kind, two("Prompt"), two("Answer")))]
    if kind == "basic":
        # Empty, so no card, unless the note's Reverse field is set (the fact says `reverse: true`).
        front, back = _card("basic qg-reverse", two("Answer"), two("Prompt"))
        cards.append(("Reverse", "{{#Reverse}}" + front + "{{/Reverse}}", back))
    assert tuple(name for name, _, _ in cards) == TEMPLATE_NAMES[kind]
    return cards


def _layout_id(kind: str, name: str) -> int:
    """Stable ids for fields and templates: Anki (2.1.67+) merges notetypes by them."""
    return ids.layout_id(kind, name)


def notetypes() -> dict[str, genanki.Model]:
    # Always the shipped CSS, never a project override: the notetype must be the same for every deck.
    css = read_shipped("anki-card.css")
    models = {}
    for kind, name in NOTETYPE_NAMES.items():
        models[kind] = genanki.Model(
            ids.NOTETYPE_IDS[kind],
            name,
            fields=[{"name": f, "id": _layout_id("field", f)} for f in FIELDS],
            templates=[
                {"name": t, "qfmt": front, "afmt": back, "id": _layout_id(f"template:{kind}", t)}
                for t, front, back in _templates(kind)
            ],
            css=css,
            model_type=genanki.Model.CLOZE if kind == "cloze" else genanki.Model.FRONT_BACK,
            sort_field_index=SORT_FIELD,
        )
    return models


# ---------------------------------------------------------------------------
# fields


def esc(text: str) -> str:
    """Fact text is data: escape it, keep line breaks visible."""
    return html.escape(text.strip(), quote=False).replace("\r\n", "\n").replace("\n", "<br>")


def slots(text: Text | None, l1: str, l2: str) -> tuple[str, str]:
    """(first, second) language slot; a neutral text fills the first slot only.

    In a one-language build (no l2) a text that lacks l1 shows its first language instead: a
    card is never empty (`check --lint` warns about the missing language: missing-language)."""
    if text is None:
        return "", ""
    a, b = text.get(l1), text.get(l2) if l2 else None
    if a is None and not l2 and text.items:
        a = text.items[0][1]
    if b is not None and (a is None or a == b):
        a, b = (b, None) if a is None else (a, None)
    return esc(a or ""), esc(b or "")


def options_html(options: list[tuple[Text, bool]], l1: str, l2: str, shuffle_key: str = "") -> str:
    """One lettered list; each option in the primary language, the other language beneath it, smaller.

    `shuffle_key` (the fact id) marks the list for the card's script to shuffle at review time."""
    items = []
    for text, correct in options:
        first, second = slots(text, l1, l2)
        cls = ' class="qg-correct"' if correct else ""
        other = f'<span class="qg-o2" lang="{l2}">{second}</span>' if second else ""
        items.append(f'<li{cls}><span class="qg-o1" lang="{l1}">{first}</span>{other}</li>')
    mark = f' data-qg-shuffle="{html.escape(shuffle_key, quote=True)}"' if shuffle_key else ""
    return f'<ol class="qg-choices" type="A"{mark}>' + "".join(items) + "</ol>"


def citations_html(fact: Fact, project: Project, languages: tuple[str, ...]) -> str:
    """Every citation of a fact, each with its role, source and quote, in the order written.

    It fills the Citations field (the Source fields stay empty): a card then shows both the
    article's claim and the evidence that corrects it.
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


def variant_of(project: Project, lang: str | None) -> str:
    """'' for the full (all-language) build, else the one language a build puts on the cards."""
    lang = lang or project.anki_lang
    return "" if lang == "both" or project.languages == (lang,) else lang


def note_fields(fact: Fact, project: Project, media_name: str, variant: str = "") -> list[str]:
    langs = project.languages
    l1, l2 = langs[0], (langs[1] if len(langs) > 1 else "")
    if variant:
        l1, l2 = variant, ""
    f = dict.fromkeys(FIELDS, "")
    f["Lang1"], f["Lang2"] = l1, l2
    f["Prompt1"], f["Prompt2"] = slots(fact.prompt, l1, l2)
    if fact.type in ("basic", "choice"):
        f["Answer1"], f["Answer2"] = slots(fact.answer, l1, l2)
    if fact.type == "choice":
        options = option_order(fact)
        # Options2 stays empty: both languages are in one list
        f["Options1"] = options_html(options, l1, l2, fact.id if shuffles(fact) else "")
        letter = f'<span class="qg-letter">{LETTERS[[c for _, c in options].index(True)]}</span>'
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
        f["Citations"] = citations_html(fact, project, (l1, l2))
    if media_name:
        f["Image"] = f'<img src="{html.escape(media_name, quote=True)}">'
    f["FactId"] = fact.id
    if fact.type == "basic" and fact.reverse:
        f["Reverse"] = "y"
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
    if fact.type == "basic" and fact.reverse:
        return [0, 1]  # the Reverse template
    if fact.type != "cloze":
        return [0]
    numbers = {d.number for _, v in fact.text.items for d in cloze.scan(v)}  # type: ignore[union-attr]
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


def file_rows(fact_file: FactFile, project: Project, variant: str = "") -> dict:
    """Everything one fact file contributes to a package, before note times are known.

    Pure in the fact file, the project's sources and languages and the variant (one language, or
    '' for all): the build caches it per file, so a one-file edit recomputes one file's rows.
    """
    media: dict[str, str] = {}
    notes = []
    for fact in fact_file.facts:
        key = ids.note_key(fact.id, variant)
        fields = note_fields(fact, project, media_for(project, fact, media), variant)
        tags = " " + " ".join(note_tags(fact)) + " "
        model_id = ids.NOTETYPE_IDS[fact.type]
        flds = "\x1f".join(fields)
        digest = note_digest(model_id, fact_file.deck, tags, flds)
        cards = [(ordinal, ids.card_id(project.id, key, ordinal)) for ordinal in card_ordinals(fact)]
        notes.append(
            (
                fact.id,
                digest,
                ids.note_id(project.id, key),
                # an imported note keeps its GUID (in the full build; a one-language build has notes of its own)
                (fact.anki_guid if not variant else "") or ids.note_guid(project.id, key),
                model_id,
                tags,
                flds,
                sort_field(fields[SORT_FIELD]),
                checksum(fields[0]),  # Anki's duplicate check always hashes the first field
                cards,
            )
        )
    return {"deck": fact_file.deck, "notes": notes, "media": media}


def deck_descriptions(files: list[FactFile], project: Project, variant: str) -> dict[str, str]:
    """deck name -> the HTML of its description in Anki's deck overview (escaped text; the
    descriptions of several files of one deck one after the other)."""
    found: dict[str, list[str]] = {}
    for fact_file in files:
        text = fact_file.description
        if text is None:
            continue
        if variant:
            parts = [slots(text, variant, "")[0]]
        else:
            parts = [esc(value) for _, value in text.in_order(project.languages)]
        found.setdefault(fact_file.deck, []).extend(p for p in parts if p)
    return {deck: "<br><br>".join(parts) for deck, parts in found.items()}


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


def write_package(
    path: str, files: list[FactFile], project: Project, options: Options, models, variant: str = ""
) -> None:
    lock = options.lock
    media: dict[str, str] = {}
    used_note_ids: set[int] = set()
    used_card_ids: set[int] = set()
    descriptions = deck_descriptions(files, project, variant)
    decks = {
        ids.deck_id(f.deck): genanki.Deck(ids.deck_id(f.deck), f.deck, descriptions.get(f.deck, "")).to_json()
        for f in files
    }
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
            rows = options.memo(
                f"anki-rows:{variant}", fact_file, lambda f=fact_file: file_rows(f, project, variant), valid_rows
            )
            did = ids.deck_id(rows["deck"])
            for row in rows["notes"]:
                digests[row[0]] = row[1]
            media.update(rows["media"])
            notes, cards = [], []
            for fact_id, digest, nid, guid, mid, tags, flds, sfld, csum, card_list in rows["notes"]:
                mod = lock.stamp(ids.note_key(fact_id, variant), digest) if lock is not None else (options.epoch or 0)
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
    """Fixed entry time and attributes (packaging.entry), at the level measured best for packages."""
    return packaging.entry(name, ZIP_LEVEL)


def _unique(candidate: int, used: set[int]) -> int:
    """Derived ids collide with negligible probability; when they do, step deterministically."""
    while candidate in used:
        candidate += 1
    used.add(candidate)
    return candidate


def packages(project: Project, mode: str) -> dict[str, list[FactFile]]:
    """package name (without .apkg) -> its fact files: one per top-level deck, or one for all."""
    groups = project.top_decks()
    if mode != "one" or len(groups) == 1:  # one top-level deck: the same package either way
        return {ids.slug(top): files for top, files in groups.items()}
    name = ids.slug(project.title or os.path.basename(project.root.rstrip(os.sep)) or "deck")
    return {name: [f for files in groups.values() for f in files]}


def write(project: Project, out: str, options: Options) -> list[str]:
    """Per top-level deck (or one for the project), `<deck>.apkg`, or `<deck>-ko.apkg` with one language.

    Options: `lang` (a project language or both; default the project's `anki: {lang}`) and
    `apkg` (per-deck or one; default `anki: {package}`)."""
    models = notetypes()
    lang = options.lang or project.anki_lang
    if lang != "both" and lang not in project.languages:
        raise QuizgenError(f"--lang {lang}: not a project language ({', '.join(project.languages)})")
    variant = variant_of(project, lang)
    written = []
    for stem, files in packages(project, options.apkg or project.anki_package).items():
        name = f"{stem}-{variant}.apkg" if variant else f"{stem}.apkg"
        if options.progress:
            options.progress(f"apkg: {name}")
        write_package(os.path.join(out, name), files, project, options, models, variant)
        written.append(name)
    return written
