"""Quiz files: the format (every problem located), the model, and the seeded assembly into forms."""

from __future__ import annotations

import textwrap

import pytest
from conftest import run, write_project

from quizgen import present
from quizgen.model import Text
from quizgen.project import load_project
from quizgen.quiz import assemble, deck_quiz, draw

SOURCES = "src:\n  title: A source\n"


def choice(fid: str, answer: str, wrong: list[str], tags: str = "") -> str:
    extra = f"\n    tags: [{tags}]" if tags else ""
    return (
        f"  - id: {fid}\n    type: choice\n    question: {{ko: {fid} 질문, en: {fid} question}}\n"
        f"    answer: {answer}\n    wrong: [{', '.join(wrong)}]\n    source: src{extra}\n"
    )


def truefalse(fid: str, tags: str = "") -> str:
    extra = f"\n    tags: [{tags}]" if tags else ""
    return f"  - id: {fid}\n    type: truefalse\n    statement: {fid} 진술\n    answer: true\n    source: src{extra}\n"


MOE = (
    'deck: "Course::Mixture of Experts"\ntags: [moe]\nfacts:\n'
    + "".join(
        choice(f"moe-{i}", f"A{i}", [f"B{i}", f"C{i}", f"D{i}", f"E{i}"], "numbers" if i % 2 else "")
        for i in range(1, 9)
    )
    + truefalse("moe-tf", "history")
)
STARGATE = (
    'deck: "Course::Stargate::Money"\nfacts:\n'
    + "".join(choice(f"sg-{i}", f"W{i}", [f"X{i}", f"Y{i}", f"Z{i}"]) for i in range(1, 6))
    + """  - id: sg-basic
    question: {ko: 얼마?, en: How much?}
    answer: {ko: 5000억 달러, en: $500 billion}
    source: src
  - id: sg-cloze
    type: cloze
    text: "Stargate is {{c1::$500 billion}}."
    source: src
  - id: sg-hab
    type: choice
    question: {ko: "옳은 것은? ㄱ. 가 ㄴ. 나 ㄷ. 다", en: "Which are true?"}
    answer: "ㄱ, ㄷ"
    options: ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ", "ㄴ, ㄷ"]
    points: 3
    source: src
"""
)

MIDTERM = """\
title: {ko: 1학기 중간고사, en: First-term midterm}
date: 2026-12-15
minutes: 45
instructions: {ko: 답을 고르세요., en: Choose the answer.}
lang: both
paper: a4
forms: 2
seed: midterm-2026
numbering: circled-digits
header: [name, class, number, score]
student_digits: 6
sections:
  - title: {ko: 객관식, en: Multiple choice}
    from:
      decks: ["Course::Mixture of Experts", "Course::Stargate"]
      types: [choice]
    exclude: {ids: [moe-1], tags: [history]}
    pick: 8
    points: 2
  - title: {ko: 주관식, en: Written}
    from:
      types: [basic, cloze, truefalse]
    points: 4
"""


@pytest.fixture
def bank(tmp_path):
    def make(quizzes: dict[str, str] | None = None, name: str = "proj"):
        files = {"decks/moe.yaml": MOE, "decks/stargate.yaml": STARGATE}
        files.update({f"quizzes/{k}": v for k, v in (quizzes or {}).items()})
        return write_project(tmp_path / name, files, SOURCES)

    return make


def test_a_quiz_file_becomes_the_model(bank):
    project = load_project(str(bank({"midterm.yaml": MIDTERM})))
    (quiz,) = project.quizzes
    assert (quiz.path, quiz.stem, quiz.title.get("ko"), quiz.date, quiz.minutes) == (
        "quizzes/midterm.yaml",
        "midterm",
        "1학기 중간고사",
        "2026-12-15",
        45,
    )
    assert (quiz.lang, quiz.paper, quiz.forms, quiz.seed, quiz.numbering) == (
        "both",
        "a4",
        2,
        "midterm-2026",
        "circled-digits",
    )
    assert quiz.header == ("name", "class", "number", "score") and quiz.student_digits == 6
    assert quiz.instructions.get("en") == "Choose the answer." and quiz.line_of("forms") == 7
    first, second = quiz.sections
    assert first.filters.decks == ("Course::Mixture of Experts", "Course::Stargate") and first.filters.types == (
        "choice",
    )
    assert first.exclude.ids == ("moe-1",) and first.exclude.tags == ("history",)
    assert (first.pick, first.points, second.pick, second.points) == (8, 2, None, 4)
    # the subdeck Course::Stargate::Money is included; moe-1 and the history fact are excluded
    assert "moe-1" not in first.facts and "sg-1" in first.facts and "sg-hab" in first.facts
    assert second.facts == ("moe-tf", "sg-basic", "sg-cloze")


def test_defaults(bank):
    project = load_project(str(bank({"unit/short.yml": "sections:\n  - from: {ids: [moe-2]}\n"})))
    (quiz,) = project.quizzes
    assert quiz.stem == "unit-short" and quiz.title.get("ko") == "unit-short"
    assert (quiz.lang, quiz.paper, quiz.forms, quiz.numbering, quiz.student_digits) == (
        "both",
        "a4",
        1,
        "circled-digits",
        5,
    )
    assert quiz.header == ("name", "class", "number", "score") and quiz.minutes is None
    assert quiz.sections[0].points == 1 and quiz.sections[0].pick is None


def test_numbering_defaults_from_the_primary_language(bank):
    root = bank({"en.yaml": "lang: en\nsections:\n  - from: {ids: [moe-2]}\n"})
    assert load_project(str(root)).quizzes[0].numbering == "letters"
    (root / "quizgen.yaml").write_text("languages: [en, ko]\nid: test-course-0001\n", encoding="utf-8")
    (root / "quizzes" / "en.yaml").write_text("sections:\n  - from: {ids: [moe-2]}\n", encoding="utf-8")
    assert load_project(str(root)).quizzes[0].numbering == "letters"


def forms_of(root, stem="midterm"):
    project = load_project(str(root))
    quiz = next(q for q in project.quizzes if q.stem == stem)
    return project, quiz, assemble(project, quiz)


def test_pick_draws_once_per_quiz_and_forms_shuffle_within_sections(bank):
    project, quiz, (a, b) = forms_of(bank({"midterm.yaml": MIDTERM}))
    assert (a.letter, b.letter) == ("A", "B")
    ids_a, ids_b = [q.fact.id for q in a.questions], [q.fact.id for q in b.questions]
    assert len(ids_a) == 8 + 3 and sorted(ids_a) == sorted(ids_b)  # the same questions on every form
    assert ids_a != ids_b  # in another order
    for form in (a, b):  # section order never changes: the 8 choice questions first, then the written ones
        assert [q.section for q in form.questions] == [0] * 8 + [1] * 3
        assert [q.number for q in form.questions] == list(range(1, 12))
        assert all(q.fact.id in quiz.sections[0].facts for q in form.questions[:8])
    # points: the section's, unless the fact has its own
    points = {q.fact.id: q.points for q in a.questions}
    assert points.get("sg-hab", 3) == 3 and all(
        p == 2 for fid, p in points.items() if fid.startswith(("moe-", "sg-")) and fid[-1].isdigit()
    )
    assert points["sg-basic"] == 4 and a.total == b.total == sum(points.values())
    # options: shuffled per form for ordinary facts, each form's answer marked
    for form in (a, b):
        for q in form.questions:
            if q.fact.type == "choice":
                assert sorted(t.get("ko") for t, _ in q.options) == sorted(
                    t.get("ko") for t, _ in present.option_order(q.fact)
                )
                assert q.options[q.answer_index][0] == q.fact.answer
            else:
                assert q.options == () and q.answer_index is None
    orders = {fid: [] for fid in ids_a if fid.startswith(("moe-", "sg-")) and fid[-1].isdigit()}
    for form in (a, b):
        for q in form.questions:
            if q.fact.id in orders:
                orders[q.fact.id].append([t.get("ko") for t, _ in q.options])
    assert any(x != y for x, y in orders.values())


def test_the_same_seed_gives_the_same_quiz_and_another_seed_draws_differently(bank, tmp_path):
    _, _, first = forms_of(bank({"midterm.yaml": MIDTERM}, "one"))
    _, _, again = forms_of(bank({"midterm.yaml": MIDTERM}, "two"))
    assert first == again
    _, _, other = forms_of(bank({"midterm.yaml": MIDTERM.replace("midterm-2026", "final-2026")}, "three"))
    assert {q.fact.id for q in first[0].questions} != {q.fact.id for q in other[0].questions}


def test_without_pick_one_form_keeps_file_order_and_card_option_order(bank):
    quiz_text = "sections:\n  - from: {decks: [Course]}\n"
    project, quiz, (form,) = forms_of(bank({"all.yaml": quiz_text}), "all")
    assert [q.fact.id for q in form.questions] == [f.id for f in project.facts]
    for q in form.questions:
        if q.fact.type == "choice":
            assert list(q.options) == present.option_order(q.fact)


def test_options_keep_their_order_on_every_form(bank):
    quiz_text = "forms: 5\nseed: s\nsections:\n  - from: {decks: [Course::Stargate]}\n    points: 2\n"
    project, quiz, forms = forms_of(bank({"hab.yaml": quiz_text}), "hab")
    written = ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ", "ㄴ, ㄷ"]
    fact = project.fact("sg-hab")
    assert [t.get("ko") for t, _ in present.option_order(fact)] == written
    for form in forms:
        q = next(q for q in form.questions if q.fact.id == "sg-hab")
        assert [t.get("ko") for t, _ in q.options] == written and q.answer_index == 3
        assert q.points == 3  # the fact's own points beat the section's


def test_shuffle_overrides_the_default(bank, tmp_path):
    fixed = MOE.replace("    wrong: [B1, C1, D1, E1]\n", "    wrong: [B1, C1, D1, E1]\n    shuffle: false\n")
    hab = STARGATE.replace('    options: ["ㄱ",', '    shuffle: true\n    options: ["ㄱ",')
    root = write_project(
        tmp_path / "p",
        {
            "decks/moe.yaml": fixed,
            "decks/stargate.yaml": hab,
            "quizzes/q.yaml": "forms: 6\nsections:\n  - from: {ids: [moe-1, sg-hab]}\n",
        },
        SOURCES,
    )
    project, quiz, forms = forms_of(root, "q")
    orders = {
        fid: {tuple(t.get("ko") for t, _ in q.options) for f in forms for q in f.questions if q.fact.id == fid}
        for fid in ("moe-1", "sg-hab")
    }
    assert len(orders["moe-1"]) == 1 and len(orders["sg-hab"]) > 1


def test_a_fact_matched_by_two_sections_is_asked_once_in_the_first(bank):
    quiz_text = "sections:\n  - from: {ids: [moe-2, moe-3]}\n  - from: {ids: [moe-3, moe-4]}\n    points: 5\n"
    _, quiz, (form,) = forms_of(bank({"twice.yaml": quiz_text}), "twice")
    assert [(q.fact.id, q.section, q.points) for q in form.questions] == [
        ("moe-2", 0, 1),
        ("moe-3", 0, 1),
        ("moe-4", 1, 5),
    ]


def test_draw_samples_without_changing_file_order(bank):
    project = load_project(str(bank({"midterm.yaml": MIDTERM})))
    sections = draw(project, project.quizzes[0])
    order = [f.id for f in project.facts]
    assert len(sections[0]) == 8 and [order.index(f.id) for f in sections[0]] == sorted(
        order.index(f.id) for f in sections[0]
    )


def test_deck_quiz_is_the_whole_file_in_order(bank):
    project = load_project(str(bank()))
    fact_file = project.files[0]
    quiz = deck_quiz(fact_file, "moe", project.languages, forms=2, seed="x")
    forms = assemble(project, quiz)
    assert len(forms) == 2 and quiz.numbering == "circled-digits" and quiz.paper == "a4"
    assert sorted(q.fact.id for q in forms[0].questions) == sorted(f.id for f in fact_file.facts)
    (one,) = assemble(project, deck_quiz(fact_file, "moe", project.languages))
    assert [q.fact.id for q in one.questions] == [f.id for f in fact_file.facts]


def test_numbering_labels():
    assert [present.option_label(i, "circled-digits") for i in range(5)] == list("①②③④⑤")
    assert present.option_label(19, "circled-digits") == "⑳"
    assert [present.option_label(i, "letters") for i in range(3)] == list("ⒶⒷⒸ")
    assert (
        present.points_text(2) == "2" and present.points_text(1.5) == "1.5" and present.points_text(0.1 + 0.2) == "0.3"
    )


# ---------------------------------------------------------------------------
# every rejected quiz file: exit 1 and its path:line


REJECTED = [
    # (quiz file, line, words in the message)
    (
        "sections:\n  - from: {decks: [Course::Mixture of Expert]}\n",
        2,
        "unknown deck 'Course::Mixture of Expert'; did you mean 'Course::Mixture of Experts'?",
    ),
    ("sections:\n  - from:\n      tags: [numbrs]\n", 3, "unknown tag 'numbrs'; did you mean 'numbers'?"),
    ("sections:\n  - from:\n      types: [choise]\n", 3, "unknown fact type 'choise'"),
    ("sections:\n  - from:\n      ids: [moe-99, sg-1]\n", 3, "unknown fact id 'moe-99'"),
    (
        "sections:\n  - from:\n      files: [decks/moe.yml]\n",
        3,
        "unknown fact file 'decks/moe.yml'; did you mean 'decks/moe.yaml'?",
    ),
    ("sections:\n  - exclude: {idz: [moe-1]}\n", 2, "unknown key 'idz' in exclude; did you mean 'ids'?"),
    (
        "titel: x\nsections:\n  - from: {ids: [moe-1]}\n",
        1,
        "unknown key 'titel' in the quiz file; did you mean 'title'?",
    ),
    ("sections:\n  - from: {ids: [moe-1]}\n    pik: 1\n", 3, "unknown key 'pik' in section 1; did you mean 'pick'?"),
    # a filter that matches nothing (each value exists, together they do not)
    (
        "sections:\n  - from:\n      decks: [Course::Stargate]\n      tags: [history]\n",
        4,
        "no fact matches ['history'] together with the filters above it",
    ),
    ("sections:\n  - from:\n      types: [cloze]\n      decks: [Course::Mixture of Experts]\n", 4, "no fact matches"),
    ("sections:\n  - from: {ids: [moe-1]}\n    exclude: {tags: [moe]}\n", 3, "exclude leaves no fact to ask"),
    (
        "sections:\n  - from: {ids: [moe-1]}\n  - from: {ids: [moe-1]}\n",
        3,
        "section 2: every fact it matches is already asked by an earlier section",
    ),
    (
        "sections:\n  - from: {ids: [moe-1]}\n  - from: {decks: [Course::Stargate]}\n    pick: 10\n",
        4,
        "section 2 picks 10, but only 8 facts match",
    ),
    ("sections:\n  - from: {ids: [moe-1]}\n    pick: 0\n", 3, "pick: must be a whole number"),
    ("forms: 27\nsections:\n  - from: {ids: [moe-1]}\n", 1, "forms: must be a whole number from 1 to 26 (found '27')"),
    ("forms: 0\nsections:\n  - from: {ids: [moe-1]}\n", 1, "forms: must be a whole number from 1 to 26"),
    ("sections:\n  - from: {ids: [moe-1]}\n    points: 0\n", 3, "points: must be a positive number"),
    ("sections:\n  - from: {ids: [moe-1]}\n    points: -2\n", 3, "points: must be a positive number"),
    ("sections:\n  - from: {ids: [moe-1]}\n    points: two\n", 3, "points: must be a positive number"),
    ("paper: a5\nsections:\n  - from: {ids: [moe-1]}\n", 1, "paper: unknown paper size 'a5'"),
    ("lang: kr\nsections:\n  - from: {ids: [moe-1]}\n", 1, "lang: unknown language 'kr' (use one of: both, ko, en)"),
    ("numbering: circled\nsections:\n  - from: {ids: [moe-1]}\n", 1, "did you mean 'circled-digits'?"),
    ("header: [name, clas]\nsections:\n  - from: {ids: [moe-1]}\n", 1, "unknown header box 'clas'"),
    ("minutes: soon\nsections:\n  - from: {ids: [moe-1]}\n", 1, "minutes: must be a whole number"),
    (
        "student_digits: 20\nsections:\n  - from: {ids: [moe-1]}\n",
        1,
        "student_digits: must be a whole number from 1 to 10",
    ),
    ("title: x\n", 1, "missing required key 'sections'"),
    ("sections: []\n", 1, "sections: the list is empty"),
    ("sections:\n  - just text\n", 2, "section 1: expected a mapping"),
    ("title: {ko: 시험, fr: examen}\nsections:\n  - from: {ids: [moe-1]}\n", 1, "title: unknown language 'fr'"),
    ("- a list\n", 1, "a quiz file must be a mapping"),
    ("sections:\n  - from: {ids: [moe-1]\n", 2, "YAML syntax error"),  # the real line, not past the end
]


@pytest.mark.parametrize("text, line, message", REJECTED, ids=[f"{i}-{r[2][:30]}" for i, r in enumerate(REJECTED)])
def test_every_rejected_quiz_file_is_located(bank, text, line, message):
    root = bank({"bad.yaml": text})
    result = run("check", root)
    assert result.exit_code == 1, result.output
    assert f"quizzes/bad.yaml:{line}: " in result.stderr and message in result.stderr, result.stderr


def test_every_problem_in_every_quiz_in_one_run(bank, tmp_path):
    root = bank(
        {
            "a.yaml": "forms: 40\nsections:\n  - from: {decks: [Nope]}\n    points: 0\n",
            "b.yaml": "sections:\n  - from: {tags: [nope]}\n",
        }
    )
    result = run("build", root, "--out", tmp_path / "out")
    assert result.exit_code == 1
    for where in ("quizzes/a.yaml:1:", "quizzes/a.yaml:3:", "quizzes/a.yaml:4:", "quizzes/b.yaml:2:"):
        assert where in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_two_quiz_files_with_one_name_are_refused(bank):
    root = bank({"a.yaml": "sections:\n  - from: {ids: [moe-1]}\n", "a.yml": "sections:\n  - from: {ids: [moe-2]}\n"})
    result = run("check", root)
    assert result.exit_code == 1 and "quizzes/a.yml: writes the same files as quizzes/a.yaml" in result.stderr


def test_quiz_references_are_not_checked_when_facts_are_broken(bank):
    root = bank({"q.yaml": "forms: 99\nsections:\n  - from: {ids: [moe-1]}\n"})
    (root / "decks" / "moe.yaml").write_text(MOE.replace("type: truefalse", "type: truefals"), encoding="utf-8")
    result = run("check", root)
    assert result.exit_code == 1 and "decks/moe.yaml" in result.stderr and "quizzes/q.yaml:1: forms" in result.stderr
    assert "unknown fact id" not in result.stderr


# ---------------------------------------------------------------------------
# fact format additions: options, shuffle, points


FACT_REJECTED = [
    (
        "- id: a\n  type: choice\n  question: q\n  answer: x\n  options: [x, y, x]\n",
        5,
        "options[2]: repeats options[0]",
    ),
    (
        "- id: a\n  type: choice\n  question: q\n  answer: z\n  options: [x, y, w]\n",
        5,
        "options: the answer is not among the options",
    ),
    ("- id: a\n  type: choice\n  question: q\n  answer: x\n  options: [x, y]\n", 5, "at least 3 options"),
    (
        "- id: a\n  type: choice\n  question: q\n  answer: x\n  options: [x, y, z]\n  wrong: [y, z]\n",
        5,
        "either 'wrong' or 'options'",
    ),
    ("- id: a\n  type: choice\n  question: q\n  answer: x\n", 1, "needs 'wrong' (the wrong options) or 'options'"),
    (
        "- id: a\n  type: choice\n  question: q\n  answer: x\n  wrong: [y, z]\n  shuffle: maybe\n",
        6,
        "shuffle: must be true or false",
    ),
    ("- id: a\n  question: q\n  answer: x\n  shuffle: true\n", 4, "'shuffle' belongs to choice facts"),
    ("- id: a\n  question: q\n  answer: x\n  points: 0\n", 4, "points: must be a positive number"),
    (
        "- id: a\n  type: truefalse\n  statement: s\n  answer: true\n  options: [a, b, c]\n",
        5,
        "'options' belongs to choice facts",
    ),
]


@pytest.mark.parametrize("body, line, message", FACT_REJECTED)
def test_fact_additions_are_validated(bank, tmp_path, body, line, message):
    root = write_project(
        tmp_path / "f", {"decks/a.yaml": 'deck: "T::D"\nfacts:\n' + textwrap.indent(body, "  ")}, SOURCES
    )
    result = run("check", root)
    assert result.exit_code == 1 and f"decks/a.yaml:{line + 2}: " in result.stderr and message in result.stderr, (
        result.stderr
    )


def test_options_points_and_shuffle_reach_the_model(bank):
    project = load_project(str(bank()))
    fact = project.fact("sg-hab")
    assert [t.get("ko") for t in fact.options] == ["ㄱ", "ㄴ", "ㄱ, ㄴ", "ㄱ, ㄷ", "ㄴ, ㄷ"]
    assert fact.answer == Text((("", "ㄱ, ㄷ"),)) and len(fact.wrong) == 4 and fact.points == 3
    assert not present.shuffles(fact) and present.shuffles(project.fact("sg-1"))


def test_check_and_stats_report_quizzes(bank):
    root = bank({"midterm.yaml": MIDTERM})
    result = run("check", root)
    assert result.exit_code == 0 and "1 quiz" in result.stdout
    result = run("stats", root)
    line = next(ln for ln in result.stdout.splitlines() if "quizzes/midterm.yaml" in ln)
    _, _, (form, _) = forms_of(root)
    assert "11 questions" in line and f"{present.points_text(form.total)} points" in line and "2 forms" in line


def test_init_writes_an_example_quiz_over_the_example_facts(tmp_path):
    target = tmp_path / "course"
    assert run("init", target).exit_code == 0
    project = load_project(str(target))
    (quiz,) = project.quizzes
    forms = assemble(project, quiz)
    assert len(forms) == quiz.forms == 2 and {q.fact.id for q in forms[0].questions} == {f.id for f in project.facts}
    assert any(f.options for f in project.facts)
