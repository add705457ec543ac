"""GeoStance annotation files and candidate articles, shared by scripts/geostance_select.py (choosing articles),
scripts/geostance_annotate.py (showing and recording labels) and scripts/geostance_build.py (assembling labels.jsonl).
"""

import glob
import json
import os
from pathlib import Path

from bench.data.sources import REPO_ROOT

ANN = REPO_ROOT / "data" / "geostance" / "annotations"
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", REPO_ROOT.parent / "shared" / "datasets"))
STANCES = {"favor", "against", "neutral", "none"}
TONES = {"positive", "negative", "neutral"}
TARGETS = ("russia", "ukraine", "china", "west")


def load_articles() -> dict[str, dict]:
    """Every candidate article keyed by GeoStance id, from the local copies."""
    arts = {}
    with open(DATA_DIR / "allsides-geo" / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            arts["as_" + r["id"]] = {
                "id": "as_" + r["id"],
                "title": r["title"],
                "text": r["text"],
                "source": r["source"],
                "outlet_bias": r["outlet_bias"],
                "date": r["date"],
                "topic": r["topic"],
                "mentions": r["mentions"],
                "url": r["url"],
            }
    for path in sorted(glob.glob(str(DATA_DIR / "ukraine-crisis-2014" / "original_json" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        sents = sorted(d["sentences"], key=lambda s: s["position_in_article"])
        aid = "uc_" + d["id"]
        arts[aid] = {
            "id": aid,
            "title": sents[0]["content"],
            "text": "\n".join(s["content"] for s in sents),
            "source": "unknown (ukraine-crisis-2014)",
            "outlet_bias": "unknown",
            "date": "2014",
            "topic": "ukraine_crisis",
            "mentions": {},
            "url": "",
        }
    return arts
