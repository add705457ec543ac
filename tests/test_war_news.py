"""war-news-2022 readers: every quirk on small hand-made files, plus one check against the real local copies."""

import csv
import hashlib
import io
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from bench.data.war_news import (
    BBC_NAVIGATION,
    SIDES,
    SOURCES,
    clean_aljazeera_article,
    clean_bbc_article,
    clean_ruwa_fields,
    headline_unit,
    normalise,
    parse_sentivis_date,
    parse_snapshot_name,
    read_articles,
    read_ruwa,
    read_sentivis,
    text_sha256,
)
from bench.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
BOM = "\ufeff"
RUWA_HEADER = ",Unnamed: 0,src,desc,title,ref,Date,Site,Event,KW\r\n"


def make_zip(members: dict[str, bytes]) -> bytes:
    """Build a zip archive in memory from {member name: bytes}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def ruwa_zip(rows: str, bom: bool = True) -> bytes:
    """A RUWA-shaped zip with one CSV member and a __MACOSX resource-fork entry."""
    text = (BOM if bom else "") + RUWA_HEADER + rows
    return make_zip({"RUWA_test.csv": text.encode("utf-8"), "__MACOSX/._RUWA_test.csv": b"\x00\x05\x16\x07junk\xff"})


RUWA_ROWS = (
    '0,7,https://example.org/rt/1,Invented lede only for an RT row,,"[{}]",04/06/2022,rt.com,bucha,[]\r\n'
    '1,8,https://example.org/c/2,"11.03.22 09:15 - Made-up headline here. Made-up lede follows. View news.",'
    '"Made-up headline here (11.03.22 09:15) « War in Ukraine | Censor.NET","[{}]",03/11/2022,censor.net,'
    "beginning,[]\r\n"
    '2,9,https://example.org/u/3,"An invented lede, with a comma. — Ukrinform.",Invented Ukrinform title,"[{}]",'
    "12/31/2021,ukrinform.net,nuclear,[]\r\n"
    '3,10,https://example.org/t/4,"A lede that spans\ntwo lines",Invented TASS title,"[{}]",09/30/2022,tass.com,'
    "sinking,[]\r\n"
)


def test_read_ruwa_bom_macosx_outlets_and_dates():
    recs = list(read_ruwa(ruwa_zip(RUWA_ROWS), "ruwa.zip"))
    assert [r["outlet"] for r in recs] == ["RT", "Censor.net", "Ukrinform", "TASS"]
    assert [r["row"] for r in recs] == [1, 2, 3, 4]
    assert [r["date"] for r in recs] == ["2022-04-06", "2022-03-11", "2021-12-31", "2022-09-30"]
    assert recs[0]["url"] == "https://example.org/rt/1" and recs[0]["event"] == "bucha"
    assert recs[3]["desc"] == "A lede that spans\ntwo lines"


def test_rt_rows_with_only_desc_become_the_desc():
    rec = next(read_ruwa(ruwa_zip(RUWA_ROWS, bom=False), "ruwa.zip"))
    assert rec["title"] == ""
    assert headline_unit(rec["title"], rec["desc"]) == "Invented lede only for an RT row"


def test_clean_ruwa_fields_strips_bylines_and_repeated_title():
    recs = list(read_ruwa(ruwa_zip(RUWA_ROWS), "ruwa.zip"))
    assert clean_ruwa_fields("Censor.net", recs[1]["title"], recs[1]["desc"]) == (
        "Made-up headline here",
        "Made-up lede follows.",
    )
    assert clean_ruwa_fields("Ukrinform", recs[2]["title"], recs[2]["desc"]) == (
        "Invented Ukrinform title",
        "An invented lede, with a comma.",
    )
    assert clean_ruwa_fields("Reuters", " A title ", "") == ("A title", "")


def test_ruwa_malformed_row_names_member_and_line():
    rows = RUWA_ROWS + "4,11,https://example.org/x,too,few,fields\r\n"
    with pytest.raises(DataError) as err:
        list(read_ruwa(ruwa_zip(rows), "ruwa.zip"))
    # the two-line quoted field in row 4 pushes the bad row to physical line 7
    assert "ruwa.zip:RUWA_test.csv:7" in str(err.value)
    assert err.value.line == 7 and "—" in str(err.value)


def test_ruwa_unknown_site_and_bad_date_raise():
    with pytest.raises(DataError, match="unknown Site"):
        list(read_ruwa(ruwa_zip("0,1,u,d,t,r,01/02/2022,example.com,beginning,[]\r\n"), "r.zip"))
    with pytest.raises(DataError, match="bad Date"):
        list(read_ruwa(ruwa_zip("0,1,u,d,t,r,2022-01-02,rt.com,beginning,[]\r\n"), "r.zip"))


def test_undecodable_bytes_give_file_and_line():
    data = make_zip({"RUWA_test.csv": RUWA_HEADER.encode() + b'0,1,u,"bad \xff byte",t,r,01/02/2022,rt.com,x,[]\r\n'})
    with pytest.raises(DataError, match="undecodable") as err:
        list(read_ruwa(data, "r.zip"))
    assert "r.zip:RUWA_test.csv:2" in str(err.value)


def sentivis_zip(outlet_dir: str, prefix: str, rows: str, section: str = "WORLD") -> bytes:
    """A news-sentivis-shaped zip: one snapshot CSV with a BOM, plus a non-CSV member and a __MACOSX entry."""
    member = f"{outlet_dir}/{prefix}-Fri-Apr--1-02_00_14-2022-{section}.csv"
    return make_zip(
        {
            member: (BOM + rows).encode("utf-8"),
            f"{outlet_dir}/notes.txt": b"not a csv",
            f"__MACOSX/{outlet_dir}/._{prefix}.csv": b"\x00\x05",
        }
    )


@pytest.mark.parametrize(
    ("slug", "prefix", "rows", "dates"),
    [
        (
            "globaltimes",
            "GlobalTimes",
            '"Published: Feb 03, 2022 07:15 PM",Invented headline one\r\n'
            '"Published: Jul 9, 2022 11:02 AM Updated: Jul 10, 2022 01:00 AM","Invented, quoted headline"\r\n',
            ["2022-02-03", "2022-07-09"],
        ),
        (
            "cgtn",
            "CGTN",
            '"08:05, 02-May-2022",Invented headline one\r\n"23:59, 9-Jun-2022",Two\r\n',
            ["2022-05-02", "2022-06-09"],
        ),
        (
            "xinhuanet",
            "Xinhuanet",
            "2022-05-02 08:05:09,Invented headline one\r\n2022-06-30 23:00:00,Two\r\n",
            ["2022-05-02", "2022-06-30"],
        ),
        (
            "bbc",
            "BBC",
            "2022-05-02T08:05:09.000Z,Invented headline one\r\n2022-06-30T23:00:00.000Z,Two\r\n",
            ["2022-05-02", "2022-06-30"],
        ),
    ],
)
def test_sentivis_date_formats_bom_and_skipped_members(slug, prefix, rows, dates):
    recs = list(read_sentivis(sentivis_zip(slug, prefix, rows), slug, f"{slug}.zip"))
    assert [r["date"] for r in recs] == dates
    assert recs[0]["headline"] == "Invented headline one"  # the BOM did not leak into the first field
    assert all(r["date_source"] == "published" for r in recs)
    assert recs[0]["section"] == "WORLD" and recs[0]["snapshot"] == "2022-04-01T02:00:14"
    assert recs[1]["line"] == 2 and recs[0]["member"].endswith("-WORLD.csv")


@pytest.mark.parametrize(
    ("slug", "prefix", "row", "date"),
    [
        ("globaltimes", "GlobalTimes", "Published: Aug 21, 2022 03:30 PM,Invented headline\r\n", "2022-08-21"),
        ("cgtn", "CGTN", "14:20, 21-Aug-2022,Invented headline\r\n", "2022-08-21"),
    ],
)
def test_sentivis_three_field_row_with_comma_in_date(slug, prefix, row, date):
    (rec,) = read_sentivis(sentivis_zip(slug, prefix, row), slug, f"{slug}.zip")
    assert rec["headline"] == "Invented headline" and rec["date"] == date


def test_sentivis_empty_headlines_skipped_and_unparsable_date_falls_back():
    rows = "2022-08-11T18:36:16.000Z,\r\n2022-08-11T18:36:16.000Z,   \r\nPT24S,Invented clip headline\r\n"
    (rec,) = read_sentivis(sentivis_zip("bbc", "BBC", rows, "UK"), "bbc", "bbc.zip")
    assert rec["headline"] == "Invented clip headline" and rec["line"] == 3
    assert rec["date"] == "2022-04-01" and rec["date_source"] == "snapshot" and rec["section"] == "UK"


@pytest.mark.parametrize(
    ("slug", "prefix", "rows", "line"),
    [
        ("xinhuanet", "Xinhuanet", "2022-05-02 08:05:09,One\r\n2022-05-02 08:05:09,Two,extra\r\n", 2),
        ("cgtn", "CGTN", '"08:05, 02-May-2022",One\r\nnot a date,Two,three\r\n', 2),
        ("globaltimes", "GlobalTimes", "only one field\r\n", 1),
    ],
)
def test_sentivis_malformed_row_names_member_and_line(slug, prefix, rows, line):
    with pytest.raises(DataError) as err:
        list(read_sentivis(sentivis_zip(slug, prefix, rows), slug, f"{slug}.zip"))
    assert f"{slug}.zip:{slug}/{prefix}-Fri-Apr--1-02_00_14-2022-WORLD.csv:{line}" in str(err.value)
    assert "expected 2" in str(err.value)


def test_parse_helpers():
    assert parse_snapshot_name("cgtn/CGTN-Sat-Jul-23-01_02_03-2022-CHINA.csv") == {
        "snapshot": "2022-07-23T01:02:03",
        "section": "CHINA",
    }
    assert parse_snapshot_name("cgtn/readme.csv") == {}
    assert parse_sentivis_date("Xinhua", "31/12/2022") is None
    with pytest.raises(ValueError):
        parse_sentivis_date("Reuters", "2022-01-01")


# Invented BBC page with navigation of the real page's shape (menus, share panel, topic box, footer blocks).
NAV_HEAD = (
    "Invented story title - BBC NewsBBC HomepageSkip to contentAccessibility HelpYour accountHomeNewsSport"
    "More menuSearch BBCClose menuBBC NewsMenuHomeWar in UkraineVideoWorldUKLong ReadsWorldEuropeInvented story title"
)
NAV_FOOT = (
    "Top StoriesInvented top storyPublished2 hours agoFeaturesInvented featureElsewhere on the BBCInvented item"
    "Most Read1Invented most read2Another oneBBC News ServicesOn your mobileHomeNewsTerms of UseAbout the BBC"
    "© 2023 BBC. The BBC is not responsible for the content of external sites. Read about our approach to external"
    " linking."
)
BODY = (
    "Image caption, An invented caption of a photoBy Invented ReporterBBC NewsThe first invented paragraph says "
    "something.The Related topic of this sentence is plain text. A second paragraph continues the story."
)


def test_clean_bbc_article_page():
    page = (
        NAV_HEAD
        + "Published3 days agoShareclose panelShare pageCopy linkAbout sharingRelated TopicsRussia-Ukraine war"
        + BODY
        + "War in Ukraine: More coverageInvented link oneInvented link two"
        + "Related TopicsRussia-Ukraine warInvented topicMore on this storyInvented other story4 days ago"
        + NAV_FOOT
    )
    assert clean_bbc_article(page) == BODY


def test_clean_bbc_article_without_share_panel_and_video_player():
    player = "This video can not be playedTo play this video you need to enable JavaScript in your browser."
    page = NAV_HEAD + "Published9 May 2022" + player + BODY + "Related TopicsInvented topic" + NAV_FOOT
    assert clean_bbc_article(page) == BODY


def test_clean_bbc_video_page():
    player = "This video can not be playedTo play this video you need to enable JavaScript in your browser."
    description = "An invented description of the clip. It has two sentences.Video journalist: Invented Name"
    page = (
        NAV_HEAD
        + player
        + "Invented story title"
        + "Close"
        + description
        + "Published4 May 2022SectionBBC NewsSubsectionEuropeShareclose panelShare pageCopy linkAbout sharing"
        + "Read descriptionEditor´s recommendationsInvented clip. Video, 00:01:00Invented clipPublished1 day ago"
        + "HomeNewsSportTerms of UseAbout the BBC© 2023 BBC. Read about our approach to external linking."
    )
    cleaned = clean_bbc_article(page)
    assert cleaned == description
    assert not any(nav in cleaned for nav in BBC_NAVIGATION)


def test_clean_bbc_article_leaves_other_text_alone():
    assert clean_bbc_article("  Plain text with Top Stories inside.  ") == "Plain text with Top Stories inside."


def test_clean_aljazeera_article():
    text = "Invented body text.Source: Invented AgencyAboutShow moreAbout UsCode of Ethics© 2023 Invented Network"
    assert clean_aljazeera_article(text) == "Invented body text.Source: Invented Agency"
    assert clean_aljazeera_article(" Body only. ") == "Body only."


def test_read_articles_cleans_and_reports_rows(tmp_path):
    page = NAV_HEAD + "Published3 days agoShareclose panelShare pageCopy linkAbout sharing" + BODY + NAV_FOOT
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["", "link", "article", "polarity"])
    writer.writerow(["0", "https://example.org/a", page, "0.1"])
    writer.writerow(["1", "https://example.org/b", "", "0.0"])
    path = tmp_path / "bbc.csv"
    path.write_bytes((BOM + buf.getvalue()).encode("utf-8"))
    recs = list(read_articles(path.read_bytes(), "bbc", str(path)))
    assert [(r["row"], r["link"], r["text"]) for r in recs] == [
        (1, "https://example.org/a", BODY),
        (2, "https://example.org/b", ""),
    ]
    path.write_bytes(b",link,article\r\n0,https://example.org/a\r\n")
    with pytest.raises(DataError, match=r"bbc\.csv:2"):
        list(read_articles(path.read_bytes(), "bbc", str(path)))


def test_normalise_merges_variants():
    variants = [
        "Kyiv’s “peace” plan — rejected!",
        'KYIV\'S "PEACE" PLAN - REJECTED',
        "  kyiv's  ‘peace’ plan – rejected. ",
        'Ｋｙｉｖ\'s "peace" plan—rejected',
    ]
    assert {normalise(v) for v in variants} == {"kyivs peace plan rejected"}
    assert normalise("U.S.-China talks") == normalise("U.S. China talks") == "us china talks"
    assert normalise("Kyiv peace plan rejected") != normalise("Kyiv peace plan accepted")


def test_headline_unit_and_hash():
    assert headline_unit(" Title ", " Lede ") == "Title\nLede"
    assert headline_unit("", " Lede ") == "Lede"
    assert headline_unit("Title", "") == "Title"
    assert headline_unit("", "") == ""
    assert text_sha256("Title\nLede") == hashlib.sha256(b"Title\nLede").hexdigest()


def test_sides_and_sources():
    assert Counter(SIDES.values()) == {"ukrainian": 2, "russian_state": 3, "chinese_state": 3, "international": 4}
    assert all(src["url"].startswith("https://raw.githubusercontent.com/") for src in SOURCES.values())
    assert SOURCES["ruwa"]["path"] == "war-news-2022/ruwa/RUWA_01.08.23.csv.zip"
    assert "5eab65389306e7adf7d2aef95b803b9308c72e61" in SOURCES["ruwa"]["url"]


DATA = Path(os.environ.get("BENCH_DATA_DIR", ROOT.parent / "shared" / "datasets"))


@pytest.mark.skipif(
    not (DATA / "war-news-2022").is_dir(),
    reason=f"local copy of public dataset 'war-news-2022' not found under {DATA} (set BENCH_DATA_DIR)",
)
def test_real_local_copies():
    path = DATA / SOURCES["ruwa"]["path"]
    recs = list(read_ruwa(path.read_bytes(), str(path)))
    assert len(recs) == 16545
    assert Counter(r["outlet"] for r in recs) == {
        "Ukrinform": 6749,
        "Censor.net": 5094,
        "Reuters": 1992,
        "RT": 932,
        "Al Jazeera": 600,
        "BBC": 550,
        "MSNBC": 500,
        "News-Front": 94,
        "TASS": 34,
    }
    assert sum(not r["title"] for r in recs) == 1152 and sum(bool(r["desc"]) for r in recs) == 13789
    assert all(not r["title"] for r in recs if r["outlet"] == "RT")
    for slug in ("globaltimes", "cgtn", "xinhuanet", "bbc"):
        path = DATA / SOURCES[f"sentivis_{slug}"]["path"]
        assert sum(1 for _ in read_sentivis(path.read_bytes(), slug, str(path))) > 1000
    path = DATA / SOURCES["articles_bbc"]["path"]
    bbc = list(read_articles(path.read_bytes(), "bbc", str(path)))
    assert len(bbc) == 201 and all(len(a["text"]) > 100 for a in bbc)
    leftovers = [(a["row"], nav) for a in bbc for nav in BBC_NAVIGATION if nav in a["text"]]
    assert leftovers == []
    path = DATA / SOURCES["articles_aljazeera"]["path"]
    aj = list(read_articles(path.read_bytes(), "aljazeera", str(path)))
    assert len(aj) == 204 and not any("Al Jazeera Media Network" in a["text"] for a in aj)
