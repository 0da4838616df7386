"""The grader's outputs: results.csv, review.csv, items.csv and report.html; and reading review.csv back.

The CSV files are UTF-8 with a BOM and CRLF line ends, which is what makes a
Korean Excel open them without broken characters.  A text cell that a
spreadsheet would take for a formula (=, +, -, @ first) is prefixed with an
apostrophe: option texts and file names are data, never formulas.  The HTML
report is one self-contained page (inline SVG chart, no scripts, no network),
with every text escaped.
"""

from __future__ import annotations

import csv
import io
import math
import os
from html import escape

from ..errors import Problem, QuizgenError
from .items import ItemStats
from .score import Graded, Issue, fmt

REVIEW_COLUMNS = ["file", "page", "student", "question", "reason", "measured", "decision", "about"]
CSV_KW = {"lineterminator": "\r\n"}


def cell(text) -> str:
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, **CSV_KW)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return buffer.getvalue()


def write_text(path: str, text: str, bom: bool = True) -> None:
    """Atomically: a crash never leaves half a results file over a good one."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def results_rows(graded: list[Graded], n_questions: int) -> list[list]:
    header = ["file", "page", "student", "form", "score", "max"] + [f"q{i}" for i in range(1, n_questions + 1)]
    rows = [header + ["status"]]
    for g in graded:
        answers = [g.answers.get(i, "") for i in range(1, n_questions + 1)]
        status = "review" if g.needs_review else "ok"
        score = fmt(g.score) if g.score is not None else ""
        rows.append([g.file, g.page, g.student, g.form, score, fmt(g.max), *answers, status])
    return rows


def review_rows(issues: list[Issue]) -> list[list]:
    rows = [REVIEW_COLUMNS]
    for i in issues:
        rows.append([i.file, i.page, i.student, i.question or "", i.reason, i.measured, i.decision, i.about])
    return rows


def items_rows(stats: list[ItemStats], forms: list[str]) -> list[list]:
    width = max((len(s.counts) for s in stats), default=0)
    header = ["fact", "where", "type", "points"] + [f"number_{f}" for f in forms]
    header += ["answered", "correct_pct", "discrimination", "blank", "key"]
    header += [f"option{i + 1}" for i in range(width)] + ["options"]
    rows = [header]
    for s in stats:
        counts = [str(c) for c in s.counts] + [""] * (width - len(s.counts))
        key = s.options[s.key] if s.key is not None and s.key < len(s.options) else ""
        rows.append(
            [
                s.fact,
                f"{s.path}:{s.line}" if s.path else "",
                s.kind,
                fmt(s.points),
                *[s.numbers.get(f, "") for f in forms],
                s.answered,
                f"{100 * s.correct:.1f}" if s.answered else "",
                f"{s.discrimination:.2f}" if s.discrimination is not None else "",
                s.blank if s.kind != "open" else "",
                key,
                *counts,
                " | ".join(s.options) if s.kind == "choice" else "",
            ]
        )
    return rows


def read_review(path: str) -> list[Issue]:
    """A review.csv (ours, edited by a teacher in Excel or a text editor) -> Issues with decisions."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read(10_000_000)
    except (OSError, UnicodeDecodeError) as exc:
        raise QuizgenError(f"--fix {path}: cannot read it: {exc}") from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [c for c in ("file", "page", "question", "decision", "about") if c not in (reader.fieldnames or [])]
    if missing:
        raise QuizgenError(
            f"--fix {path}: not a review.csv written by quizgen grade (missing columns: {', '.join(missing)})"
        )
    out, problems = [], []
    for number, row in enumerate(reader, start=2):
        decision = (row.get("decision") or "").strip().lstrip("'")
        if not decision:
            continue
        try:
            page = int(row["page"] or 0)
            question = int(row["question"]) if (row.get("question") or "").strip() else None
        except ValueError:
            problems.append(Problem(path, number, "page and question must be numbers"))
            continue
        out.append(
            Issue(
                (row.get("file") or "").lstrip("'"),
                page,
                row.get("reason") or "",
                question=question,
                about=(row.get("about") or "page").strip(),
                decision=decision,
            )
        )
    if problems:
        raise QuizgenError(f"--fix {path}: {len(problems)} rows cannot be read", problems)
    return out


# ---------------------------------------------------------------------------
# report.html


def histogram_svg(scores: list[float], maximum: float) -> str:
    """Score distribution as bars: one per point up to 40 points, else bins of a whole number of points."""
    if not scores:
        return "<p>No sheet was graded.</p>"
    top = max(maximum, max(scores), 1)
    step = max(1, math.ceil((top + 1) / 40))
    bins = int(top // step) + 1
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, int(s // step))] += 1
    w, h, pad = 640, 220, 30
    bar = (w - 2 * pad) / bins
    peak = max(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="score distribution">',
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>',
    ]
    every = max(1, math.ceil(bins / 20))
    for i, count in enumerate(counts):
        bh = (h - 2 * pad) * count / peak if peak else 0
        x = pad + i * bar
        label = str(i * step) if step == 1 else f"{i * step}-{i * step + step - 1}"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{h - pad - bh:.1f}" width="{max(bar - 2, 1):.1f}" height="{bh:.1f}" '
            f'fill="#3b6ea5"><title>{escape(label)}: {count}</title></rect>'
        )
        centre = f'x="{x + bar / 2:.1f}" font-size="10" text-anchor="middle"'
        if count:
            parts.append(f'<text {centre} y="{h - pad - bh - 3:.1f}">{count}</text>')
        if i % every == 0:
            parts.append(f'<text {centre} y="{h - pad + 13}">{escape(label)}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 3}" font-size="10" text-anchor="middle">points</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_report(
    title: str, graded: list[Graded], issues: list[Issue], stats: list[ItemStats], warnings: list[Problem], forms
) -> str:
    scores = [g.score for g in graded if g.score is not None]
    maximum = max((g.max for g in graded), default=0)
    mean = sum(scores) / len(scores) if scores else 0
    ordered = sorted(scores)
    median = (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2 if ordered else 0
    open_issues = [i for i in issues if i.blocking and not i.decision]
    e = escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="ko"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)} · grading report</title>",
        "<style>",
        "body{font-family:'Noto Sans CJK KR','NanumGothic','Apple SD Gothic Neo','Malgun Gothic',sans-serif;"
        "margin:2rem auto;max-width:64rem;padding:0 1rem;color:#222}",
        "table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
        "text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}"
        ".warn{color:#8a3b00}.bad{background:#fde8e0}.bar{display:inline-block;height:.7rem;background:#3b6ea5}"
        "svg text{font-family:inherit}",
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{len(graded)} sheets read, {len(scores)} scored, {len(open_issues)} open review items. "
        f"Mean {mean:.1f} / {fmt(maximum)}, median {fmt(median)}.</p>",
        "<h2>Score distribution</h2>",
        histogram_svg(scores, maximum),
    ]
    if warnings:
        out.append("<h2>Warnings for the fact bank</h2><ul>")
        out += [f'<li class="warn">{e(str(w))}</li>' for w in warnings]
        out.append("</ul>")
    out.append("<h2>Item analysis</h2><table><tr><th>fact</th>")
    out += [f"<th>{e(f)}</th>" for f in forms]
    out.append("<th>correct</th><th>discrimination</th><th>options (count)</th></tr>")
    for s in stats:
        bad = s.discrimination is not None and s.discrimination < 0
        cls = ' class="bad"' if bad else ""
        pct = 100 * s.correct
        opts = []
        for i, (text, count) in enumerate(zip(s.options, s.counts)):
            mark = " ✔" if i == s.key else ""
            opts.append(f"{e(text)}{mark}: {count}")
        if s.blank and s.kind != "open":
            opts.append(f"blank: {s.blank}")
        out.append(
            f"<tr{cls}><td>{e(s.fact)}<br><small>{e(s.path)}:{s.line}</small></td>"
            + "".join(f'<td class="n">{e(str(s.numbers.get(f, "")))}</td>' for f in forms)
            + f'<td class="n">{pct:.0f}% <span class="bar" style="width:{pct / 2:.0f}px"></span></td>'
            f'<td class="n">{"" if s.discrimination is None else f"{s.discrimination:+.2f}"}</td>'
            f"<td>{'<br>'.join(opts)}</td></tr>"
        )
    out.append("</table>")
    out.append("<h2>Review list</h2>")
    if not issues:
        out.append("<p>Nothing to review.</p>")
    else:
        out.append(
            "<table><tr><th>file</th><th>page</th><th>student</th><th>question</th><th>reason</th>"
            "<th>measured</th><th>decision</th></tr>"
        )
        for i in issues:
            cls = ' class="bad"' if i.blocking and not i.decision else ""
            out.append(
                f'<tr{cls}><td>{e(i.file)}</td><td class="n">{i.page}</td><td>{e(i.student)}</td>'
                f'<td class="n">{i.question or ""}</td><td>{e(i.reason)}</td><td><small>{e(i.measured)}</small></td>'
                f"<td>{e(i.decision)}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)
