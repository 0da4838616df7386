"""Anki packages in (.apkg, .colpkg): notes become facts, decks become fact files, media becomes images/.

Read with the official Anki backend (the optional `anki` package: `pip install
'quizgen[anki]'`), since current packages are zstd-compressed with protobuf
inside and only the backend reads every version, legacy ones included.  The
package is untrusted: its zip is checked first (size, entry count, compression
ratio), the backend runs in a child process with a time limit and a cap on the
size of any file it writes (`ankiread.py`), media names are never used as paths,
and oversized fields are reported, not imported.

What maps (see README, "Already have a deck?"):
- Basic, Basic (and reversed card), Basic (optional reversed card), Basic (type in
  the answer): first field -> question, second -> answer, a field named Extra/Notes
  -> explanation.  Only the forward card survives; a typed answer becomes a shown one.
- Cloze: Text -> text (the same `{{c1::...}}` syntax), Back Extra -> explanation.
- quizgen's own notetypes (known by their fixed ids): every field back to the fact it
  was built from, with its id, languages, source, quote and option order.
- Anything else: a notetype quizgen does not know is read as first field -> question,
  second -> answer, and each such note is listed in the report.
HTML becomes text (line breaks kept); the first image becomes `image:`; audio, further
images and fields with no place are listed per note.  The note's GUID travels along so
that a build can update the notes a learner already has (plan.py decides when).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile

from .. import ids
from ..errors import Problem, QuizgenError
from ..loader import inside
from ..model import Fact, Text
from ..present import option_order
from .draft import MAX_FIELD_CHARS, Draft, clean
from .htmltext import html_to_text
from .plan import Batch, safe_name

MAX_PACKAGE_BYTES = 2 * 1024**3
MAX_UNPACKED_BYTES = 4 * 1024**3  # what the zip's entries say they unpack to, together
MAX_ENTRIES = 200_000
MAX_RATIO = 200  # an entry that unpacks to more than 200x its packed size (and > 64 MiB) is a bomb
MAX_WRITTEN_FILE = 1024**3  # RLIMIT_FSIZE for the backend's child: no file it writes may exceed this
MAX_NOTES = 200_000
MAX_RAW_FIELD = 10 * MAX_FIELD_CHARS  # HTML before stripping
MAX_IMAGE_BYTES = 20 * 1024**2
TIMEOUT = int(os.environ.get("QUIZGEN_IMPORT_TIMEOUT", "600"))

QUIZGEN_TYPES = {nt_id: kind for kind, nt_id in ids.NOTETYPE_IDS.items()}
# originalStockKind -> (kind, number of fields the stock notetype has).  A notetype made with "Add" in
# Anki also says kind 1 (Basic), so the field count must match too for a notetype to count as stock.
STOCK = {1: ("basic", 2), 2: ("reversed", 2), 3: ("optional-reversed", 3), 4: ("typing", 2), 5: ("cloze", 2),
         6: ("image-occlusion", 5)}  # fmt: skip
EXPLANATION_FIELDS = {"back extra", "extra", "notes", "note", "explanation", "해설", "설명"}
INSTALL = "pip install 'quizgen[anki]'"


def require_anki() -> None:
    if importlib.util.find_spec("anki") is None:
        raise QuizgenError(
            "reading Anki packages needs the official Anki backend (the 'anki' package), which is not installed; "
            f"install it with: {INSTALL}"
        )


def check_zip(path: str, display: str) -> list[Problem]:
    """Refuse packages that are not zips or that would unpack to far more than they weigh."""
    if os.path.getsize(path) > MAX_PACKAGE_BYTES:
        return [Problem(display, 0, "is larger than 2 GiB; refusing to open it")]
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return [Problem(display, 0, f"is not an Anki package (not a zip file: {exc})")]
    names = {i.filename for i in infos}
    if not names & {"collection.anki21b", "collection.anki21", "collection.anki2"}:
        return [Problem(display, 0, "is not an Anki package (no collection inside)")]
    if len(infos) > MAX_ENTRIES:
        return [Problem(display, 0, f"has {len(infos):,} entries (limit {MAX_ENTRIES:,}); refusing to open it")]
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        return [Problem(display, 0, "would unpack to more than 4 GiB; refusing to open it")]
    for info in infos:
        if info.file_size > 64 * 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            return [Problem(display, 0, f"entry {info.filename!r} unpacks to {ratio}x its size; refusing a zip bomb")]
    return []


def _limits() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_WRITTEN_FILE, MAX_WRITTEN_FILE))


def run_backend(path: str, workdir: str, display: str) -> dict:
    """Unpack the package with the Anki backend in a limited child process; its notes as data."""
    command = [sys.executable, "-m", "quizgen.importers.ankiread", os.path.abspath(path), workdir]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=_limits if os.name == "posix" else None,
        )
    except subprocess.TimeoutExpired:
        raise QuizgenError(f"{display}: reading the package took longer than {TIMEOUT} s; gave up") from None
    xfsz = getattr(signal, "SIGXFSZ", None)
    if xfsz is not None and done.returncode == -xfsz:
        raise QuizgenError(f"{display}: the package unpacks to a file larger than 1 GiB; refusing it")
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit code {done.returncode}"
        raise QuizgenError(f"{display}: the Anki backend could not read this package ({why})")
    with open(os.path.join(workdir, "notes.json"), encoding="utf-8") as fh:
        data = json.load(fh)
    if not inside(workdir, data["media"]):
        raise QuizgenError(f"{display}: the backend put media outside its folder; refusing")
    return data


def read(path: str, display: str, *, deck: str | None, lang: str | None, languages) -> Batch:
    require_anki()
    batch = Batch(lenient=True)
    batch.problems = check_zip(path, display)
    if batch.problems:
        return batch
    workdir = tempfile.mkdtemp(prefix="quizgen-apkg-")
    try:
        data = run_backend(path, workdir, display)
        if len(data["notes"]) > MAX_NOTES:
            raise QuizgenError(f"{display}: {len(data['notes']):,} notes is more than the limit of {MAX_NOTES:,}")
        Reader(data, display, deck, lang, batch).read_all()
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    batch.temp_dirs.append(workdir)  # the media stay until the import has copied them
    return batch


class Reader:
    """Maps the dumped notes to drafts; collects per-note and per-notetype report lines."""

    def __init__(self, data: dict, display: str, deck: str | None, lang: str | None, batch: Batch):
        self.data, self.display, self.deck, self.lang, self.batch = data, display, deck, lang, batch
        self.media_dir = data["media"]
        self.first_card: dict[int, int] = {}
        self.card_decks: dict[int, set[int]] = {}
        for nid, _ord, did in data["cards"]:
            self.first_card.setdefault(nid, did)
            self.card_decks.setdefault(nid, set()).add(did)
        self.notetype_counts: dict[tuple[str, str], int] = {}
        self.languages: tuple[str, ...] = ()

    def deck_of(self, nid: int) -> str:
        return self.data["decks"].get(str(self.first_card.get(nid)), "Default")

    def learn_sources(self) -> None:
        """Source title/url -> id, from the quizgen notes that cite one source (Source field + source:: tag).

        A note that cites several sources shows their titles in one field and lists their ids only as
        (sorted) tags; these pairs from the package's other notes tell which title is which id."""
        self.source_ids: dict[str, str] = {}
        for _nid, _guid, mid, tags, values in self.data["notes"]:
            nt = self.data["notetypes"].get(mid)
            if nt is None or int(mid) not in QUIZGEN_TYPES:
                continue
            f = dict(zip(nt["fields"], values))
            sids = [t.split("::", 1)[1] for t in tags.split() if t.startswith("source::")]
            if len(sids) == 1 and f.get("Source") and "qg-cite" not in f["Source"]:
                self.source_ids.setdefault(unescape(f["Source"]), sids[0])
                if f.get("SourceUrl"):
                    self.source_ids.setdefault(html.unescape(f["SourceUrl"]), sids[0])

    def citations(self, markup: str, tag_ids: list[str], origin_notes: list[str]) -> list[dict]:
        """A multi-source Source field back to `cite:` entries, each source id found by title, url or elimination."""
        found = []
        for role, rest in _CITE.findall(markup):
            quote = ""
            m = re.search(r'<blockquote class="qg-quote">(.*?)</blockquote>$', rest, re.S)
            if m:
                quote, rest = unescape(m.group(1)), rest[: m.start()]
            link = re.match(r'<a href="([^"]*)">(.*?)</a>', rest, re.S)
            url, title = (
                (html.unescape(link.group(1)), unescape(link.group(2)))
                if link
                else ("", unescape(rest.split(" · ")[0]))
            )
            found.append([role, title, url, quote, self.source_ids.get(title) or self.source_ids.get(url)])
        left = [t for t in tag_ids if t not in {c[4] for c in found}]
        for citation in found:
            if citation[4] is None and left:
                citation[4] = left.pop(0)
                if len(left) or sum(1 for c in found if c[4] is None):
                    origin_notes.append(f"the source id of {citation[1]!r} was guessed as {citation[4]!r}; check it")
        out = []
        for role, title, url, quote, sid in found:
            if sid is None:
                continue
            self.batch.sources.setdefault(sid, {k: v for k, v in (("title", title), ("url", url)) if v})
            entry = {"source": sid}
            if quote:
                entry["quote"] = quote
            if role != "evidence":
                entry["role"] = role
            out.append(entry)
        return out

    def read_all(self) -> None:
        self.learn_sources()
        wanted = self.deck
        decks_seen = set()
        for index, (nid, guid, mid, tags, values) in enumerate(self.data["notes"], 1):
            deck = self.deck_of(nid)
            decks_seen.add(deck)
            if wanted and deck != wanted and not deck.startswith(wanted + "::"):
                continue
            self.note(index, nid, guid, mid, tags, values, deck)
        if wanted and not self.batch.drafts and not self.batch.problems:
            raise QuizgenError(f"{self.display}: no deck {wanted!r} (decks: {', '.join(sorted(decks_seen))})")
        for (name, what), count in sorted(self.notetype_counts.items()):
            self.batch.notes.append(f"{self.display}: {count} note{'s' if count != 1 else ''} of '{name}': {what}")
        self.batch.languages = self.languages

    def note(self, index, nid, guid, mid, tags, values, deck) -> None:
        nt = self.data["notetypes"].get(mid)
        first = html_to_text(values[0])[0] if values else ""
        label = f"note {index} {first[:40]!r}" if first else f"note {index}"
        origin = Problem(self.display, 0, label)
        if nt is None:
            self.skip(origin, "its notetype is missing from the package")
            return
        if any(len(v) > MAX_RAW_FIELD for v in values):
            self.skip(origin, f"a field is longer than {MAX_RAW_FIELD:,} characters")
            return
        fields = dict(zip(nt["fields"], values))
        tag_list = [t for t in tags.split() if t]
        if int(mid) in QUIZGEN_TYPES and "FactId" in fields:
            draft = self.quizgen_note(QUIZGEN_TYPES[int(mid)], fields, tag_list, deck, origin)
        else:
            draft = self.plain_note(nt, fields, tag_list, deck, origin)
        if draft is None:
            return
        decks = self.card_decks.get(nid, set())
        if len(decks) > 1:
            names = sorted(self.data["decks"].get(str(d), "?") for d in decks)
            draft.notes.append(f"its cards are in several decks ({', '.join(names)}); the fact goes to {deck!r}")
        draft.guid = guid
        self.batch.drafts.append(draft)

    def skip(self, origin: Problem, why: str) -> None:
        self.batch.notes.append(f"{self.display}: {origin.message}: not imported: {why}")

    def count(self, nt: dict, what: str) -> None:
        key = (nt["name"], what)
        self.notetype_counts[key] = self.notetype_counts.get(key, 0) + 1

    def text(self, value: str) -> str:
        return {self.lang: value} if self.lang else value

    # -- notes of Anki's own (or unknown) notetypes

    def plain_note(self, nt: dict, fields: dict, tags: list, deck: str, origin: Problem) -> Draft | None:
        kind, count = STOCK.get(nt["stock"], ("", 0))
        stock = kind if count == len(nt["fields"]) else ""
        if stock == "image-occlusion" or (nt["cloze"] and "Occlusion" in fields):
            self.skip(origin, "image occlusion notes have no quizgen equivalent")
            return None
        parsed = {name: html_to_text(value) for name, value in fields.items()}
        draft = Draft(deck=deck, fields={}, origin=origin)
        names = list(fields)
        if nt["cloze"]:
            main = "Text" if "Text" in fields else names[0]
            body = clean(parsed[main][0])
            if not body:
                self.skip(origin, f"its {main!r} field is empty")
                return None
            draft.fields.update(type="cloze", text=self.text(body))
            used = {main}
        else:
            if len(names) < 2:
                self.skip(origin, f"notetype '{nt['name']}' has one field, so there is no answer")
                return None
            question, answer = clean(parsed[names[0]][0]), clean(parsed[names[1]][0])
            if not answer:
                self.skip(origin, f"its {names[1]!r} field (the answer) is empty")
                return None
            if not question:
                question = "(see the image)" if parsed[names[0]][1] else ""
                if not question:
                    self.skip(origin, f"its {names[0]!r} field (the question) is empty")
                    return None
                draft.notes.append("the question was only an image; its text is now '(see the image)'")
            draft.fields.update(question=self.text(question), answer=self.text(answer))
            used = {names[0], names[1]}
            if stock in ("reversed", "optional-reversed") or len(nt["templates"]) > 1:
                self.count(nt, "only the first card (question -> answer) is carried over; the reverse card is not")
            if stock == "typing" or any("{{type:" in t for t in nt["templates"]):
                self.count(nt, "the typed answer becomes an answer shown on the back")
            if not stock:
                draft.notes.append(
                    f"notetype '{nt['name']}' is not one quizgen knows: its first field became the question, "
                    "its second the answer"
                )
        extra = next((n for n in names if n not in used and n.lower() in EXPLANATION_FIELDS and parsed[n][0]), None)
        if extra:
            draft.fields["explanation"] = self.text(clean(parsed[extra][0]))
            used.add(extra)
        for name in names:
            if name not in used and name != "Add Reverse" and clean(parsed[name][0]):
                draft.notes.append(f"field {name!r} has no place in a fact and was not carried over")
        self.media(draft, [src for n in names for src in parsed[n][1]], [s for n in names for s in parsed[n][2]])
        if tags:
            draft.fields["tags"] = tags
        return draft

    def media(self, draft: Draft, images: list[str], sounds: list[str]) -> None:
        if sounds:
            draft.notes.append(f"audio/video not carried over: {', '.join(sounds)}")
        kept = None
        for src in images:
            name = urllib.parse.unquote(src)
            path = os.path.join(self.media_dir, name)
            if ("/" in name or "\\" in name or name.startswith(".") or not inside(self.media_dir, path)
                    or os.path.islink(path) or not os.path.isfile(path)):  # fmt: skip
                draft.notes.append(f"image {src!r} is not in the package's media")
                continue
            if os.path.getsize(path) > MAX_IMAGE_BYTES:
                draft.notes.append(f"image {src!r} is larger than 20 MiB and was not copied")
                continue
            target = safe_name(name)
            if target is None:
                draft.notes.append(f"{src!r} is not an image file quizgen shows")
                continue
            if kept is None:
                kept = (target, path)
                draft.media["image"] = kept
            else:
                draft.notes.append(f"a fact has one image: {src!r} was not carried over")

    # -- notes quizgen built: every field back where it came from

    def quizgen_note(self, kind: str, f: dict, tags: list, deck: str, origin: Problem) -> Draft | None:
        l1, l2 = f.get("Lang1", ""), f.get("Lang2", "")
        if not self.languages and l1:
            self.languages = tuple(x for x in (l1, l2) if x)

        def text(name: str):
            a, b = unescape(f.get(f"{name}1", "")), unescape(f.get(f"{name}2", ""))
            if a and b and l1 and l2:
                return {l1: a, l2: b}
            return a or b or None

        fid = f["FactId"].strip()
        fields: dict = {"id": fid}
        if kind != "basic":
            fields["type"] = kind
        prompt = text("Prompt")
        fields[{"cloze": "text", "truefalse": "statement"}.get(kind, "question")] = prompt
        if kind == "basic":
            fields["answer"] = text("Answer")
        elif kind == "choice":
            options = choice_options(f.get("Options1", ""), l1, l2)
            answer, wrong = original_options(fid, options)
            if answer is None:
                self.skip(origin, "its options list has no marked answer")
                return None
            fields["answer"], fields["wrong"] = answer, wrong
        elif kind == "truefalse":
            mark = unescape(f.get("Answer1", ""))[:1]
            if mark not in ("○", "×"):
                self.skip(origin, "its answer is neither ○ (true) nor × (false)")
                return None
            from .yamltext import Plain

            fields["answer"] = Plain("true" if mark == "○" else "false")
        explanation = text("Explanation")
        if explanation:
            fields["explanation"] = explanation
        tag_ids = [t.split("::", 1)[1] for t in tags if t.startswith("source::")]
        source = tag_ids[0] if tag_ids else ""
        notes: list[str] = []
        cited = f.get("Citations") or f.get("Source", "")  # Citations in the final layout, Source before it
        if "qg-cite" in cited:
            fields["cite"] = self.citations(cited, tag_ids, notes)
            source = ""
        if source:
            fields["source"] = source
            record = {
                "title": unescape(f.get("Source", "")) or source,
                "url": html.unescape(f.get("SourceUrl", "")),
                "date": unescape(f.get("SourceDate", "")),
                "publisher": unescape(f.get("SourcePublisher", "")),
            }
            self.batch.sources.setdefault(source, {k: v for k, v in record.items() if v})
        if f.get("Quote") and "cite" not in fields:  # a cite list carries its own quotes
            fields["quote"] = unescape(f["Quote"])
        kept = [t for t in tags if not t.startswith(("quizgen::", "source::"))]
        if kept:
            fields["tags"] = kept
        draft = Draft(deck=deck, fields={k: v for k, v in fields.items() if v is not None}, origin=origin, notes=notes)
        images = re.findall(r'<img src="([^"]*)"', f.get("Image", ""))
        self.media(draft, [html.unescape(s) for s in images], [])
        return draft


def unescape(value: str) -> str:
    """The exact inverse of the Anki writer's `esc`: quizgen fields hold escaped text with <br> for line breaks."""
    return html.unescape(value.replace("<br>", "\n")).strip()


_CITE = re.compile(r'<div class="qg-cite qg-cite-(\w+)"><span class="qg-label">.*?</span> (.*?)</div>', re.S)
_OPTION = re.compile(
    r'<li( class="qg-correct")?><span class="qg-o1"[^>]*>(.*?)</span>(?:<span class="qg-o2"[^>]*>(.*?)</span>)?</li>'
)


def choice_options(markup: str, l1: str, l2: str) -> list[tuple[object, bool]]:
    """(text, correct) per option of a quizgen choice card, in the order the card shows them."""
    out = []
    for correct, first, second in _OPTION.findall(markup):
        a, b = unescape(first), unescape(second or "")
        out.append(({l1: a, l2: b} if a and b and l1 and l2 else a or b, bool(correct)))
    return out


def original_options(fact_id: str, shown: list[tuple[object, bool]]):
    """(answer, wrong in their written order): undo the one stable option order the writer used.

    The order is a function of the fact id and the number of options only (present.option_order),
    so asking it to order placeholders 0..n-1 gives the permutation to invert."""
    n = len(shown)
    if n < 1 or sum(1 for _, c in shown if c) != 1:
        return None, []
    placeholder = [Text((("", str(i)),)) for i in range(n)]
    fake = Fact(
        id=fact_id, type="choice", deck="", path="", line=0, answer=placeholder[0], wrong=tuple(placeholder[1:])
    )
    order = [int(text.items[0][1]) for text, _ in option_order(fake)]
    original: list = [None] * n
    for position, index in enumerate(order):
        original[index] = shown[position]
    if not original[0][1]:  # the card's order is not the writer's: keep the card's order
        answer = next(t for t, c in shown if c)
        return answer, [t for t, c in shown if not c]
    return original[0][0], [t for t, _ in original[1:]]
