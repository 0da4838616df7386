"""Anki field HTML -> plain fact text, keeping line breaks; images and sounds are pulled out, not shown.

Anki fields are HTML written by its editor (`<div>`, `<br>`, `<b>`, `&nbsp;`).
quizgen's text is data, never markup, so formatting is dropped and only the
structure a reader needs survives: a `<br>` or the end of a block (div, p, li,
tr, heading) becomes a line break.  `<script>`/`<style>` content is dropped
whole.  The parser is the standard library's, which never fetches or runs anything.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"div", "p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table", "hr"}
SKIP = {"script", "style", "head", "title"}
SOUND = re.compile(r"\[sound:([^\]]*)\]")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.images: list[str] = []
        self.media: list[str] = []  # <audio>/<video> sources
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIP:
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        elif tag in ("audio", "video", "source") and attrs.get("src"):
            self.media.append(attrs["src"])
        elif tag in BLOCKS:
            self.break_line()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in BLOCKS:
            self.break_line()

    def at_line_start(self) -> bool:
        return not self.parts or self.parts[-1].endswith("\n")

    def break_line(self) -> None:
        """A block starts or ends a line only when the line has something on it (as a browser lays it out)."""
        if not self.at_line_start():
            self.parts.append("\n")

    def handle_data(self, data):
        if self.skip:
            return
        data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if data.strip() or not self.at_line_start():
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str], list[str]]:
    """(text, image sources, sound/video names) of one field."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    sounds = SOUND.findall(text) + parser.media
    text = SOUND.sub("", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.images, sounds
