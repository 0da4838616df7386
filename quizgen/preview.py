"""Cards as Anki shows them, rendered from a built .apkg: the preview reads what learners get.

Why from the package and not from the Anki writer: the package *is* the interface.
Reading the notetypes' templates and CSS and the notes' fields out of the
collection inside the .apkg means the preview can never disagree with what a
learner imports, and this module needs nothing from any writer.

`render()` implements the part of Anki's template language the notetypes use
(`{{Field}}`, `{{#Field}}...{{/Field}}`, `{{^Field}}...{{/Field}}`,
`{{cloze:Field}}`, `{{FrontSide}}`), producing the same HTML as Anki's own
renderer; tests/test_serve.py compares the two card by card with the official
`anki` package.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass

TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)
MAX_COLLECTION = 512 * 1024 * 1024  # a preview refuses larger collections rather than fill the disk


@dataclass(frozen=True)
class Card:
    deck: str
    notetype: str
    fact_id: str
    ordinal: int  # 0-based, as in Anki's cards table
    front: str  # HTML of the question side
    back: str  # HTML of the answer side
    css: str  # the notetype's CSS


# ---------------------------------------------------------------------------------------
# Anki's template language (the subset quizgen's notetypes use)


def empty(value: str) -> bool:
    """Anki treats a field of only whitespace and bare line breaks as empty."""
    return not re.sub(r"<br\s*/?>|<div>\s*</div>|\s", "", value or "")


def encode_attribute(text: str) -> str:
    """Anki's attribute escaping for data-cloze: every ASCII character but letters and digits as &#xHH;."""
    return "".join(f"&#x{ord(c):X};" if ord(c) < 128 and not c.isalnum() else c for c in text)


def cloze(text: str, ordinal: int, question: bool) -> str:
    """`{{cloze:Field}}` for card `ordinal` (1-based): its deletions hidden on the front, shown on the back."""

    def one(match: re.Match) -> str:
        number, body, hint = int(match.group(1)), match.group(2), match.group(3)
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{body}</span>'
        if question:
            shown = f"[{hint}]" if hint else "[...]"
            return f'<span class="cloze" data-cloze="{encode_attribute(body)}" data-ordinal="{number}">{shown}</span>'
        return f'<span class="cloze" data-ordinal="{number}">{body}</span>'

    return CLOZE.sub(one, text)


def render(template: str, fields: dict[str, str], ordinal: int, question: bool, front_side: str = "") -> str:
    """One side of a card: `ordinal` is 1-based (the cloze number of a cloze card)."""
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open sections: (name, whether the enclosing text shows)
    showing = True
    pos = 0
    for match in TAG.finditer(template):
        if showing:
            out.append(template[pos : match.start()])
        pos = match.end()
        tag = match.group(1).strip()
        if tag[:1] in "#^":
            name = tag[1:].strip()
            stack.append((name, showing))
            present = not empty(fields.get(name, ""))
            showing = showing and (present if tag[0] == "#" else not present)
        elif tag[:1] == "/":
            if stack:
                _, showing = stack.pop()
        elif showing:
            out.append(replacement(tag, fields, ordinal, question, front_side))
    if showing:
        out.append(template[pos:])
    return "".join(out)


def replacement(tag: str, fields: dict[str, str], ordinal: int, question: bool, front_side: str) -> str:
    if tag == "FrontSide":
        return front_side
    *filters, name = tag.split(":")
    value = fields.get(name)
    if value is None:
        return f"{{unknown field {name}}}"
    for name in reversed(filters):
        if name == "cloze":
            value = cloze(value, ordinal, question)
        elif name == "text":
            value = re.sub(r"<[^>]+>", "", value)
    return value


# ---------------------------------------------------------------------------------------
# reading a package


def package_cards(path: str) -> list[Card]:
    """Every card of an .apkg, in the package's own order, rendered front and back.

    Media (images) are inlined as data: URIs so that a preview page needs nothing else."""
    with zipfile.ZipFile(path) as zf, tempfile.TemporaryDirectory(prefix="quizgen-preview-") as tmp:
        info = zf.getinfo("collection.anki2")
        if info.file_size > MAX_COLLECTION:
            raise ValueError(f"{path}: collection too large to preview")
        db = zf.extract(info, tmp)
        media_names = json.loads(zf.read("media")) if "media" in zf.namelist() else {}
        media = {name: zf.read(number) for number, name in media_names.items() if number in zf.namelist()}
        conn = sqlite3.connect(db)
        try:
            models_json, decks_json = conn.execute("SELECT models, decks FROM col").fetchone()
            rows = conn.execute(
                "SELECT n.mid, n.flds, c.ord, c.did FROM cards c JOIN notes n ON n.id = c.nid ORDER BY c.due, c.id"
            ).fetchall()
        finally:
            conn.close()
    models = json.loads(models_json)
    decks = {int(k): v["name"] for k, v in json.loads(decks_json).items()}
    cards = []
    for mid, flds, ord_, did in rows:
        model = models[str(mid)]
        names = [f["name"] for f in sorted(model["flds"], key=lambda f: f["ord"])]
        fields = dict(zip(names, (inline_media(v, media) for v in flds.split("\x1f"))))
        is_cloze = model.get("type") == 1
        template = model["tmpls"][0 if is_cloze else ord_]
        number = ord_ + 1
        front = render(template["qfmt"], fields, number, True)
        back = render(template["afmt"], fields, number, False, front)
        cards.append(
            Card(decks.get(did, ""), model["name"], fields.get("FactId", ""), ord_, front, back, model.get("css", ""))
        )
    return cards


def inline_media(value: str, media: dict[str, bytes]) -> str:
    def swap(match: re.Match) -> str:
        name = match.group(2)
        if name not in media:
            return match.group(0)
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return f"{match.group(1)}data:{mime};base64,{base64.b64encode(media[name]).decode()}{match.group(3)}"

    return re.sub(r'(<img[^>]*\ssrc=")([^"]+)(")', swap, value) if "<img" in value else value
