"""Deterministic rules for the war-news-2022 sources: the file-format helpers (UTF-8 decoding with the line of a
bad byte, CSV rows with their line, zip members), BBC / Al Jazeera page cleaning, article dates, the headline unit,
the dedup key and the text hash. Pure functions on bytes and strings; no file access."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import datetime

from bench.errors import DataError

csv.field_size_limit(1 << 27)


def decode_utf8(raw: bytes, where: str) -> str:
    """Decode UTF-8 (dropping a BOM), raising DataError with the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(
            where,
            f"undecodable byte {raw[err.start : err.start + 1]!r}",
            line=line,
            fix="re-download the file from its pinned upstream URL (it must be UTF-8)",
        ) from None


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number where the row starts, fields) for each CSV row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def csv_members(data: bytes, name: str) -> Iterator[tuple[str, bytes]]:
    """Yield (member name, bytes) for each CSV member of a zip, skipping __MACOSX/ and non-CSV members."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DataError(name, "not a zip archive", fix="re-download it from its pinned upstream URL") from None
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            parts = info.filename.split("/")
            if info.is_dir() or "__MACOSX" in parts or parts[-1].startswith("._"):
                continue
            if info.filename.lower().endswith(".csv"):
                yield info.filename, archive.read(info)


def header_index(header: list[str], needed: tuple[str, ...], where: str) -> dict[str, int]:
    """Map each needed column to its index in the header, or raise DataError naming the missing one."""
    index = {col.strip(): i for i, col in enumerate(header)}
    missing = [col for col in needed if col not in index]
    if missing:
        raise DataError(
            where, f"missing column(s) {', '.join(missing)}", line=1, fix=f"the header must contain {', '.join(needed)}"
        )
    return {col: index[col] for col in needed}


_JS_PLAYER = "This video can not be playedTo play this video you need to enable JavaScript in your browser."
_PUBLISHED = r"Published(?:\d+ (?:seconds?|minutes?|hours?|days?) ago|\d{1,2} [A-Z][a-z]+(?: \d{4})?)"
_TOP_TOPICS = ("Russia-Ukraine war",)
_FOOTER_MARKERS = (
    "Related Topics",
    "More on this story",
    "From other local news sites",
    "Related Internet Links",
    "Top Stories",
    "BBC News Services",
)
BBC_NAVIGATION = (
    "BBC Homepage",
    "Skip to content",
    "About sharing",
    "Share page",
    "Related Topics",
    "More on this story",
    "Top Stories",
    "Most Read",
    "Elsewhere on the BBC",
    "BBC News Services",
    "Read about our approach to external linking",
    "Editor´s recommendations",
    "Read description",
)


def _bbc_video_body(text: str, title: str) -> str | None:
    """Return the description of a BBC video page (between '<headline>Close' and 'Published..Section'), or None."""
    anchor = _JS_PLAYER + title + "Close"
    start = text.find(anchor)
    if start >= 0:
        start += len(anchor)
    else:
        match = re.search(re.escape(_JS_PLAYER) + r".*?Close", text, re.S)
        if not match:
            return None
        start = match.end()
    end = re.compile(_PUBLISHED + r"Section").search(text, start)
    return text[start : end.start()] if end else None


def _bbc_article_start(text: str) -> int:
    """Return where a BBC article body starts: after the share panel, else after the first Published date."""
    share = text.find("Copy linkAbout sharing")
    if share >= 0:
        start = share + len("Copy linkAbout sharing")
    else:
        menu = text.find("Long Reads")
        match = re.compile(_PUBLISHED).search(text, max(menu, 0))
        start = match.end() if match else 0
    for topic in _TOP_TOPICS:
        if text.startswith("Related Topics" + topic, start):
            start += len("Related Topics" + topic)
            break
    return start


def clean_bbc_article(text: str) -> str:
    """Strip the BBC page navigation before and after the article body, keeping the body (captions included).

    Rule: (1) a video page (it has the share-panel item 'Read description') keeps only the description between
    '<JavaScript player notice><headline>Close' and 'Published<date>Section'; (2) any other page keeps the text after
    the share panel ('Copy linkAbout sharing', or failing that after the first 'Published<date>' following the
    'Long Reads' menu), minus a leading 'Related Topics<topic>' box, and up to the first footer block that follows:
    'Related Topics', 'More on this story', 'From other local news sites', 'Related Internet Links', 'Top Stories'
    or 'BBC News Services', also cutting a '<Section>: More coverage' link list right before it. The fixed video-player
    notice is removed anywhere. Text without the BBC header ('BBC Homepage') is returned stripped but unchanged.
    """
    if "BBC HomepageSkip to content" not in text:
        return text.strip()
    title = text.split(" - BBC News", 1)[0]
    body = _bbc_video_body(text, title) if "About sharingRead description" in text else None
    if body is None:
        start = _bbc_article_start(text)
        ends = [i for i in (text.find(marker, start) for marker in _FOOTER_MARKERS) if i >= 0]
        body = text[start : min(ends)] if ends else text[start:]
        body = re.sub(r"(?:[A-Z][A-Za-z ]{2,40}): More coverage.*$", "", body, flags=re.S)
    return body.replace(_JS_PLAYER, "").strip()


_ALJAZEERA_FOOTER = "AboutShow moreAbout Us"


def clean_aljazeera_article(text: str) -> str:
    """Cut Al Jazeera's site footer, which starts at 'AboutShow moreAbout Us' and ends with the copyright line."""
    cut = text.find(_ALJAZEERA_FOOTER)
    return (text[:cut] if cut >= 0 else text).strip()


def article_date(outlet: str, link: str, raw: str) -> str | None:
    """ISO date of a journalism-subjectivity article where the page states it, else None.

    Al Jazeera: the /YYYY/M/D/ part of the link. BBC: the first 'Published<D Month YYYY>' stamp of the raw page;
    stamps without a year (BBC omits the current year) or relative ones ('3 days ago') give None.
    """
    if outlet == "Al Jazeera":
        match = re.search(r"/(\d{4})/(\d{1,2})/(\d{1,2})/", link)
        fmt, value = "%Y %m %d", " ".join(match.groups()) if match else ""
    else:
        match = re.search(_PUBLISHED, raw)
        stamp = re.fullmatch(r"Published(\d{1,2} [A-Z][a-z]+ \d{4})", match.group(0)) if match else None
        fmt, value = "%d %B %Y", stamp.group(1) if stamp else ""
    try:
        return datetime.strptime(value, fmt).date().isoformat() if value else None
    except ValueError:
        return None


_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′´`"} | {c: '"' for c in "“”„‟″«»"})
_DASHES = re.compile(r"[‐‑‒–—―−﹣－]")


def _normalise_char(c: str) -> str:
    """The per-character part of normalise: quotes, dashes, '-' and '/' to space, separators to space, drop
    punctuation (applied in that order, as the rule was first written)."""
    c = c.translate(_QUOTES)
    c = " " if _DASHES.fullmatch(c) or c in "-/" else c
    category = unicodedata.category(c)
    return " " if category.startswith("Z") else "" if category.startswith("P") else c


class _CharTable(dict):
    """str.translate table filled on first use of each character."""

    def __missing__(self, code: int) -> str:
        self[code] = value = _normalise_char(chr(code))
        return value


_TABLE = _CharTable()


def normalise(text: str) -> str:
    """Normalise text for deduplication: NFKC, lowercase, unify quotes/dashes, drop punctuation, collapse spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().translate(_TABLE).split())


def headline_unit(title: str, desc: str) -> str:
    """Build the labelled unit: title, newline, desc when both exist; else whichever exists (stripped)."""
    parts = [part.strip() for part in (title or "", desc or "")]
    return "\n".join(part for part in parts if part)


def text_sha256(text: str) -> str:
    """Return the hex SHA-256 of the exact unit text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
