# Every outlet, headline and body below is invented for these tests.
import json

import pytest

from bench.data.articles import as_examples, import_articles, read_file
from bench.errors import DataError

PAGE = """Harbour City opens its first tidal power station

The station on the north pier will supply about 4,000 homes, the city council said on Monday.

Engineers spent three years testing turbines in the estuary before the council approved the project.

Related Articles
The Northern Ledger
15 hours ago
Tidal plant faces questions over fish migration
Anglers' groups asked the council to publish the environmental survey before the turbines start.
Council officials said the survey would be released next month.

Valley Courier Online
2 days ago
Why coastal towns are betting on the tide
Three other towns are studying similar projects, according to a regional energy agency.

Morning Post Digest
Yesterday
Turbine maker expands factory
The company behind the Harbour City turbines plans to hire 200 workers.
"""


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_aggregator_page_splits_into_lead_and_three_related_articles(tmp_path):
    path = _write(tmp_path, "page.txt", PAGE)
    arts = read_file(path)
    assert [a["outlet"] for a in arts] == [None, "The Northern Ledger", "Valley Courier Online", "Morning Post Digest"]
    assert [a["time"] for a in arts] == [None, "15 hours ago", "2 days ago", "Yesterday"]
    assert [a["headline"] for a in arts] == [
        "Harbour City opens its first tidal power station",
        "Tidal plant faces questions over fish migration",
        "Why coastal towns are betting on the tide",
        "Turbine maker expands factory",
    ]
    assert arts[0]["body"].startswith("The station on the north pier")
    assert arts[0]["body"].endswith("approved the project.")
    assert "Related Articles" not in arts[0]["body"]
    assert arts[1]["body"] == (
        "Anglers' groups asked the council to publish the environmental survey before the turbines start.\n"
        "Council officials said the survey would be released next month."
    )
    assert arts[3]["body"] == "The company behind the Harbour City turbines plans to hire 200 workers."
    assert [a["id"] for a in arts] == ["page.txt:1", "page.txt:2", "page.txt:3", "page.txt:4"]
    assert [a["line"] for a in arts] == [1, 8, 14, 19]
    assert all(a["source_file"] == str(path) for a in arts)


def test_page_with_outlet_and_time_on_one_line(tmp_path):
    page = (
        "Lead headline\nLead body.\nRelated Articles\nThe Daily Lantern · 3 hours ago\nSecond headline\nSecond body.\n"
    )
    arts = read_file(_write(tmp_path, "p.txt", page))
    assert [(a["outlet"], a["time"], a["headline"], a["body"]) for a in arts[1:]] == [
        ("The Daily Lantern", "3 hours ago", "Second headline", "Second body.")
    ]


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match=r"empty\.txt: file is empty"):
        read_file(_write(tmp_path, "empty.txt", "  \n\n"))


def test_page_with_headline_but_no_body(tmp_path):
    path = _write(tmp_path, "headline_only.txt", "\n\nCouncil approves new bridge\n\n")
    with pytest.raises(DataError, match=r"headline_only\.txt:3: has a headline \('Council approves new bridge'\)"):
        read_file(path)
    page = "Council approves new bridge\nRelated Articles\nThe Northern Ledger\n2 days ago\nA headline\nA body.\n"
    with pytest.raises(DataError, match=r"lead\.txt:1: page has a headline .* but no body"):
        read_file(_write(tmp_path, "lead.txt", page))


def test_related_entry_without_body_names_its_line(tmp_path):
    page = "Lead\nLead body.\nRelated Articles\nThe Northern Ledger\n2 days ago\nOnly a headline\n"
    with pytest.raises(DataError, match=r"p\.txt:6: related entry 'Only a headline' .* no body"):
        read_file(_write(tmp_path, "p.txt", page))


def test_text_after_marker_that_is_not_an_entry(tmp_path):
    page = "Lead\nLead body.\nRelated Articles\nSee more stories like this\nThe Northern Ledger\n"
    with pytest.raises(DataError, match=r"p\.txt:4: after 'Related Articles' expected an outlet line"):
        read_file(_write(tmp_path, "p.txt", page))


def test_invalid_utf8_names_offset_line_and_fix(tmp_path):
    data = b"Mayor visits the market\nThe mayor met stall holders in the caf\xe9 quarter.\n"
    with pytest.raises(
        DataError, match=r"bad\.txt:2: is not valid UTF-8: byte 0xe9 at offset 62.*re-save the file as UTF-8"
    ):
        read_file(_write(tmp_path, "bad.txt", data))


def test_plain_text_article(tmp_path):
    arts = read_file(
        _write(tmp_path, "a.txt", "\nFerry service resumes\n\nBoats run hourly again.\nTickets are unchanged.\n")
    )
    assert len(arts) == 1
    assert arts[0]["headline"] == "Ferry service resumes" and arts[0]["outlet"] is None
    assert arts[0]["body"] == "Boats run hourly again.\nTickets are unchanged."


def test_jsonl_articles_and_malformed_line(tmp_path):
    rows = [
        {"id": "a1", "title": "Library extends hours", "text": "Open until nine.", "outlet": "Town Crier"},
        {"headline": "Rail strike called off", "body": "Trains run as normal."},
    ]
    path = _write(tmp_path, "in.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    arts = read_file(path)
    assert [(a["id"], a["outlet"], a["headline"], a["body"]) for a in arts] == [
        ("in.jsonl:a1", "Town Crier", "Library extends hours", "Open until nine."),
        ("in.jsonl:2", None, "Rail strike called off", "Trains run as normal."),
    ]
    bad = _write(tmp_path, "bad.jsonl", json.dumps(rows[0]) + "\n{not json\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:2: malformed JSON"):
        read_file(bad)
    notext = _write(tmp_path, "notext.jsonl", json.dumps({"title": "Only a title"}) + "\n")
    with pytest.raises(DataError, match=r"notext\.jsonl:1: article has no text"):
        read_file(notext)


def test_csv_articles_and_missing_text_column(tmp_path):
    path = _write(
        tmp_path,
        "in.csv",
        'headline,body,outlet\nPark reopens,"Gates open at dawn.\nDogs welcome, on leads.",Valley Courier\n'
        "Bakery wins award,Judges praised the rye loaf.,\n",
    )
    arts = read_file(path)
    assert [(a["headline"], a["outlet"], a["line"]) for a in arts] == [
        ("Park reopens", "Valley Courier", 2),
        ("Bakery wins award", None, 4),
    ]
    assert arts[0]["body"] == "Gates open at dawn.\nDogs welcome, on leads."
    bad = _write(tmp_path, "bad.csv", "title,summary\nA,B\n")
    with pytest.raises(DataError, match=r"bad\.csv:1: no text column"):
        read_file(bad)


def test_folder_import_and_model_inputs(tmp_path):
    _write(tmp_path, "page.txt", PAGE)
    _write(tmp_path, "one.txt", "Ferry service resumes\nBoats run hourly again.\n")
    _write(tmp_path, "notes.pdf", "ignored")
    arts = import_articles(tmp_path)
    assert [a["id"] for a in arts] == ["one.txt:1", "page.txt:1", "page.txt:2", "page.txt:3", "page.txt:4"]
    ex = as_examples(arts[:1], targets=["russia", "ukraine"])
    assert [(e["id"], e["target"], e["group"]) for e in ex] == [
        ("one.txt:1:russia", "russia", "one.txt:1"),
        ("one.txt:1:ukraine", "ukraine", "one.txt:1"),
    ]
    assert ex[0]["text"] == "Ferry service resumes\n\nBoats run hourly again."
    assert as_examples(arts[:1])[0]["target"] is None


BYLINE_PAGE = """Ferry service resumes after storm
The island ferry sailed again on Monday after three days in port.
Try our AI features
Advertisement
Related Articles
Harbour Gazette
4 hours ago
- Harbour Gazette
Storm damage bill reaches two million
Repairs to the sea wall will take most of the spring.
The council will meet on Thursday.
Coastline Weekly
Yesterday
- Coastline Weekly
Islanders ask for a second boat
A petition gathered 900 names in a week.
Related articles
Comments
No comments yet. Be the first to comment.
Reader Ann
2 hours ago
Great news for the island
"""

DOT_PAGE = """Library reopens with longer hours
The central library reopened after renovation, open until nine.
Comments
3 comments
Related stories
Civic Post · 1 day ago
— Civic Post
Renovation came in under budget
The works cost less than planned, the city said.
Advertisement
Share this article
"""


def test_page_bylines_are_not_headlines_and_furniture_is_not_body(tmp_path):
    arts = read_file(_write(tmp_path, "byline.txt", BYLINE_PAGE))
    assert [a["headline"] for a in arts] == [
        "Ferry service resumes after storm",
        "Storm damage bill reaches two million",
        "Islanders ask for a second boat",
    ]
    assert [a["outlet"] for a in arts] == [None, "Harbour Gazette", "Coastline Weekly"]
    assert arts[0]["body"] == "The island ferry sailed again on Monday after three days in port."
    assert (
        arts[1]["body"] == "Repairs to the sea wall will take most of the spring.\nThe council will meet on Thursday."
    )
    assert arts[2]["body"] == "A petition gathered 900 names in a week."  # comment section and its entries dropped


def test_page_with_one_line_entries_dash_bylines_and_trailing_furniture(tmp_path):
    arts = read_file(_write(tmp_path, "dot.txt", DOT_PAGE))
    assert [(a["outlet"], a["headline"], a["body"]) for a in arts] == [
        (
            None,
            "Library reopens with longer hours",
            "The central library reopened after renovation, open until nine.",
        ),
        ("Civic Post", "Renovation came in under budget", "The works cost less than planned, the city said."),
    ]
