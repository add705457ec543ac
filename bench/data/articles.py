"""Read new, unlabelled news articles for prediction, from the files people actually have.

Formats (chosen by file suffix; a folder imports every such file in it, sorted by name):
- `.jsonl`: one article per line, fields `title` or `headline`, and `text` or `body` (required); optional `id`,
  `outlet` (or `source`);
- `.csv`: the same columns, read with the csv module (quoted multi-line bodies work);
- `.txt` (any other suffix): plain text, one article per file: the first non-empty line is the headline, the
  rest the body;
- a text file holding a saved news-aggregator page, as a reader copies it from a site: the lead article's headline
  and body, then a line `Related Articles`, then entries of an outlet line, a time line (`15 hours ago`,
  `2 days ago`, `Yesterday`; the two may share one line, `Outlet · 2 days ago`), a headline and a body. Detected by
  the `Related Articles` line; each entry becomes its own article.

Every article is a dict {id, outlet, headline, body, source_file, line, time}: `outlet` and `time` are None where
the file does not say, `line` is where the article starts in `source_file`. Ids are unique across one import
(`<file name>:<n>`, or the record's own `id`). `as_examples` turns articles into the model inputs of a task,
with the same headline + body join the task readers use. Every problem is a DataError naming file and line.
"""

import csv
import io
import re
from pathlib import Path

from bench.data.readers import jsonl_records
from bench.errors import DataError

SUFFIXES = {".jsonl", ".csv", ".txt", ".text", ".md"}
HEADLINE_KEYS = ("title", "headline")
BODY_KEYS = ("text", "body")
OUTLET_KEYS = ("outlet", "source")

RELATED = re.compile(r"^related (articles|stories|news)\s*:?$", re.IGNORECASE)
_UNIT = r"(second|sec|minute|min|hour|hr|day|week|month|year)s?"
TIME = re.compile(
    rf"^((\d+|an?|one)\s+{_UNIT}\s+ago|\d+\s*[smhdw]\s+ago|yesterday|today|just now)$",
    re.IGNORECASE,
)
# "Outlet · 2 days ago" on one line (not with a dash, which body text uses: "... he said — today")
OUTLET_AND_TIME = re.compile(r"^(?P<outlet>.{1,80}?)\s+[·•|]\s+(?P<time>.+)$")
MAX_OUTLET = 80  # an outlet line is short; a longer line before a time line is body text
# site furniture a copied page carries between and after articles: dropped where it stands alone on a line
FURNITURE = re.compile(
    r"^(advertisement|sponsored( content)?|try our ai features?|share( this article)?|read more|"
    r"(sign up|subscribe)( to our newsletter| now)?|related (articles|stories|news)\s*:?)$",
    re.IGNORECASE,
)
# the comment section ends an article: it and everything after it are not the article's text
COMMENTS = re.compile(r"^(comments?|\d+ comments?|no comments yet.*|be the first to comment.*|leave a comment)$", re.I)


def read_utf8(path: Path) -> str:
    """The file's text; a byte that is not UTF-8 is named by offset and line, with the fix."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            path,
            f"is not valid UTF-8: byte 0x{data[e.start]:02x} at offset {e.start}",
            line=line,
            fix="re-save the file as UTF-8 (it may be Windows-1252 or Latin-1 encoded)",
        ) from None


def _numbered(text: str) -> list[tuple[int, str]]:
    """Non-empty lines, stripped, with their 1-based line numbers."""
    return [(n, s.strip()) for n, s in enumerate(text.splitlines(), 1) if s.strip()]


def _article(path: Path, n: int, line: int, headline: str, body: str, outlet=None, time=None, aid=None) -> dict:
    return {
        "id": aid or f"{path.name}:{n}",
        "outlet": outlet or None,
        "headline": headline.strip(),
        "body": body.strip(),
        "source_file": str(path),
        "line": line,
        "time": time,
    }


def _nonempty(path: Path) -> str:
    text = read_utf8(path)
    if not text.strip():
        raise DataError(path, "file is empty", fix="remove it from the import or add the article text")
    return text


def _first(rec: dict, keys: tuple[str, ...]) -> str | None:
    for k in keys:
        v = rec.get(k)
        if v is not None and str(v).strip():
            return str(v)
    return None


def _from_record(path: Path, n: int, line: int, rec: dict) -> dict:
    body = _first(rec, BODY_KEYS)
    if body is None:
        raise DataError(path, "article has no text", line=line, fix=f"give it a non-empty {' or '.join(BODY_KEYS)}")
    rid = rec.get("id")
    return _article(
        path,
        n,
        line,
        _first(rec, HEADLINE_KEYS) or "",
        body,
        outlet=_first(rec, OUTLET_KEYS),
        aid=f"{path.name}:{rid}" if rid not in (None, "") else None,
    )


def read_jsonl(path: Path) -> list[dict]:
    _nonempty(path)
    return [_from_record(path, k, line, rec) for k, (line, rec) in enumerate(jsonl_records(path), 1)]


def read_csv(path: Path) -> list[dict]:
    rows = csv.DictReader(io.StringIO(_nonempty(path), newline=""))
    header = [h.strip().lower() for h in rows.fieldnames or []]
    if not set(BODY_KEYS) & set(header):
        raise DataError(
            path,
            f"no text column (header: {rows.fieldnames})",
            line=1,
            fix=f"name the article text column {' or '.join(BODY_KEYS)!r}",
        )
    rows.fieldnames = header
    out, start = [], 2
    for row in rows:
        if None in row:
            raise DataError(path, "row has more fields than the header", line=start, fix="quote fields with commas")
        out.append(_from_record(path, len(out) + 1, start, row))
        start = rows.line_num + 1
    return out


def read_plain(path: Path) -> list[dict]:
    lines = _numbered(_nonempty(path))
    (line, headline), rest = lines[0], lines[1:]
    if not rest:
        raise DataError(path, f"has a headline ({headline[:60]!r}) but no body", line=line, fix="add the text")
    return [_article(path, 1, line, headline, "\n".join(s for _, s in rest))]


def _content(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """An article's lines without site furniture, cut at its comment section."""
    out = []
    for n, text in lines:
        if COMMENTS.match(text):
            break
        if not FURNITURE.match(text):
            out.append((n, text))
    return out


def _byline(text: str, outlet: str) -> bool:
    """A line repeating the entry's outlet as a byline ("- Reuters", "— BBC News")."""
    m = re.match(r"^[-–—]\s*(.+)$", text)
    return bool(m) and m.group(1).strip().lower() == outlet.strip().lower()


def _outlet_time(lines: list[tuple[int, str]], i: int) -> tuple[str, str, int] | None:
    """(outlet, time, lines used) if an entry starts at lines[i]."""
    text = lines[i][1]
    if i + 1 < len(lines) and TIME.match(lines[i + 1][1]) and len(text) <= MAX_OUTLET and not TIME.match(text):
        return text, lines[i + 1][1], 2
    m = OUTLET_AND_TIME.match(text)
    if m and TIME.match(m["time"]):
        return m["outlet"], m["time"], 1
    return None


def read_page(path: Path) -> list[dict]:
    """A saved aggregator page: the lead article, then each related entry, as separate articles."""
    lines = _numbered(_nonempty(path))
    marker = next((k for k, (_, s) in enumerate(lines) if RELATED.match(s)), len(lines))
    if marker == 0:
        raise DataError(path, "page has no lead article before 'Related Articles'", line=lines[0][0])
    (line, headline), lead = lines[0], _content(lines[1:marker])
    if not lead:
        raise DataError(path, f"page has a headline ({headline[:60]!r}) but no body", line=line, fix="add the text")
    out = [_article(path, 1, line, headline, "\n".join(s for _, s in lead))]
    entries = lines[marker + 1 :]
    end = next((k for k, (_, text) in enumerate(entries) if COMMENTS.match(text)), len(entries))
    entries = [e for e in entries[:end] if not FURNITURE.match(e[1])]  # a comment section ends the related list
    starts = []
    i = 0
    while i < len(entries):
        hit = _outlet_time(entries, i)
        if hit:
            starts.append((i, *hit))
            i += hit[2]
        else:
            i += 1
    if entries and (not starts or starts[0][0] != 0):
        raise DataError(
            path,
            "after 'Related Articles' expected an outlet line and a time line ('15 hours ago'), "
            f"found {entries[0][1][:60]!r}",
            line=entries[0][0],
            fix="each related entry is: outlet, time, headline, body",
        )
    for k, (i, outlet, time, used) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(entries)
        block = entries[i + used : end]
        if block and _byline(block[0][1], outlet):  # "Outlet / time / - Outlet / Headline / lede"
            block = block[1:]
        block = block[:1] + _content(block[1:])
        if not block:
            raise DataError(path, f"related entry from {outlet!r} has no headline", line=entries[i][0])
        if len(block) < 2:
            raise DataError(
                path,
                f"related entry {block[0][1][:60]!r} ({outlet}) has a headline but no body",
                line=block[0][0],
                fix="add its text or delete the entry",
            )
        body = "\n".join(s for _, s in block[1:])
        out.append(_article(path, len(out) + 1, entries[i][0], block[0][1], body, outlet=outlet, time=time))
    return out


def is_page(text: str) -> bool:
    return any(RELATED.match(s.strip()) for s in text.splitlines())


def read_file(path: Path) -> list[dict]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".csv":
        return read_csv(path)
    return read_page(path) if is_page(read_utf8(path)) else read_plain(path)


def import_articles(*paths) -> list[dict]:
    """Every article in the given files and folders (a folder: its files with a known suffix, by name)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
        else:
            files.append(p)
    out, seen = [], {}
    for f in files:
        for a in read_file(f):
            if a["id"] in seen:
                raise DataError(f, f"article id {a['id']!r} also in {seen[a['id']]}", line=a["line"])
            seen[a["id"]] = f"{a['source_file']}:{a['line']}"
            out.append(a)
    return out


def article_text(article: dict) -> str:
    """Headline and body joined as the task readers join them (jsonl_wide: headline, blank line, text)."""
    return f"{article['headline']}\n\n{article['body']}" if article["headline"] else article["body"]


def as_examples(articles: list[dict], targets: list[str] | None = None) -> list[dict]:
    """Model inputs: one (target, text) pair per article and target, or one text per article (targets None)."""
    out = []
    for a in articles:
        meta = {k: a[k] for k in ("outlet", "headline", "source_file", "line", "time")}
        text = article_text(a)
        if not targets:
            out.append({"id": a["id"], "group": a["id"], "text": text, "target": None, "meta": meta})
            continue
        out += [{"id": f"{a['id']}:{t}", "group": a["id"], "text": text, "target": t, "meta": meta} for t in targets]
    return out
