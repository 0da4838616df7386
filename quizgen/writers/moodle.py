"""Moodle XML (`<stem>.moodle.xml`): every deck file and every quiz, for Site administration →
Question bank → Import, format "Moodle XML".

The traps, all handled here:
- Question text is HTML inside XML: fact text is HTML-escaped first, then the XML writer
  escapes it again, so `<script>` or `]]>` arrive as text (no CDATA, which `]]>` would end).
- Cloze (embedded answers) text is parsed by Moodle for `{N:TYPE:...}`: braces in the
  surrounding text become `&#123;`/`&#125;` so they can never start a field, and the answers
  inside a field escape `} # ~ / " \\` with a backslash, as Moodle's cloze parser expects.
- A category path uses `/` between levels, so a `/` inside a deck name is written `//`.
- `answernumbering` follows the numbering (circled digits → 123, letters → ABCD).
- Images travel as base64 `<file>` elements referenced by `@@PLUGINFILE@@/name`.
"""

from __future__ import annotations

import base64
import html
import os
import xml.etree.ElementTree as ET

from ..lms import Blank, Export, Item, exports, output_path, truth_label
from ..model import Project
from . import Options

FORMAT = "moodle"
DESCRIPTION = "Moodle XML question banks, one per deck file (and per quiz)"

PENALTY = "0.3333333"


def esc(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def paragraphs(pairs) -> str:
    return "".join(f'<p lang="{lang}">{esc(text)}</p>' if lang else f"<p>{esc(text)}</p>" for lang, text in pairs)


def text_el(parent: ET.Element, tag: str, value: str, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = value
    return el


def cloze_answer(text: str) -> str:
    """An answer inside {1:SHORTANSWER:=...}: Moodle's cloze parser needs these escaped."""
    for ch in ("\\", "}", "#", "~", "/", '"'):
        text = text.replace(ch, "\\" + ch)
    return html.escape(text, quote=False)


def no_fields(text: str) -> str:
    """Surrounding cloze text, escaped so that no brace in it can start an embedded field."""
    return esc(text).replace("{", "&#123;").replace("}", "&#125;")


def image_html(item: Item) -> str:
    return f'<p><img src="@@PLUGINFILE@@/{html.escape(item.media_name, quote=True)}" alt=""></p>' if item.image else ""


def attach(project: Project, parent: ET.Element, item: Item) -> None:
    if item.image:
        with open(os.path.join(project.root, item.image), "rb") as fh:
            data = base64.b64encode(fh.read()).decode("ascii")
        ET.SubElement(parent, "file", {"name": item.media_name, "path": "/", "encoding": "base64"}).text = data


def question(project: Project, quiz: ET.Element, item: Item, numbering: str) -> None:
    kind = {"choice": "multichoice", "truefalse": "truefalse", "basic": "shortanswer", "cloze": "cloze"}[item.type]
    q = ET.SubElement(quiz, "question", {"type": kind})
    text_el(q, "name", item.name, None)
    if item.type == "cloze":
        body = "<p>"
        for seg in item.segments:
            if isinstance(seg, Blank):
                answers = "~".join("=" + cloze_answer(a) for a in seg.answers)
                body += f"{{1:SHORTANSWER:{answers}}}"
            else:
                body += no_fields(seg)
        body += "</p>" + "".join(f'<p lang="{k}">{no_fields(v)}</p>' for k, v in item.others)
    else:
        body = paragraphs(item.prompt)
    qt = text_el(q, "questiontext", body + image_html(item))
    attach(project, qt, item)
    text_el(q, "generalfeedback", "".join(f"<p>{esc(p)}</p>" for p in item.feedback))
    ET.SubElement(q, "defaultgrade").text = f"{item.points:g}"
    ET.SubElement(q, "penalty").text = PENALTY
    ET.SubElement(q, "hidden").text = "0"
    ET.SubElement(q, "idnumber").text = item.id
    if item.type == "choice":
        ET.SubElement(q, "single").text = "true"
        ET.SubElement(q, "shuffleanswers").text = "false" if item.fixed_order else "true"
        ET.SubElement(q, "answernumbering").text = "123" if numbering == "circled-digits" else "ABCD"
        ET.SubElement(q, "showstandardinstruction").text = "0"
        for texts, correct in item.options:
            a = text_el(q, "answer", paragraphs(texts))
            a.set("fraction", "100" if correct else "0")
            text_el(a, "feedback", "")
    elif item.type == "truefalse":
        for value in (True, False):
            a = ET.SubElement(
                q, "answer", {"fraction": "100" if item.truth is value else "0", "format": "moodle_auto_format"}
            )
            ET.SubElement(a, "text").text = "true" if value else "false"
            fb = text_el(a, "feedback", esc(truth_label(item.truth, item.languages)))
            del fb
    elif item.type == "basic":
        ET.SubElement(q, "usecase").text = "0"
        for answer in item.answers:
            a = ET.SubElement(q, "answer", {"fraction": "100", "format": "moodle_auto_format"})
            ET.SubElement(a, "text").text = answer
            text_el(a, "feedback", "")


def category_question(quiz: ET.Element, parts) -> None:
    q = ET.SubElement(quiz, "question", {"type": "category"})
    path = "/".join(p.replace("/", "//") for p in parts)
    text_el(q, "category", f"$course$/top/{path}", None)


def description(quiz: ET.Element, name: str, text: str) -> None:
    """A quiz's instructions (and time limit) as Moodle's text-only 'description' question."""
    q = ET.SubElement(quiz, "question", {"type": "description"})
    text_el(q, "name", name, None)
    text_el(q, "questiontext", "".join(f"<p>{esc(line)}</p>" for line in text.split("\n") if line.strip()))
    text_el(q, "generalfeedback", "")
    ET.SubElement(q, "defaultgrade").text = "0"
    ET.SubElement(q, "penalty").text = "0"
    ET.SubElement(q, "hidden").text = "0"


def document(project: Project, export: Export) -> bytes:
    quiz = ET.Element("quiz")
    category_question(quiz, export.category)
    intro = "\n".join(x for x in (export.instructions, f"{export.minutes} min" if export.minutes else "") if x)
    if intro:
        description(quiz, export.title, intro)
    for item in export.items:
        question(project, quiz, item, export.numbering)
    ET.indent(quiz, "  ")
    body = ET.tostring(quiz, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def write(project: Project, out: str, options: Options) -> list[str]:
    written = []
    for export in exports(project, options.lang or "both"):
        path, rel = output_path(out, export, ".moodle.xml")
        with open(path, "wb") as fh:
            fh.write(document(project, export))
        written.append(rel)
    return written
