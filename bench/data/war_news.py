"""Raw readers for the war-news-2022 sources (RUWA zip, news-sentivis zips, journalism-subjectivity CSVs).

The texts are the outlets' copyright: these functions read local or fetched bytes and never write texts into the
repository; only ids, metadata, labels and SHA-256 hashes of texts may be committed. The text rules (page cleaning,
headline unit, dedup key, hash) and the file-format helpers (UTF-8 decoding, CSV rows, zip members) are in
bench.data.war_news_clean, the headline units with ids in war_news_units.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache

from bench.data.war_news_clean import (  # noqa: F401 (re-exported: the text rules live in war_news_clean)
    BBC_NAVIGATION,
    article_date,
    clean_aljazeera_article,
    clean_bbc_article,
    csv_members,
    csv_rows,
    decode_utf8,
    header_index,
    headline_unit,
    normalise,
    text_sha256,
)
from bench.errors import DataError

RUWA_COMMIT = "5eab65389306e7adf7d2aef95b803b9308c72e61"
SENTIVIS_COMMIT = "733a0bea025171b969b1150fe4a7ab57da03697e"
ARTICLES_COMMIT = "9206c44711b9ba541f667c6feb9dfbad068fcbe5"
_RUWA_RAW = f"https://raw.githubusercontent.com/ninakhairova/dataset_RUWA/{RUWA_COMMIT}"
_SENTIVIS_RAW = f"https://raw.githubusercontent.com/pontyl/news-sentivis/{SENTIVIS_COMMIT}/Dataset"
_ARTICLES_RAW = f"https://raw.githubusercontent.com/David-TC13/project4-journalism_subjectivity/{ARTICLES_COMMIT}/data"

SOURCES: dict[str, dict[str, str]] = {
    "ruwa": {"url": f"{_RUWA_RAW}/RUWA_01.08.23.csv.zip", "path": "war-news-2022/ruwa/RUWA_01.08.23.csv.zip"},
    **{
        f"sentivis_{slug}": {"url": f"{_SENTIVIS_RAW}/{slug}.zip", "path": f"war-news-2022/news-sentivis/{slug}.zip"}
        for slug in ("globaltimes", "cgtn", "xinhuanet", "bbc")
    },
    **{
        f"articles_{slug}": {
            "url": f"{_ARTICLES_RAW}/{slug}.csv",
            "path": f"war-news-2022/journalism-subjectivity/{slug}.csv",
        }
        for slug in ("aljazeera", "bbc")
    },
}

SIDES: dict[str, str] = {
    **dict.fromkeys(("Ukrinform", "Censor.net"), "ukrainian"),
    **dict.fromkeys(("RT", "TASS", "News-Front"), "russian_state"),
    **dict.fromkeys(("Global Times", "CGTN", "Xinhua"), "chinese_state"),
    **dict.fromkeys(("Reuters", "BBC", "Al Jazeera", "MSNBC"), "international"),
}

RUWA_SITES: dict[str, str] = {
    "ukrinform.net": "Ukrinform",
    "censor.net": "Censor.net",
    "reuters.com": "Reuters",
    "rt.com": "RT",
    "aljazeera.com": "Al Jazeera",
    "bbc.co.uk": "BBC",
    "www.msnbc.com": "MSNBC",
    "en.news-front.info": "News-Front",
    "tass.com": "TASS",
}

SENTIVIS_OUTLETS: dict[str, str] = {"globaltimes": "Global Times", "cgtn": "CGTN", "xinhuanet": "Xinhua", "bbc": "BBC"}
OUTLET_SLUGS = {
    "Global Times": "globaltimes",
    "CGTN": "cgtn",
    "Xinhua": "xinhua",
    "BBC": "bbc",
    "Al Jazeera": "aljazeera",
}
RUWA_COLUMNS = ("src", "desc", "title", "Date", "Site", "Event")
ARTICLE_COLUMNS = ("link", "article")
_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_SNAPSHOT = re.compile(
    r"(?P<outlet>[A-Za-z]+)-(?P<dow>[A-Za-z]{3})-(?P<mon>[A-Za-z]{3})-+(?P<day>\d{1,2})"
    r"-(?P<time>\d{2}_\d{2}_\d{2})-(?P<year>\d{4})-(?P<section>[A-Za-z]+)\.csv"
)


def _check_width(row: list[str], header: list[str], where: str, line: int) -> None:
    """A data row has as many fields as the header, or one DataError naming the file and line."""
    if len(row) != len(header):
        raise DataError(
            where,
            f"row has {len(row)} fields, the header has {len(header)}",
            line=line,
            fix="quote fields that contain commas, or re-download the pinned file",
        )


def parse_ruwa_date(value: str) -> str:
    """Convert RUWA's MM/DD/YYYY date to ISO YYYY-MM-DD (ValueError if malformed)."""
    return datetime.strptime(value.strip(), "%m/%d/%Y").date().isoformat()


def clean_ruwa_fields(outlet: str, title: str, desc: str) -> tuple[str, str]:
    """Strip scraped bylines (Censor.net date/section/brand, Ukrinform sign-off) and a desc's repeat of the title."""
    title, desc = title.strip(), desc.strip()
    if outlet == "Censor.net":
        title = re.sub(r"\s*\(\d\d\.\d\d\.\d\d \d\d:\d\d\)\s*«[^«]*\|\s*Censor\.NET\s*$", "", title)
        desc = re.sub(r"^\d\d\.\d\d\.\d\d \d\d:\d\d\s+-\s+", "", desc)
        desc = re.sub(r"\s*View (?:[a-z]+ )?(?:news|article)\.?\s*$", "", desc)
    elif outlet == "Ukrinform":
        desc = re.sub(r"\s*[—–-]+\s*Ukrinform\.?\s*$", "", desc)
    title, desc = title.strip(), desc.strip()
    if title and desc.startswith(title):
        desc = desc[len(title) :].lstrip(" .")
    return title, desc.strip()


def read_ruwa(data: bytes, name: str) -> Iterator[dict]:
    """Yield one record per RUWA CSV row: outlet, url, title, desc, date (ISO), event, row (1-based data row)."""
    for member, raw in csv_members(data, name):
        where = f"{name}:{member}"
        rows = csv_rows(decode_utf8(raw, where))
        first = next(rows, None)
        if first is None:
            continue
        header = first[1]
        cols = header_index(header, RUWA_COLUMNS, where)
        for row_number, (line, row) in enumerate(rows, 1):
            _check_width(row, header, where, line)
            site = row[cols["Site"]].strip()
            if site not in RUWA_SITES:
                raise DataError(
                    where,
                    f"unknown Site {site!r}",
                    line=line,
                    fix=f"add it to RUWA_SITES (known: {', '.join(RUWA_SITES)})",
                )
            try:
                iso = parse_ruwa_date(row[cols["Date"]])
            except ValueError:
                raise DataError(
                    where, f"bad Date {row[cols['Date']]!r}", line=line, fix="RUWA dates must be MM/DD/YYYY"
                ) from None
            yield {
                "outlet": RUWA_SITES[site],
                "url": row[cols["src"]].strip(),
                "title": row[cols["title"]].strip(),
                "desc": row[cols["desc"]].strip(),
                "date": iso,
                "event": row[cols["Event"]].strip(),
                "row": row_number,
                "line": line,
            }


def parse_snapshot_name(member: str) -> dict[str, str]:
    """Parse a news-sentivis member name into its snapshot time (ISO) and section, or return {} if it doesn't match."""
    match = _SNAPSHOT.search(member.rsplit("/", 1)[-1])
    if not match or match["mon"].lower() not in _MONTHS:
        return {}
    hh, mm, ss = match["time"].split("_")
    month = _MONTHS[match["mon"].lower()]
    stamp = f"{match['year']}-{month:02d}-{int(match['day']):02d}T{hh}:{mm}:{ss}"
    return {"snapshot": stamp, "section": match["section"].upper()}


@lru_cache(maxsize=1 << 16)  # a headline's time field recurs in every snapshot that carries it
def parse_sentivis_date(outlet: str, value: str) -> str | None:
    """Parse one outlet's publication-time field to ISO YYYY-MM-DD, or None if it is not in that outlet's format.

    Global Times: "Published: Mar 24, 2022 06:46 PM[ Updated: ...]" (the Published date is used);
    CGTN: "15:45, 23-Mar-2022"; Xinhua: "2022-03-31 22:34:16"; BBC: "2022-08-11T15:50:38.000Z".
    """
    value = value.strip()
    patterns = {
        "Global Times": (r"Published:\s*([A-Za-z]{3}) (\d{1,2}), (\d{4})", "mdy"),
        "CGTN": (r"^\d{1,2}:\d{2}, (\d{1,2})-([A-Za-z]{3})-(\d{4})$", "dmy"),
        "Xinhua": (r"^(\d{4})-(\d{2})-(\d{2}) \d{2}:\d{2}:\d{2}$", "ymd"),
        "BBC": (r"^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$", "ymd"),
    }
    if outlet not in patterns:
        raise ValueError(f"no date format known for outlet {outlet!r}")
    pattern, order = patterns[outlet]
    match = re.search(pattern, value)
    if not match:
        return None
    parts = dict(zip(order, match.groups(), strict=True))
    month = _MONTHS.get(parts["m"].lower()) if parts["m"].isalpha() else int(parts["m"])
    try:
        return date(int(parts["y"]), month or 0, int(parts["d"])).isoformat()
    except ValueError:
        return None


def _sentivis_fields(outlet: str, row: list[str], where: str, line: int) -> tuple[str, str]:
    """Split a news-sentivis row into (time field, headline), accepting the 3-field unquoted-comma date quirk."""
    if len(row) == 2:
        return row[0], row[1]
    if len(row) == 3 and outlet in ("Global Times", "CGTN"):
        joined = f"{row[0]},{row[1]}"
        if parse_sentivis_date(outlet, joined):
            return joined, row[2]
    raise DataError(
        where,
        f"row has {len(row)} fields, expected 2 (publication time, headline)",
        line=line,
        fix="quote the headline or the date if it contains a comma, or re-download the pinned zip",
    )


def read_sentivis(data: bytes, outlet: str, name: str) -> Iterator[dict]:
    """Yield one record per news-sentivis CSV row with a non-empty headline (outlet: name or zip slug)."""
    outlet = SENTIVIS_OUTLETS.get(outlet, outlet)
    for member, raw in csv_members(data, name):
        where = f"{name}:{member}"
        snap = parse_snapshot_name(member)
        if not snap:
            raise DataError(
                where,
                "member name is not <Outlet>-<Day>-<Mon>-<DD>-<hh_mm_ss>-<YYYY>-<SECTION>.csv",
                fix="rename the member or re-download the pinned zip",
            )
        for line, row in csv_rows(decode_utf8(raw, where)):
            if not row:
                continue
            published, headline = _sentivis_fields(outlet, row, where, line)
            headline = headline.strip()
            if not headline:
                continue
            iso = parse_sentivis_date(outlet, published)
            yield {
                "outlet": outlet,
                "headline": headline,
                "date": iso or snap["snapshot"][:10],
                "date_source": "published" if iso else "snapshot",
                "published": published.strip(),
                "section": snap["section"],
                "snapshot": snap["snapshot"],
                "member": member,
                "line": line,
            }


def read_articles(data: bytes, outlet: str, name: str) -> Iterator[dict]:
    """Yield link, cleaned text, date (where the page states it), outlet and 1-based data row for each row of a
    journalism-subjectivity CSV."""
    outlet = {"aljazeera": "Al Jazeera", "bbc": "BBC"}.get(outlet, outlet)
    rows = csv_rows(decode_utf8(data, name))
    first = next(rows, None)
    if first is None:
        return
    header = first[1]
    cols = header_index(header, ARTICLE_COLUMNS, name)
    for row_number, (line, row) in enumerate(rows, 1):
        _check_width(row, header, name, line)
        raw, link = row[cols["article"]], row[cols["link"]].strip()
        text = clean_bbc_article(raw) if outlet == "BBC" else clean_aljazeera_article(raw)
        yield {
            "outlet": outlet,
            "link": link,
            "text": text,
            "date": article_date(outlet, link, raw),
            "row": row_number,
            "line": line,
        }
