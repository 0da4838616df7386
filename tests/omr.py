"""Synthetic scans for the grading tests and benchmark: a printed sheet, filled in by hand, then copied badly.

`render(pdf, dpi)` rasterises the real sheet PDF (as printed by Chromium) with
pypdfium2.  `Pen` draws marks as a student does: scribbled fills made of
strokes of varying darkness (pen to grey pencil), ticks, crosses, erased
marks that leave a light smudge, and deliberately ambiguous half marks.
The distortions are those of a school copier: rotation, upside down, scale
("fit to page"), perspective, blur, noise, JPEG, and a cut corner.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np


def render(pdf: str, dpi: int) -> np.ndarray:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=dpi / 72, grayscale=True).to_numpy()
    finally:
        doc.close()
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(image)


class Pen:
    """Draws on a page image rendered at `dpi` (page coordinates in mm from the top-left)."""

    def __init__(self, image: np.ndarray, dpi: int, rnd: random.Random):
        self.image = image
        self.px = dpi / 25.4
        self.rnd = rnd

    def _pt(self, x_mm, y_mm):
        return (int(round(x_mm * self.px * 16)), int(round(y_mm * self.px * 16)))

    def stroke(self, points, width_mm, grey):
        """A pen stroke; ink only darkens (a stroke over a stroke stays the darker of the two)."""
        layer = np.full_like(self.image, 255)
        pts = np.array([self._pt(x, y) for x, y in points], dtype=np.int32).reshape(-1, 1, 2)
        thickness = max(1, int(round(width_mm * self.px)))
        cv2.polylines(layer, [pts], False, int(grey), thickness, cv2.LINE_AA, shift=4)
        np.minimum(self.image, layer, out=self.image)

    def fill(self, b: dict, grey: int | None = None, coverage: float = 1.0):
        """A scribbled fill: zig-zag strokes across the bubble (a pen at 20-60, a grey pencil at 80-120)."""
        rnd = self.rnd
        grey = rnd.randint(20, 115) if grey is None else grey
        x, y, r = b["x_mm"], b["y_mm"], b["r_mm"]
        rows = max(2, int(round(6 * coverage)))
        span = 2 * r * 0.9 * coverage
        top = y - r * 0.85
        points = []
        for i in range(rows + 1):
            yy = top + span * i / rows + rnd.uniform(-0.15, 0.15)
            half = math.sqrt(max(r * r - (yy - y) ** 2, 0.3)) * rnd.uniform(0.8, 1.05)
            ends = [
                (x - half + rnd.uniform(-0.3, 0.2), yy),
                (x + half + rnd.uniform(-0.2, 0.3), yy + rnd.uniform(-0.3, 0.3)),
            ]
            points += ends if i % 2 == 0 else ends[::-1]
        self.stroke(points, 1.0, grey)

    def tick(self, b: dict, grey: int = 40):
        x, y, r = b["x_mm"], b["y_mm"], b["r_mm"]
        j = self.rnd.uniform
        self.stroke(
            [(x - 0.8 * r + j(-0.2, 0.2), y + j(-0.2, 0.2)), (x - 0.15 * r, y + 0.7 * r), (x + 0.9 * r, y - 0.9 * r)],
            0.6,
            grey,
        )

    def cross(self, b: dict, grey: int = 40):
        x, y, r = b["x_mm"], b["y_mm"], b["r_mm"]
        j = self.rnd.uniform
        self.stroke(
            [(x - 0.75 * r + j(-0.2, 0.2), y - 0.75 * r), (x + 0.75 * r, y + 0.75 * r + j(-0.2, 0.2))], 0.6, grey
        )
        self.stroke(
            [(x + 0.75 * r + j(-0.2, 0.2), y - 0.75 * r), (x - 0.75 * r, y + 0.75 * r + j(-0.2, 0.2))], 0.6, grey
        )

    def erased(self, b: dict):
        """What an eraser leaves of a fill: a light, blurred smudge."""
        x, y, r = b["x_mm"], b["y_mm"], b["r_mm"]
        layer = np.full_like(self.image, 255)
        centre = (int(x * self.px), int(y * self.px))
        axes = (int(r * 0.95 * self.px), int(r * 0.8 * self.px))
        cv2.ellipse(layer, centre, axes, self.rnd.uniform(0, 180), 0, 360, self.rnd.randint(208, 222), -1)
        layer = cv2.GaussianBlur(layer, (0, 0), 0.6 * self.px)
        np.minimum(self.image, layer, out=self.image)

    def half(self, b: dict):
        """A deliberately ambiguous mark: a short light stroke, neither a fill nor nothing."""
        x, y, r = b["x_mm"], b["y_mm"], b["r_mm"]
        self.stroke([(x - 0.5 * r, y - 0.1 * r), (x + 0.3 * r, y + 0.1 * r)], 0.7, 135)


# ---------------------------------------------------------------------------
# distortions


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)


def scale(image: np.ndarray, factor: float) -> np.ndarray:
    """A copier's zoom on the same paper: the content shrinks (or grows, cropped) about the centre."""
    h, w = image.shape
    matrix = np.array([[factor, 0, w / 2 * (1 - factor)], [0, factor, h / 2 * (1 - factor)]])
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_AREA, borderValue=255)


def perspective(image: np.ndarray, rnd: random.Random, amount: float = 0.015) -> np.ndarray:
    h, w = image.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[rnd.uniform(-1, 1) * amount * w, rnd.uniform(-1, 1) * amount * h] for _ in range(4)])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=255)


def blur(image: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def noise(image: np.ndarray, rnd: random.Random, sigma: float = 8.0) -> np.ndarray:
    gen = np.random.default_rng(rnd.randrange(2**32))
    return np.clip(image.astype(np.float32) + gen.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int = 50) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def cut_corner(image: np.ndarray, dpi: int, corner: str = "bottom-right", mm: float = 24.0) -> np.ndarray:
    """The corner torn or folded away (the scanner sees its white lid there)."""
    out = image.copy()
    n = int(mm * dpi / 25.4)
    h, w = out.shape
    ys = slice(0, n) if "top" in corner else slice(h - n, h)
    xs = slice(0, n) if "left" in corner else slice(w - n, w)
    out[ys, xs] = 255
    return out


# ---------------------------------------------------------------------------
# quizzes, printing and filling in


def make_quiz(forms=2, choice=20, truefalse=5, open_=2, seed=1, paper="a4", name="midterm", digits=5, project_id="t"):
    """A SheetQuiz like an assembled one: facts shuffled per form within their section, options per form."""
    from quizgen.sheet import Item, SheetQuiz

    rnd = random.Random(seed)
    facts = []
    for i in range(choice):
        n_opts = 5 if i % 3 else 4
        facts.append(("choice", f"c{i + 1}", n_opts, 2, 10 + 8 * i))
    for i in range(truefalse):
        facts.append(("truefalse", f"t{i + 1}", 2, 1, 300 + 6 * i))
    for i in range(open_):
        facts.append(("open", f"o{i + 1}", 0, 3 + 2 * i, 400 + 6 * i))
    truth = {f[1]: rnd.choice("OX") for f in facts if f[0] == "truefalse"}
    out = []
    for f in range(forms):
        order_rnd = random.Random(f"{seed}-{f}")
        items, number = [], 1
        for kind in ("choice", "truefalse", "open"):
            section = [fact for fact in facts if fact[0] == kind]
            if f:
                order_rnd.shuffle(section)
            for kind_, fact_id, n_opts, points, line in section:
                if kind_ == "choice":
                    order = list(range(n_opts))
                    if f:
                        order_rnd.shuffle(order)
                    key = str(order.index(0) + 1)
                    texts = tuple(f"{fact_id}-opt{k}" for k in range(n_opts))
                    lines = tuple(line + 2 + k for k in range(n_opts))
                    items.append(
                        Item(
                            number,
                            "choice",
                            points,
                            n_opts,
                            key,
                            fact_id,
                            "decks/bank.yaml",
                            line,
                            tuple(order),
                            texts,
                            lines,
                        )
                    )
                elif kind_ == "truefalse":
                    items.append(Item(number, "truefalse", points, 2, truth[fact_id], fact_id, "decks/bank.yaml", line))
                else:
                    items.append(Item(number, "open", points, 0, "", fact_id, "decks/bank.yaml", line))
                number += 1
        out.append(("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[f], tuple(items)))
    return SheetQuiz(
        name, (("ko", "중간고사"), ("en", "Midterm")), tuple(out), paper, digits, project_id, f"quizzes/{name}.yaml"
    )


def print_pdf(exe: str, html: str, pdf: str, profile: str) -> str:
    """Print with the PDF format's own engine (quizgen.pdfengine): the sheet as `build --format pdf` prints it."""
    from quizgen import pdfengine

    pdfengine.print_pdf(exe, html, pdf, profile)
    return pdf


def images_to_pdf(exe: str, images: list[np.ndarray], pdf: str, tmp: str, paper=(210, 297)) -> str:
    """A copier's PDF: every page one JPEG image, full page (printed by Chromium, rasterised back by pdfium)."""
    import base64
    import os

    pages = []
    for image in images:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        uri = "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")
        pages.append(f'<img src="{uri}">')
    html = os.path.join(tmp, "copier.html")
    with open(html, "w", encoding="utf-8") as fh:
        fh.write(
            f"<!DOCTYPE html><style>@page{{size:{paper[0]}mm {paper[1]}mm;margin:0}}body{{margin:0}}"
            f"img{{display:block;width:{paper[0]}mm;height:{paper[1]}mm;break-after:page}}</style>" + "".join(pages)
        )
    return print_pdf(exe, html, pdf, os.path.join(tmp, "copier-profile"))


def bubble(sheet: dict, kind: str, value: str, **where) -> dict:
    found = [
        b
        for b in sheet["bubbles"]
        if b["kind"] == kind and b["value"] == value and all(b.get(k) == v for k, v in where.items())
    ]
    assert len(found) == 1, (kind, value, where)
    return found[0]


MARK_STYLES = ("pen", "pencil", "tick", "cross")


def fill_in(image, sheet, dpi, rnd, student="", form="", answers=None, scores=None, styles=MARK_STYLES, erase=0.15):
    """Fill a sheet as a student does: the number, the form, one answer per question in a random style.

    `answers` maps question number -> value ("" leaves it blank); `scores` maps open question -> teacher's score.
    With probability `erase`, another bubble of the question gets an erased mark (a changed mind)."""
    pen = Pen(image, dpi, rnd)

    def mark(b, style):
        if style == "pen":
            pen.fill(b, grey=rnd.randint(15, 60))
        elif style == "pencil":
            pen.fill(b, grey=rnd.randint(80, 115))
        elif style == "faint":  # a hard pencil pressed lightly
            pen.fill(b, grey=rnd.randint(130, 175))
        elif style == "tick":
            pen.tick(b, grey=rnd.randint(20, 70))
        else:
            pen.cross(b, grey=rnd.randint(20, 70))

    for d, ch in enumerate(student):
        mark(bubble(sheet, "student", ch, digit=d + 1), rnd.choice(("pen", "pencil")))
    if form:
        mark(bubble(sheet, "form", form), rnd.choice(("pen", "pencil")))
    for n, value in (answers or {}).items():
        row = [b for b in sheet["bubbles"] if b["kind"] == "answer" and b["question"] == n]
        if value:
            mark(bubble(sheet, "answer", value, question=n), rnd.choice(styles))
        others = [b for b in row if b["value"] != value]
        if others and rnd.random() < erase:
            pen.erased(rnd.choice(others))
    for n, value in (scores or {}).items():
        mark(bubble(sheet, "score", value, question=n), "pen")
    return image
