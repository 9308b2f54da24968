"""Text helpers shared by the knowledge base: normalisation for search, rich text, pinyin.

`normalize` is the one definition of "the same characters" for search: full-width ASCII becomes half-width
and letters are lower-cased, character for character (the result has the same length as the input, so an
offset found in the normalised text is an offset in the original). Search is exact substring matching on
normalised text; punctuation and spaces separate keywords and are never part of one.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import nh3
from pypinyin import Style, lazy_pinyin

_TABLE: dict[int, int | str] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_TABLE[0x3000] = " "  # ideographic space
_TABLE[0x0130] = "i"  # the one letter whose lower-case form is two characters long

# A keyword character is a Unicode word character other than "_"; everything else separates keywords.
SEPARATOR = re.compile(r"[\W_]")
SEPARATORS = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Full-width → half-width, lower case; same length as `text`."""
    return text.translate(_TABLE).lower()


# --------------------------------------------------------------------------- rich text

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "div",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "a",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "*": {"style"},
}
# Item bodies are shown inside the staff pages and the public portal, whose stylesheet (Bootstrap) would
# otherwise let an item borrow classes such as `modal`, `position-fixed` or `w-100 h-100` and cover the page
# with a fake dialog (issue 10). Only these typographic classes survive, and only typographic inline styles:
# nothing that positions, sizes, layers or hides an element.
ALLOWED_CLASSES = frozenset(
    {
        "text-start",
        "text-center",
        "text-end",
        "text-muted",
        "text-danger",
        "text-success",
        "text-primary",
        "fw-bold",
        "fw-semibold",
        "fst-italic",
        "text-decoration-underline",
        "small",
        "lead",
        "mark",
        "table",
        "table-bordered",
        "table-striped",
        "table-sm",
    }
)
ALLOWED_STYLE_PROPERTIES = frozenset(
    {
        "color",
        "background-color",
        "font-weight",
        "font-style",
        "text-align",
        "text-decoration",
        "vertical-align",
    }
)
BLOCK_TAGS = {
    "p",
    "br",
    "hr",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "title",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "dt",
    "dd",
    "dl",
    "figure",
    "figcaption",
    "address",
    "main",
    "form",
    "body",
    "html",
}
SKIPPED_TAGS = {"script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object"}


def sanitize_html(value: str) -> str:
    """Rich text as stored and shown: formatting tags, allowed classes and typographic styles only, no scripts,
    no event handlers, safe link schemes."""
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={tag: set(ALLOWED_CLASSES) for tag in ALLOWED_TAGS},
        filter_style_properties=set(ALLOWED_STYLE_PROPERTIES),
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self._skip += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_BLANK_LINES = re.compile(r"[ \t\r\f\v]*\n[\s]*")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment or page; block elements become line breaks so words never run together."""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts))
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


# --------------------------------------------------------------------------- pinyin

_NON_LETTERS = re.compile(r"[^a-z0-9]+")


def _keep(chars: str) -> Any:
    """pypinyin: characters without pinyin (Latin letters, digits) are kept as they are."""
    return [chars]


def pinyin_syllables(name: str) -> list[str]:
    """One lower-case syllable (or run of Latin letters/digits) per character of `name`."""
    out: list[str] = []
    for part in lazy_pinyin(name, errors=_keep):
        cleaned = _NON_LETTERS.sub(" ", part.lower()).split()
        out.extend(cleaned)
    return out


def pinyin_full(name: str) -> str:
    return "".join(pinyin_syllables(name))


def pinyin_initials(name: str) -> str:
    return "".join(
        "".join(lazy_pinyin(ch, style=Style.FIRST_LETTER, errors=_keep)).lower()[:1]
        for ch in name
        if ch.strip() and not SEPARATOR.fullmatch(ch)
    )


def pinyin_matches(query: str, syllables: list[str]) -> bool:
    """Fuzzy pinyin match: the letters of `query` spell, from some syllable on, a prefix of each of a run of
    consecutive syllables (`shebao`, `sb`, `shb`, `sbao` and `baoxian` all match 社保/社保险 …)."""
    q = _NON_LETTERS.sub("", query.lower())
    if not q or not syllables:
        return False
    n = len(syllables)

    def from_syllable(start: int) -> bool:
        # reachable[k] = set of syllable indexes i such that q[:k] is spelt by syllables start..i-1 (prefixes)
        frontier = {(start, 0)}
        seen: set[tuple[int, int]] = set()
        while frontier:
            i, k = frontier.pop()
            if k == len(q):
                return True
            if i >= n or (i, k) in seen:
                continue
            seen.add((i, k))
            syl = syllables[i]
            length = 1
            while length <= len(syl) and k + length <= len(q) and q[k : k + length] == syl[:length]:
                frontier.add((i + 1, k + length))
                length += 1
        return False

    return any(from_syllable(s) for s in range(n) if syllables[s][:1] == q[:1])


_WORD_SEPARATORS = re.compile(r"[,，、;；\s]+")


def split_words(value: str) -> list[str]:
    """A synonym group's words, normalised, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD_SEPARATORS.split(normalize(value or "")):
        if word:
            seen.setdefault(word, None)
    return list(seen)
