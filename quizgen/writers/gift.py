"""GIFT (`<stem>.gift.txt`): every deck file and every quiz, for a quick paste into Moodle's
Question bank → Import, format "GIFT".

The traps, all handled here:
- `\\ ~ = # { } :` are escaped with a backslash in every text (title, question, answers,
  feedback).  Unescaped, Moodle turns `{a}` in a question into a short-answer question and
  reads `=C# ~C+` as the answer "C".
- A blank line ends a question, so line breaks inside a text are written as `<br>` in the
  `[html]` format.  `[html]` is written only when it is needed: when a text has a line break,
  characters that are markup in HTML (`< > &`), or two languages shown as two paragraphs.
- GIFT has one gap per question, so a cloze with several deletions becomes one question per
  deletion (`id-c2`), like Anki's one card per deletion.
- GIFT has no points and cannot carry images: points are left to the quiz (Moodle's default
  grade is 1), and every fact with an image is named in a build warning, never dropped silently.
"""

from __future__ import annotations

import html

from ..lms import Blank, Export, Item, exports, output_path, truth_label
from ..model import Project
from . import Options

FORMAT = "gift"
DESCRIPTION = "GIFT text for pasting into Moodle, one per deck file (and per quiz)"

SPECIAL = "\\~=#{}:"


def gift_escape(text: str) -> str:
    out = text
    for ch in SPECIAL:  # the backslash first, so that escapes added later are not doubled
        out = out.replace(ch, "\\" + ch)
    return out


def needs_html(pairs) -> bool:
    return len(pairs) > 1 or any(ch in v for _, v in pairs for ch in "<>&\n")


def rich(pairs, force_html: bool = False) -> tuple[str, bool]:
    """(GIFT text, is html) of one or more (lang, text) blocks."""
    if not (force_html or needs_html(pairs)):
        return gift_escape(" ".join(v for _, v in pairs)), False
    body = "".join(
        (f'<p lang="{lang}">' if lang else "<p>") + html.escape(v, quote=False).replace("\n", "<br>") + "</p>"
        for lang, v in pairs
    )
    return gift_escape(body), True


def plain(text: str, as_html: bool) -> str:
    """An answer or feedback text in the question's format."""
    if as_html:
        return gift_escape(html.escape(text, quote=False).replace("\n", "<br>"))
    return gift_escape(text.replace("\n", " "))


def general_feedback(item: Item, as_html: bool) -> str:
    if not item.feedback:
        return ""
    if as_html:
        return "####" + gift_escape("".join(f"<p>{html.escape(p, quote=False)}</p>" for p in item.feedback))
    return "####" + gift_escape(" ".join(p.replace("\n", " ") for p in item.feedback))


def question(item: Item) -> list[str]:
    """One GIFT question (several for a cloze with several deletions)."""
    if item.type == "cloze":
        return cloze_questions(item)
    text, as_html = rich(item.prompt)
    as_html = (
        as_html or any(needs_html(t) for t, _ in item.options) or any(ch in p for p in item.feedback for ch in "<>&\n")
    )
    if as_html and not text.startswith("<p"):
        text, _ = rich(item.prompt, force_html=True)
    head = f"::{gift_escape(item.id)}::" + ("[html]" if as_html else "") + text
    if item.type == "choice":
        answers = []
        for texts, correct in item.options:
            value = rich(texts, force_html=True)[0] if as_html else gift_escape(" / ".join(v for _, v in texts))
            answers.append(("=" if correct else "~") + value)
        body = "\n".join(answers)
    elif item.type == "truefalse":
        word = truth_label(bool(item.truth), item.languages)
        body = ("TRUE" if item.truth else "FALSE") + "#" + plain(word, as_html) + "#" + plain(word, as_html)
    else:
        body = "\n".join("=" + plain(a, as_html) for a in item.answers)
    return [f"{head}{{\n{body}\n{general_feedback(item, as_html)}\n}}"]


def cloze_questions(item: Item) -> list[str]:
    numbers = sorted({seg.n for seg in item.segments if isinstance(seg, Blank)})
    as_html = any(ch in s for s in item.segments if isinstance(s, str) for ch in "<>&\n") or bool(item.others)
    as_html = as_html or any(ch in p for p in item.feedback for ch in "<>&\n")
    out = []
    for n in numbers:
        text, gap_done = "", False
        for seg in item.segments:
            if isinstance(seg, Blank):
                if seg.n == n and not gap_done:
                    answers = " ".join("=" + plain(a, as_html) for a in seg.answers)
                    text += "{" + answers + general_feedback(item, as_html) + "}"
                    gap_done = True
                elif seg.n == n:
                    text += "___"
                else:
                    text += plain(seg.answers[0], as_html)
            else:
                text += plain(seg, as_html)
        if as_html:
            text = (
                "<p>"
                + text
                + "</p>"
                + "".join(gift_escape(f'<p lang="{k}">{html.escape(v, quote=False)}</p>') for k, v in item.others)
            )
        name = item.id if len(numbers) == 1 else f"{item.id}-c{n}"
        out.append(f"::{gift_escape(name)}::" + ("[html]" if as_html else "") + text)
    return out


def document(export: Export) -> tuple[bytes, list[Item]]:
    """The GIFT text of one export, and the items whose image could not travel."""
    path = "/".join(p.replace("/", "//") for p in export.category)
    blocks, lost = [f"$CATEGORY: $course$/top/{path}"], []
    intro = "\n".join(x for x in (export.instructions, f"{export.minutes} min" if export.minutes else "") if x)
    if intro:  # a text-only "description" question: a stem without braces
        blocks.append(
            f"::{gift_escape(export.title)}::[html]"
            + gift_escape("<br>".join(html.escape(x, quote=False) for x in intro.split("\n")))
        )
    for item in export.items:
        if item.image:
            lost.append(item)
        blocks.extend(question(item))
    return ("\n\n".join(blocks) + "\n").encode("utf-8"), lost


def image_warning(lost: list[Item], name: str) -> str:
    where = ", ".join(f"{i.path}:{i.line} ({i.id})" for i in lost)
    return f"{name}: GIFT cannot carry images, so these facts are exported without theirs: {where}"


def write(project: Project, out: str, options: Options) -> list[str]:
    written = []
    for export in exports(project, options.lang or "both"):
        path, rel = output_path(out, export, ".gift.txt")
        data, lost = document(export)
        with open(path, "wb") as fh:
            fh.write(data)
        if lost:
            options.report.setdefault("warnings", []).append(image_warning(lost, rel))
        written.append(rel)
    return written
