"""OMR answer sheets: for every quiz, `<stem>-sheet.json` (the layout) and `<stem>-sheet.html` drawn from it.

The HTML is a single SVG whose every coordinate is read from the layout dict
(`quizgen.sheet.layout`), in mm on a page of exactly the paper's size with no
margins, so the printed sheet, the JSON and the grader agree by construction.
Text reaches the SVG escaped (it is data: a quiz title with `<` stays text),
and the page forbids scripts and network requests like every printed page.

With the PDF format in the same build, the sheet is printed to
`<stem>-sheet.pdf` by the PDF engine (quizgen.pdf), like the quiz papers.
"""

from __future__ import annotations

import hashlib
import os
from html import escape

from .. import pdfengine
from .. import sheet as sheets
from ..errors import QuizgenError
from . import Options

FORMAT = "sheet"
DESCRIPTION = "OMR answer sheets for quizzes: layout JSON and HTML (PDF with the pdf format)"

FONTS = (
    '"Noto Sans CJK KR", "Noto Sans KR", "Source Han Sans K", "Source Han Sans KR", "NanumGothic", '
    '"Apple SD Gothic Neo", "Malgun Gothic", "DejaVu Sans", sans-serif'
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _n(value: float) -> str:
    """A coordinate as SVG text: short, and the same bytes for the same number."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def marker_svg(marker: dict) -> str:
    """An ArUco marker: a black square, then its white cells as one path (no seams between cells)."""
    size = marker["size_mm"]
    cell = size / 6
    left = marker["x_mm"] - size / 2
    top = marker["y_mm"] - size / 2
    bits = sheets.MARKER_BITS[marker["id"]]
    white = []
    for r in range(4):
        for c in range(4):
            if bits[r][c] == "1":
                x, y = left + (c + 1) * cell, top + (r + 1) * cell
                white.append(f"M{_n(x)} {_n(y)}h{_n(cell)}v{_n(cell)}h-{_n(cell)}z")
    return (
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(size)}" height="{_n(size)}" fill="#000"/>'
        f'<path d="{"".join(white)}" fill="#fff"/>'
    )


def render_html(sheet: dict, title: str) -> str:
    """The sheet page: every element from `sheet`, nothing computed here but SVG syntax."""
    w, h = sheet["page"]["width_mm"], sheet["page"]["height_mm"]
    out = []
    for rect in sheet["rects"]:
        style = 'fill="#f0f0f0" stroke="none"' if rect.get("shade") else 'fill="none" stroke="#000"'
        width = "0.15" if rect.get("thin") else "0.3"
        out.append(
            f'<rect x="{_n(rect["left_mm"])}" y="{_n(rect["top_mm"])}" width="{_n(rect["width_mm"])}" '
            f'height="{_n(rect["height_mm"])}" {style} stroke-width="{width}"/>'
        )
    for line in sheet["lines"]:
        out.append(
            f'<line x1="{_n(line["x1_mm"])}" y1="{_n(line["y1_mm"])}" x2="{_n(line["x2_mm"])}" '
            f'y2="{_n(line["y2_mm"])}" stroke="{"#999" if line.get("thin") else "#000"}" '
            f'stroke-width="{"0.15" if line.get("thin") else "0.3"}"/>'
        )
    for b in sheet["bubbles"]:
        out.append(
            f'<circle cx="{_n(b["x_mm"])}" cy="{_n(b["y_mm"])}" r="{_n(b["r_mm"])}" fill="#fff" '
            f'stroke="#666" stroke-width="0.25"/>'
            f'<text x="{_n(b["x_mm"])}" y="{_n(b["y_mm"] + b["r_mm"] * 0.42)}" class="b">{escape(b["label"])}</text>'
        )
    for t in sheet["texts"]:
        weight = ' font-weight="bold"' if t.get("weight") == "bold" else ""
        anchor = f' text-anchor="{t["anchor"]}"' if t.get("anchor", "start") != "start" else ""
        colour = f' fill="{escape(t["colour"])}"' if t.get("colour") else ""
        fit = f' textLength="{_n(t["fit_mm"])}" lengthAdjust="spacingAndGlyphs"' if t.get("fit_mm") else ""
        out.append(
            f'<text x="{_n(t["x_mm"])}" y="{_n(t["y_mm"])}" font-size="{_n(t["size_mm"])}"'
            f"{weight}{anchor}{colour}{fit}>{escape(t['text'])}</text>"
        )
    for marker in sheet["markers"]:
        out.append(marker_svg(marker))
    for cell in sheet["code_cells"]:
        half = cell["size_mm"] / 2
        fill = 'fill="#000" stroke="none"' if cell["bit"] else 'fill="none" stroke="#bbb" stroke-width="0.15"'
        out.append(
            f'<rect x="{_n(cell["x_mm"] - half)}" y="{_n(cell["y_mm"] - half)}" '
            f'width="{_n(cell["size_mm"])}" height="{_n(cell["size_mm"])}" {fill}/>'
        )
    body = "\n".join(out)
    return f"""<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
@page {{ size: {_n(w)}mm {_n(h)}mm; margin: 0; }}
html, body {{ margin: 0; padding: 0; background: #fff; }}
svg {{ display: block; font-family: {FONTS}; }}
svg text.b {{ font-size: 2.5px; fill: #b0b0b0; text-anchor: middle; }}
@media screen {{
  body {{ background: #ddd; padding: 1rem 0; }}
  svg {{ margin: 0 auto; background: #fff; box-shadow: 0 1px 6px rgba(0,0,0,.3); max-width: 100%; height: auto; }}
}}
@media print {{ svg {{ width: {_n(w)}mm; height: {_n(h)}mm; }} }}
</style>
</head>
<body>
<svg xmlns="http://www.w3.org/2000/svg" width="{_n(w)}mm" height="{_n(h)}mm" viewBox="0 0 {_n(w)} {_n(h)}">
{body}
</svg>
</body>
</html>
"""


def sheet_title(sheet: dict) -> str:
    """The page title: the sheet's bold header lines (the quiz title, one or two lines)."""
    lines = [t["text"] for t in sheet["texts"] if t.get("weight") == "bold" and t["y_mm"] < 40]
    return " · ".join(lines) or sheet["quiz"]


def write_sheet(sheet: dict, out_dir: str, stem: str) -> list[str]:
    """Write one quiz's sheet JSON and HTML under quizzes/<stem>/; the relative paths written."""
    folder = os.path.join(out_dir, "quizzes", stem)
    os.makedirs(folder, exist_ok=True)
    written = []
    for suffix, text in (("-sheet.json", sheets.to_json(sheet)), ("-sheet.html", sheet_html(sheet))):
        with open(os.path.join(folder, stem + suffix), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        written.append(f"quizzes/{stem}/{stem}{suffix}")
    return written


def sheet_html(sheet: dict) -> str:
    return render_html(sheet, sheet_title(sheet) + " · " + sheets.LABELS["en"]["sheet"])


def write(project, out_dir: str, options: Options) -> list[str]:
    written: list[str] = []
    jobs = []
    for quiz in sheets.sheet_quizzes(project):
        sheet = sheets.layout(quiz)
        written += write_sheet(sheet, out_dir, quiz.name)
        jobs.append((f"quizzes/{quiz.name}/{quiz.name}-sheet.pdf", sheet_html(sheet).encode("utf-8")))
    if jobs and "pdf" in options.extra.get("formats", ()):
        written += write_pdfs(jobs, out_dir, options)
    return written


def write_pdfs(jobs: list[tuple[str, bytes]], out_dir: str, options: Options) -> list[str]:
    """Print the sheets with the PDF format's engine (quizgen.pdfengine); the build's memo skips unchanged ones."""
    written = []
    try:
        with pdfengine.Session(epoch=options.epoch) as session:
            for rel, html in jobs:
                if options.progress:
                    options.progress(f"pdf: {rel}")
                key = hashlib.sha256(f"sheet\0{session.identity}\0{options.epoch}\0".encode() + html).hexdigest()
                data = options.memo_content("sheet-pdf", key, lambda html=html: session.print(html))
                with open(os.path.join(out_dir, rel), "wb") as fh:
                    fh.write(data)
                written.append(rel)
    except pdfengine.EngineError as exc:
        raise QuizgenError(f"sheet pdf: {exc}") from None
    return written
