"""Cards as a learner sees them: rendered by the real Anki backend, shown in headless Chromium.

Anki renders each card's question and answer (templates + fields + the notetype CSS); the
reviewer puts them in a page whose body has the classes `card card<N>`, plus `nightMode`
and `night_mode` in night mode (desktop adds both; AnkiDroid and AnkiMobile add one or
both).  Here the same HTML goes into Chromium and a script measures what a reader meets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import run
from test_anki import copy_shipped, course, import_package, open_collection  # noqa: F401  (course: a fixture)
from test_html import chromium, require

pytest.importorskip("anki.collection", reason="the official 'anki' package is in the test extras")

# Body classes per mode: light, desktop's night mode, and each night class alone (other clients).
MODES = {"light": "", "night": "nightMode night_mode", "nightMode": "nightMode", "night_mode": "night_mode"}

CONTRAST_JS = r"""
function rgba(text) {
  const m = text.match(/rgba?\(([^)]+)\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, bottom) {  // top composited over an opaque bottom
  const a = top[3];
  return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]);
}
function background(el) {  // the colour behind el: nearest backgrounds composited, the canvas white last
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  let result = [255, 255, 255, 1];
  for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
  return result;
}
function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function ratio(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
function own(el) {  // the text el itself shows: its own text nodes
  return [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join("").trim();
}
function pseudo(el, which) {  // the generated text of el's ::before/::after, or its list marker
  const s = getComputedStyle(el, which);
  if (which === "::marker") return getComputedStyle(el).display === "list-item" ? "[marker]" : "";
  return s.content && s.content !== "none" && s.content !== "normal" ? s.content : "";
}
function measure(label) {
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (["STYLE", "SCRIPT"].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || el.getClientRects().length === 0) continue;
    const bg = background(el);
    for (const which of ["", "::before", "::after", "::marker"]) {
      const text = which ? pseudo(el, which) : own(el);
      if (!text) continue;
      const color = getComputedStyle(el, which || null).color;
      const fg = over(rgba(color), bg);
      found.push({case: label, el: el.tagName.toLowerCase() + "." + el.className + which, text: text.slice(0, 40),
                  fg: color, bg: bg.slice(0, 3).join(","), ratio: Math.round(ratio(fg, bg) * 100) / 100});
    }
  }
  return found;
}
const cases = JSON.parse(document.getElementById("cases").textContent);
const results = [];
for (const c of cases) {
  document.body.className = c.body;
  document.getElementById("qa").innerHTML = c.html;
  results.push(...measure(c.label));
}
document.getElementById("qa").innerHTML = "";
const out = document.createElement("pre");
out.id = "results";
out.textContent = JSON.stringify(results);
document.body.appendChild(out);
"""


def page(cases: list[dict]) -> str:
    """One page for every case: the script swaps each card into #qa, as Anki's reviewer does."""
    data = json.dumps(cases).replace("<", "\\u003c")
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head><body class="card"><div id="qa"></div>'
        f'<script type="application/json" id="cases">{data}</script><script>{CONTRAST_JS}</script></body></html>'
    )


def run_page(exe: str, html: str, tmp: Path) -> list[dict]:
    path = tmp / "cards.html"
    path.write_text(html, encoding="utf-8")
    dom = chromium(exe, tmp, "--virtual-time-budget=5000", "--dump-dom", path.resolve().as_uri()).stdout
    match = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    import html as html_module

    return json.loads(html_module.unescape(match.group(1)))


def rendered_cards(col) -> list[tuple[str, int, str, str]]:
    """(label, ordinal, question HTML, answer HTML) of every card, each with its notetype's CSS."""
    cards = []
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        note = card.note()
        label = f"{note['FactId']} | {note.note_type()['name']} | card{card.ord + 1}"
        cards.append((label, card.ord, card.question(), card.answer()))
    return cards


@pytest.fixture(scope="module")
def chrome() -> str:
    return require("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def test_every_text_on_every_card_reaches_wcag_aa_in_light_and_night_mode(chrome, course, tmp_path):  # noqa: F811
    shipped = copy_shipped(tmp_path)
    col = open_collection(tmp_path)
    for root, out in ((course, tmp_path / "out-course"), (shipped, tmp_path / "out-shipped")):
        assert run("build", root, "--out", out, "--format", "apkg").exit_code == 0
        for package in sorted(out.glob("*.apkg")):
            import_package(col, package)
    cards = rendered_cards(col)
    col.close()
    kinds = {label.split(" | ")[1] for label, *_ in cards}
    assert kinds == {"quizgen Basic", "quizgen Multiple choice", "quizgen Cloze", "quizgen True/False"}
    cases = [
        {"label": f"{label} {side} {mode}", "body": f"card card{ordinal + 1} {classes}".strip(), "html": html}
        for label, ordinal, question, answer in cards
        for side, html in (("front", question), ("back", answer))
        for mode, classes in MODES.items()
    ]
    results = run_page(chrome, page(cases), tmp_path)
    measured = {r["case"] for r in results}
    assert len(measured) == len(cases)  # every card side in every mode showed text that was measured
    assert {r["el"].split(".")[0] for r in results} >= {"div", "span", "li", "a", "blockquote"}
    assert any(r["el"].endswith("::after") for r in results) and any(r["el"].endswith("::marker") for r in results)
    low = [r for r in results if r["ratio"] < 4.5]
    summary = sorted({(r["el"], r["fg"], r["bg"], r["ratio"], tuple(r["case"].rsplit(" ", 2)[-2:])) for r in low})
    assert not low, f"{len(low)} texts below 4.5:1, e.g.\n" + "\n".join(map(str, summary[:40]))
