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

from quizgen.present import option_order
from quizgen.project import load_project

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


# ---------------------------------------------------------------------------
# choice options shuffled at review time by the card's own script

CHOICES = """\
deck: "Course::Choices"
facts:
  - id: shuffled
    type: choice
    question: {ko: V3 학습에 쓰인 GPU는?, en: Which GPU trained V3?}
    answer: H800
    wrong: [H100, A100, H20, B200]
    source: v3
  - id: fixed
    type: choice
    question: {ko: 순서가 고정된 보기, en: Options in a fixed order}
    answer: 둘 다
    options: [ㄱ, ㄴ, 둘 다, 둘 다 아님]
    shuffle: false
    source: v3
"""

REVIEW_JS = r"""
function run(html) {  // what Anki's reviewer does with a side: put it in #qa, then run its scripts
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  for (const old of qa.querySelectorAll("script")) {
    const s = document.createElement("script");
    s.textContent = old.textContent;
    old.replaceWith(s);
  }
  return [...qa.querySelectorAll(".qg-choices li")].map(li => ({
    text: li.querySelector(".qg-o1").textContent, correct: li.classList.contains("qg-correct")}));
}
const cases = JSON.parse(document.getElementById("cases").textContent);
const results = [];
for (const c of cases) {
  for (let review = 0; review < 12; review++) {
    const front = run(c.question);
    const back = run(c.answer);
    const letters = [...document.querySelectorAll("#qa .qg-answer .qg-letter")].map(e => e.textContent);
    results.push({fact: c.fact, front: front.map(o => o.text), back: back.map(o => o.text),
                  correct: back.findIndex(o => o.correct), answer: back.filter(o => o.correct).map(o => o.text),
                  letters});
  }
}
const out = document.createElement("pre");
out.id = "results";
out.textContent = JSON.stringify(results);
document.body.appendChild(out);
"""


def choice_cards(tmp_path: Path) -> dict[str, tuple[str, str]]:
    from conftest import write_project
    from test_anki import SOURCES

    root = write_project(tmp_path / "choices", {"decks/c.yaml": CHOICES}, SOURCES)
    out = tmp_path / "choices-out"
    assert run("build", root, "--out", out, "--format", "apkg").exit_code == 0
    col = open_collection(tmp_path)
    import_package(col, out / "course.apkg")
    cards = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        cards[card.note()["FactId"]] = (card.question(), card.answer())
    col.close()
    return cards


def test_options_are_shuffled_at_review_and_both_sides_agree(chrome, tmp_path):
    cards = choice_cards(tmp_path)
    project = load_project(str(tmp_path / "choices"))
    cases = [{"fact": f, "question": q, "answer": a} for f, (q, a) in sorted(cards.items())]
    data = json.dumps(cases).replace("<", "\\u003c")
    html = (
        '<!doctype html><html><head><meta charset="utf-8"></head><body class="card card1"><div id="qa"></div>'
        f'<script type="application/json" id="cases">{data}</script><script>{REVIEW_JS}</script></body></html>'
    )
    results = run_page(chrome, html, tmp_path)
    stored = {
        f: re.findall(r'<span class="qg-o1" lang="\w+">([^<]*)</span>', a.split('<hr id="answer">')[0])
        for f, (_, a) in cards.items()
    }
    for r in results:
        assert r["front"] == r["back"], r  # one review: the back shows the order the front drew
        assert sorted(r["front"]) == sorted(stored[r["fact"]])
        assert r["answer"] == [{"shuffled": "H800", "fixed": "둘 다"}[r["fact"]]]  # the right option is marked
        assert r["letters"] and set(r["letters"]) == {"ABCDE"[r["correct"]]}  # the answer letter moved with it
    orders = {f: {tuple(r["front"]) for r in results if r["fact"] == f} for f in cards}
    assert len(orders["shuffled"]) > 1  # 12 reviews of 5 options: new orders (all equal has odds 1 in 120^11)
    assert orders["fixed"] == {tuple(stored["fixed"])}  # `shuffle: false` keeps the written order

    # Scripts off (a client without JavaScript runs none of the card's script): the stored order.
    for fact, (question, answer) in cards.items():
        for side in (question, answer):
            path = tmp_path / f"noscript-{fact}.html"
            inert = re.sub(r"<script>.*?</script>", "", side, flags=re.S)  # headless --dump-dom needs scripts on
            path.write_text(f'<!doctype html><meta charset="utf-8"><body class="card card1">{inert}</body>')
            dom = chromium(chrome, tmp_path, "--dump-dom", path.resolve().as_uri()).stdout
            shown = re.findall(r'<span class="qg-o1" lang="\w+">([^<]*)</span>', dom)
            assert shown[: len(stored[fact])] == stored[fact]
            assert stored[fact] == [option[0].get("ko") for option in option_order(project.fact(fact))]
        letter = re.search(r'<span class="qg-letter">(\w)</span>', answer).group(1)
        correct = {"shuffled": "H800", "fixed": "둘 다"}[fact]
        assert stored[fact].index(correct) == "ABCDE".index(letter)
