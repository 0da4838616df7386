"""LMS exports (Moodle XML, GIFT, QTI 1.2, QTI 2.1), each read back by a real consumer and compared with the model.

Consumers: Python's XML parser for Moodle XML (Moodle's own importer is PHP; the hidden check
runs it), gift-pegjs from npm for GIFT (stricter than Moodle), and pyslet (the IMS QTI
reference implementation in Python by a QTI spec author) for QTI 1.2 and QTI 2.1 packages.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run, snapshot, write_project

from quizgen.lms import exports, ident
from quizgen.project import load_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyslet's old-style method names

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HOSTILE = "<script>alert(1)</script> {{c1::x}} ~ = # { } : ]]> \"q\" 'a' & 한국어 \\ end"

FACTS = f"""\
deck: "LMS::Hostile: text"
facts:
  - id: basic-hostile
    question: {json.dumps(HOSTILE)}
    answer: "C# ~C+ =x"
    explanation: {json.dumps("Because " + HOSTILE)}
    image: img/dot.png
    source: src
  - id: choice-hostile
    type: choice
    question: {json.dumps(HOSTILE)}
    answer: "=C#"
    wrong: ["~C+", "{{a}}", "a:b"]
    source: src
  - id: choice-fixed
    type: choice
    question: {{ko: 옳은 것은?, en: Which are true?}}
    answer: "ㄱ, ㄷ"
    options: ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ"]
    source: src
  - id: cloze-two
    type: cloze
    text: "Stargate {{x}} is {{{{c1::$500 billion}}}} and {{{{c2::C#}}}}."
    source: src
  - id: tf-hostile
    type: truefalse
    statement: {json.dumps(HOSTILE)}
    answer: false
    source: src
"""
QUIZ = """\
title: {ko: 중간고사, en: Midterm}
minutes: 45
instructions: {ko: "답을 고르시오: {모두}", en: "Choose: {all}"}
sections:
  - title: {ko: 객관식, en: Choice}
    from: {types: [choice]}
    points: 2
  - from: {types: [basic, truefalse, cloze]}
    points: 3
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lms")
    root = write_project(
        tmp / "p",
        {"decks/h.yaml": FACTS, "img/dot.png": PNG, "quizzes/midterm.yaml": QUIZ},
        "src:\n  title: Src & <b>co</b>\n",
    )
    out = tmp / "out"
    result = run("build", root, "--out", out, *sum((["--format", f] for f in ("moodle", "gift", "qti12", "qti21")), []))
    assert result.exit_code == 0, result.output
    project = load_project(str(root))
    return root, out, project, result


def text_of_html(fragment: str) -> str:
    """What a browser shows for an HTML fragment: tags dropped, entities decoded, <br> as newline."""
    fragment = re.sub(r"<br\s*/?>", "\n", fragment)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def by_id(export):
    return {item.id: item for item in export.items}


# ---------------------------------------------------------------------------------------------------------
# Moodle XML


def moodle_questions(path: Path):
    root = ET.parse(path).getroot()
    assert root.tag == "quiz"
    return [q for q in root if q.get("type") != "category"], [q for q in root if q.get("type") == "category"]


def test_moodle_xml_matches_the_model(built):
    root, out, project, _ = built
    deck = next(e for e in exports(project, "both") if e.key == "decks/h.yaml")
    questions, categories = moodle_questions(out / "h.moodle.xml")
    assert categories[0].find("category/text").text == "$course$/top/LMS/Hostile: text"
    items = by_id(deck)
    assert [q.find("idnumber").text for q in questions] == [i.id for i in deck.items]
    types = {q.find("idnumber").text: q.get("type") for q in questions}
    assert types == {
        "basic-hostile": "shortanswer",
        "choice-hostile": "multichoice",
        "choice-fixed": "multichoice",
        "cloze-two": "cloze",
        "tf-hostile": "truefalse",
    }
    q = {x.find("idnumber").text: x for x in questions}
    # Hostile text arrives exactly as written (escaped once as HTML, once as XML).
    assert text_of_html(q["basic-hostile"].find("questiontext/text").text).startswith(HOSTILE)
    assert [a.find("text").text for a in q["basic-hostile"].findall("answer")] == ["C# ~C+ =x"]
    assert q["basic-hostile"].find("usecase").text == "0"
    answers = q["choice-hostile"].findall("answer")
    shown = [(text_of_html(a.find("text").text), a.get("fraction")) for a in answers]
    assert sorted(shown) == sorted([("=C#", "100"), ("~C+", "0"), ("{a}", "0"), ("a:b", "0")])
    assert q["choice-hostile"].find("single").text == "true"
    assert q["choice-hostile"].find("answernumbering").text == "123"  # circled digits for a Korean course
    fixed = q["choice-fixed"]
    assert fixed.find("shuffleanswers").text == "false"
    texts = [text_of_html(a.find("text").text) for a in fixed.findall("answer")]
    assert texts == ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ"]
    assert [a.get("fraction") for a in fixed.findall("answer")] == ["0", "0", "0", "100"]
    tf = q["tf-hostile"].findall("answer")
    assert [(a.find("text").text, a.get("fraction")) for a in tf] == [("true", "0"), ("false", "100")]
    # Cloze: one embedded field per deletion; the literal {x} cannot start a field.
    cloze = q["cloze-two"].find("questiontext/text").text
    fields = re.findall(r"\{1:SHORTANSWER:([^}]*(?:\\}[^}]*)*)\}", cloze)
    assert fields == ["=$500 billion", "=C\\#"]
    assert "{x}" not in cloze and "&#123;x&#125;" in cloze
    # The image travels as base64 with a @@PLUGINFILE@@ reference.
    qt = q["basic-hostile"].find("questiontext")
    name = items["basic-hostile"].media_name
    assert f"@@PLUGINFILE@@/{name}" in qt.find("text").text
    assert base64.b64decode(qt.find("file").text) == PNG and qt.find("file").get("name") == name
    # General feedback: the explanation, then the source.
    feedback = text_of_html(q["basic-hostile"].find("generalfeedback/text").text)
    assert ("Because " + HOSTILE) in feedback and "Src & <b>co</b>" in feedback


def test_moodle_quiz_export_has_points_and_instructions(built):
    _, out, project, _ = built
    questions, categories = moodle_questions(out / "quizzes" / "midterm" / "midterm.moodle.xml")
    assert categories[0].find("category/text").text.startswith("$course$/top/Quizzes/")
    description = questions[0]
    assert description.get("type") == "description"
    assert "답을 고르시오: {모두}" in text_of_html(description.find("questiontext/text").text)
    grades = {q.find("idnumber").text: q.find("defaultgrade").text for q in questions[1:]}
    assert grades == {
        "choice-hostile": "2",
        "choice-fixed": "2",
        "basic-hostile": "3",
        "cloze-two": "3",
        "tf-hostile": "3",
    }


# ---------------------------------------------------------------------------------------------------------
# GIFT, read by gift-pegjs


GIFT_JS = REPO / "tests" / "js"


def gift_parse(path: Path):
    node = shutil.which("node")
    if node is None or not (GIFT_JS / "node_modules" / "gift-pegjs").is_dir():
        if __import__("os").environ.get("CI"):
            pytest.fail("node and gift-pegjs must be installed in CI (.ci/run runs npm install in tests/js)")
        pytest.skip("node or gift-pegjs missing: run `npm install --prefix tests/js`")
    proc = subprocess.run(
        [node, str(GIFT_JS / "parse-gift.mjs"), str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_gift_matches_the_model_through_gift_pegjs(built):
    _, out, project, result = built
    parsed = gift_parse(out / "h.gift.txt")
    questions = [q for q in parsed if q["type"] != "Category"]
    titles = [q["title"] for q in questions]
    assert titles == ["basic-hostile", "choice-hostile", "choice-fixed", "cloze-two-c1", "cloze-two-c2", "tf-hostile"]
    q = {x["title"]: x for x in questions}
    assert text_of_html(q["basic-hostile"]["stem"]["text"]) == HOSTILE
    assert q["basic-hostile"]["type"] == "Short"
    assert [text_of_html(c["text"]["text"]) for c in q["basic-hostile"]["choices"]] == ["C# ~C+ =x"]
    mc = q["choice-hostile"]
    assert mc["type"] == "MC"
    assert sorted((text_of_html(c["text"]["text"]), c["isCorrect"]) for c in mc["choices"]) == sorted(
        [("=C#", True), ("~C+", False), ("{a}", False), ("a:b", False)]
    )
    assert q["tf-hostile"]["type"] == "TF" and q["tf-hostile"]["isTrue"] is False
    for n, answer in (("c1", "$500 billion"), ("c2", "C#")):
        gap = q[f"cloze-two-{n}"]
        assert gap["hasEmbeddedAnswers"] is True
        assert [text_of_html(c["text"]["text"]) for c in gap["choices"]] == [answer]
    assert "Because " + HOSTILE in text_of_html(q["basic-hostile"]["globalFeedback"]["text"])
    # Images cannot travel in GIFT: the build names the fact instead of dropping it silently.
    assert "GIFT cannot carry images" in result.stderr and "decks/h.yaml:3 (basic-hostile)" in result.stderr


def test_gift_writes_html_only_when_needed(project, tmp_path):
    root = project(
        {
            "decks/a.yaml": 'deck: "A"\nfacts:\n  - id: p\n    question: Plain question?\n    answer: Plain\n    source: src\n'
        }
    )
    assert run("build", root, "--out", tmp_path / "o", "--format", "gift").exit_code == 0
    text = (tmp_path / "o" / "a.gift.txt").read_text()
    assert "::p::Plain question?{" in text and "[html]" not in text


def test_every_shipped_gift_file_parses():
    out = Path(__import__("tempfile").mkdtemp())
    assert run("build", REPO, "--out", out, "--format", "gift").exit_code == 0
    project = load_project(str(REPO))
    for export in exports(project, "both"):
        parsed = [
            q for q in gift_parse(out / f"{export.name}.gift.txt") if q["type"] not in ("Category", "Description")
        ]
        expected = sum(
            len({s.n for s in item.segments if not isinstance(s, str)}) if item.type == "cloze" else 1
            for item in export.items
        )
        assert len(parsed) == expected, export.name


# ---------------------------------------------------------------------------------------------------------
# QTI, read by pyslet


def descendants(element):
    """Every element below a pyslet element, depth first."""
    for child in element.get_children():
        if hasattr(child, "get_children"):
            yield child
            yield from descendants(child)


def in_package(package, folder: Path, file) -> Path:
    """Where a manifest <file> points, resolved by pyslet against the package."""
    return folder / str(file.package_path(package))


def unzip(path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(dest)
    return dest


def test_qti12_package_read_by_pyslet(built, tmp_path):
    qti1 = pytest.importorskip("pyslet.qtiv1.xml", reason="pyslet is in the test extras")
    from pyslet import imscpv1p2 as cp

    _, out, project, _ = built
    folder = unzip(out / "h.qti12.zip", tmp_path / "q12")
    package = cp.ContentPackage(str(folder))
    resources = {r.id: r for r in package.manifest.root.Resources.Resource}
    assessment = next(r for r in resources.values() if r.type == "imsqti_xmlv1p2")
    meta = next(r for r in resources.values() if r.type.startswith("associatedcontent"))
    href = in_package(package, folder, assessment.File[0])
    doc = qti1.QTIDocument(baseURI=str(href))
    doc.read()
    test = doc.root.Assessment if not isinstance(doc.root.Assessment, list) else doc.root.Assessment[0]
    assert test.ident == assessment.id  # the identifiers Canvas matches must agree
    meta_xml = ET.parse(in_package(package, folder, meta.File[0])).getroot()
    assert meta_xml.get("identifier") == assessment.id
    items = [i for section in test.SectionMixin for i in section.SectionItemMixin]
    assert {type(i).__name__ for i in items} == {"Item"}
    deck = next(e for e in exports(project, "both") if e.key == "decks/h.yaml")
    assert len(items) == len(deck.items)
    assert [i.title for i in items] == [i.name for i in deck.items]  # hostile titles arrive as written
    raw = ET.parse(href).getroot()
    ns = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
    kinds = {}
    for el in raw.iterfind(".//q:item", ns):
        fields = {
            f.find("q:fieldlabel", ns).text: f.find("q:fieldentry", ns).text
            for f in el.iterfind(".//q:qtimetadatafield", ns)
        }
        kinds[el.get("ident")] = (fields["question_type"], fields["points_possible"])
    assert sorted(k for k, _ in kinds.values()) == sorted(
        [
            "short_answer_question",
            "multiple_choice_question",
            "multiple_choice_question",
            "fill_in_multiple_blanks_question",
            "true_false_question",
        ]
    )
    # The right option of the hostile choice is the one the resprocessing marks.
    for el in raw.iterfind(".//q:item", ns):
        labels = {
            label.get("ident"): text_of_html(label.find(".//q:mattext", ns).text)
            for label in el.iterfind(".//q:response_label", ns)
            if label.find(".//q:mattext", ns) is not None  # a short answer's label has no text
        }
        correct = [v.text for v in el.iterfind(".//q:respcondition/q:conditionvar/q:varequal", ns)]
        if "=C#" in labels.values():
            assert [labels[c] for c in correct] == ["=C#"]
        if el.find(".//q:response_str", ns) is not None:
            assert correct == ["C# ~C+ =x"]
    media = [r for r in resources.values() if r.type == "webcontent"]
    assert len(media) == 1 and in_package(package, folder, media[0].File[0]).read_bytes() == PNG


def test_qti21_package_read_by_pyslet(built, tmp_path):
    qtixml = pytest.importorskip("pyslet.qtiv2.xml", reason="pyslet is in the test extras")
    from pyslet import imscpv1p2 as cp
    from pyslet.qtiv2 import variables

    _, out, project, _ = built
    folder = unzip(out / "quizzes" / "midterm" / "midterm.qti21.zip", tmp_path / "q21")
    package = cp.ContentPackage(str(folder))
    resources = list(package.manifest.root.Resources.Resource)
    tests = [r for r in resources if r.type == "imsqti_test_xmlv2p1"]
    items = [r for r in resources if r.type == "imsqti_item_xmlv2p1"]
    assert len(tests) == 1 and len(items) == 5
    listed = {in_package(package, folder, f) for r in resources for f in r.File}
    on_disk = {str(p) for p in folder.rglob("*") if p.is_file() and p.name != "imsmanifest.xml"}
    assert on_disk == {str(p) for p in listed}  # the manifest lists every file, media included
    test_doc = qtixml.QTIDocument(baseURI=str(in_package(package, folder, tests[0].File[0])))
    test_doc.read()
    refs = [r for r in descendants(test_doc.root) if type(r).__name__ == "AssessmentItemRef"]
    assert len(refs) == 5
    # pyslet does not model <weight>, so the points are read from the same file with the XML parser.
    raw_test = ET.parse(in_package(package, folder, tests[0].File[0])).getroot()
    ns = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1"}
    weights = {
        r.get("href"): [float(w.get("value")) for w in r.iterfind("q:weight", ns)]
        for r in raw_test.iter(f"{{{ns['q']}}}assessmentItemRef")
    }
    assert {str(r.href) for r in refs} == set(weights)
    assert raw_test.find(".//q:timeLimits", ns).get("maxTime") == str(45 * 60)
    assert "답을 고르시오: {모두}" in "".join(raw_test.find(".//q:rubricBlock", ns).itertext())
    assert sorted(w[0] for w in weights.values()) == [2, 2, 3, 3, 3]
    quiz = next(e for e in exports(project, "both") if e.key == "quizzes/midterm.yaml")
    tid = ident(project.id, quiz.key)
    by_ident = {ident(tid, i.id): i for i in quiz.items}
    for resource in items:
        doc = qtixml.QTIDocument(baseURI=str(in_package(package, folder, resource.File[0])))
        doc.read()
        item = doc.root
        model = by_ident[item.identifier]
        assert item.title == model.name
        declarations = {d.identifier: d for d in item.ResponseDeclaration}
        if model.type == "cloze":
            state = variables.ItemSessionState(item)
            state.select_clone()
            state.begin_session()
            try:  # begins the attempt, then renders the item; pyslet cannot render textEntryInteraction
                state.begin_attempt()
            except NotImplementedError:
                pass
            for i, blank in enumerate([s for s in model.segments if not isinstance(s, str)], 1):
                state[f"RESPONSE{i}"].set_value(blank.answers[0])  # pyslet ignores caseSensitive="false"
            state.end_attempt()
            assert state["SCORE"].value == 1.0
        elif model.type in ("choice", "truefalse"):
            correct = declarations["RESPONSE"].CorrectResponse.Value[0].get_value() if False else None
            raw = ET.parse(in_package(package, folder, resource.File[0])).getroot()
            ns = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1"}
            correct = raw.find(".//q:correctResponse/q:value", ns).text
            chosen = raw.find(f".//q:simpleChoice[@identifier='{correct}']", ns)
            right = next(texts for texts, ok in model.options if ok) if model.type == "choice" else None
            if right is not None:
                assert "".join(chosen.itertext()).strip().startswith(right[0][1])
            assert raw.find(".//q:responseProcessing", ns).get("template").endswith("/match_correct")
            if model.id == "choice-fixed":
                assert raw.find(".//q:choiceInteraction", ns).get("shuffle") == "false"
                assert ["".join(c.itertext()) for c in raw.iterfind(".//q:simpleChoice", ns)] == [
                    "ㄱ",
                    "ㄴ",
                    "ㄱ, ㄴ",
                    "ㄱ, ㄷ",
                ]
        else:
            raw = ET.parse(in_package(package, folder, resource.File[0])).getroot()
            ns = {"q": "http://www.imsglobal.org/xsd/imsqti_v2p1"}
            assert [m.get("mapKey") for m in raw.iterfind(".//q:mapEntry", ns)] == ["C# ~C+ =x"]
            assert "".join(raw.find(".//q:itemBody/q:p", ns).itertext()) == HOSTILE
    del declarations


def test_exports_are_reproducible(built, tmp_path):
    root, out, _, _ = built
    again = tmp_path / "again"
    assert (
        run(
            "build",
            root,
            "--out",
            again,
            "--no-cache",
            *sum((["--format", f] for f in ("moodle", "gift", "qti12", "qti21")), []),
        ).exit_code
        == 0
    )
    first, second = snapshot(out), snapshot(again)
    names = [n for n in first if not n.startswith(".quizgen")]
    assert names and all(first[n] == second[n] for n in names)
