"""Assemble data/geostance/labels.jsonl from the annotation passes, assign splits, and compute the card's figures.

    BENCH_DATA_DIR=../shared/datasets python scripts/geostance_build.py

Final labels: the first pass; where a second, independent pass disagrees on any label, the adjudicated labels
(data/geostance/annotations/adjudication.jsonl, a third reading that sees both passes) replace it.
Splits are source-disjoint: whole outlets go to dev or test (see assign_splits), never both, never train.
"""

import argparse
import hashlib
import json
import random
import re
from collections import Counter, defaultdict

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import cohen_kappa_score

from bench.data.geostance_annotations import ANN, DATA_DIR, TARGETS, load_articles
from bench.data.sources import REPO_ROOT

OUT = REPO_ROOT / "data" / "geostance"
FIELDS = (*TARGETS, "tone")
QUOTA, SLACK = 110, 20  # dev and test articles per outlet leaning
MAX_BRAND_IN_EVAL = 100  # larger outlet brands stay in train so that dev and test mix several brands


def read_passes():
    passes = defaultdict(dict)
    for path in sorted(ANN.glob("pass*_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                passes[r["id"]][r["pass"]] = r
    adjudicated = {}
    path = ANN / "adjudication.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                adjudicated[r["id"]] = r
    return passes, adjudicated


def brand(outlet: str) -> str:
    """One name per outlet brand, so that e.g. "Fox News", "Fox Online News" and "Fox News Opinion" stay together."""
    previous = None
    while previous != outlet:
        previous = outlet
        outlet = re.sub(
            r"( - (News|Opinion|Editorial)| \((Online|Web News|News)\)| (Opinion|Online News|Online|News))$", "", outlet
        )
    return outlet.strip()


def _deal(rows, seed, quota):
    rng = random.Random(seed)
    grouped = defaultdict(list)
    for r in rows:
        grouped[brand(r["outlet"])].append(r)
    # a brand rated differently over time belongs to the leaning of most of its articles
    by_brand = {(Counter(r["outlet_bias"] for r in g).most_common(1)[0][0], b): g for b, g in grouped.items()}
    filled = {}
    for leaning in ("left", "center", "right"):
        brands = sorted(k for k in by_brand if k[0] == leaning)
        rng.shuffle(brands)
        filled[leaning] = {"dev": 0, "test": 0}
        for key in brands:
            n = len(by_brand[key])
            split = "train"
            for s in ("dev", "test"):
                if n <= MAX_BRAND_IN_EVAL and filled[leaning][s] + n <= quota + SLACK:
                    split = s
                    filled[leaning][s] += n
                    break
            for r in by_brand[key]:
                r["split"] = split
    return filled


def assign_splits(rows):
    """Source-disjoint splits. Outlet brands of one leaning are shuffled and dealt whole to dev, then test, while
    each stays within QUOTA + SLACK articles of that leaning; the rest, and the 2014 set (its outlets are not
    recorded), are train. Seeds are tried from 0 and the first one whose dev and test both hold QUOTA - SLACK to
    QUOTA + SLACK articles of every leaning is kept (the seed is reported in stats.json)."""
    for r in rows:
        r["split"] = "train"
    known = [r for r in rows if r["outlet_bias"] != "unknown"]
    for seed in range(1000):
        filled = _deal(known, seed, QUOTA)
        if all(f[s] >= QUOTA - SLACK for f in filled.values() for s in ("dev", "test")):
            return seed
    raise SystemExit("no seed gives balanced source-disjoint splits; relax QUOTA or SLACK")


def kappas(passes):
    both = [p for p in passes.values() if 1 in p and 2 in p]
    out = {"n_double": len(both)}
    for f in FIELDS:
        a = [p[1][f] for p in both]
        b = [p[2][f] for p in both]
        out[f] = {
            "kappa": round(float(cohen_kappa_score(a, b)), 3),
            "agreement": round(float(np.mean(np.array(a) == np.array(b))), 3),
        }
    out["articles_fully_agreeing"] = sum(all(p[1][f] == p[2][f] for f in FIELDS) for p in both)
    return out


def crowd_check(rows):
    """Relate our uc_ labels to the crowd's framing: per article, the sum over sentences of the mean crowd judgement
    (-2 very negative .. +2 very positive framing of that government)."""
    res = {}
    for target in ("russia", "ukraine", "west"):
        scores, ours, lean = [], [], []
        for r in rows:
            if not r["id"].startswith("uc_"):
                continue
            path = DATA_DIR / "ukraine-crisis-2014" / "original_json" / f"{r['id'].removeprefix('uc_')}.json"
            article = json.loads(path.read_text(encoding="utf-8"))
            sents = article["sentences"]
            bias = article["bias"]
            lean.append(bias["pro-russia"]["avg"] - bias["pro-west"]["avg"])
            scores.append(sum(x["framing"]["score"][target]["avg"] for x in sents))
            ours.append(r[target])
        by_label = {
            lab: round(float(np.mean([s for s, o in zip(scores, ours, strict=True) if o == lab])), 3)
            for lab in ("favor", "neutral", "against", "none")
            if lab in ours
        }
        counts = Counter(ours)
        ordinal = {"against": -1, "neutral": 0, "none": 0, "favor": 1}
        rho = spearmanr([ordinal[o] for o in ours], scores)
        # the crowd's pro-Russia minus pro-West sentence share: favouring Russia should go with a positive lean
        sign = 1 if target == "russia" else -1
        rho_lean = spearmanr([ordinal[o] for o in ours], [sign * x for x in lean])
        res[target] = {
            "mean_crowd_framing_by_label": by_label,
            "counts": dict(counts),
            "articles_with_any_crowd_framing": sum(x != 0 for x in scores),
            "spearman_rho": round(float(rho.statistic), 3),
            "p_value": float(f"{rho.pvalue:.2g}"),
            "spearman_rho_vs_crowd_lean": round(float(rho_lean.statistic), 3),
            "p_value_lean": float(f"{rho_lean.pvalue:.2g}"),
        }
    return res


def main():
    articles = load_articles()
    passes, adjudicated = read_passes()
    rows = []
    n_adjudicated = n_disagree = 0
    for aid in sorted(passes):
        p = passes[aid]
        if 1 not in p:
            continue
        first = p[1]
        final = {f: first[f] for f in FIELDS}
        rationale = first["rationale"]
        disagree = 2 in p and any(p[1][f] != p[2][f] for f in FIELDS)
        n_disagree += disagree
        if disagree and aid in adjudicated:
            final = {f: adjudicated[aid][f] for f in FIELDS}
            rationale = adjudicated[aid]["rationale"]
            n_adjudicated += 1
        a = articles[aid]
        rows.append(
            {
                "id": aid,
                "source_dataset": "allsides" if aid.startswith("as_") else "ukraine-crisis-2014",
                "outlet": a["source"],
                "outlet_bias": a["outlet_bias"],
                "date": a["date"],
                "text_sha256": hashlib.sha256(a["text"].encode("utf-8")).hexdigest(),
                **final,
                "rationale": rationale,
                # labels of every reading (rationales stay in annotations/, which holds each pass as recorded)
                "passes": [
                    {k: r[k] for k in ("pass", "annotator", *FIELDS)}
                    for r in [p[n] for n in sorted(p)] + ([adjudicated[aid]] if disagree and aid in adjudicated else [])
                ],
                "adjudicated": bool(disagree and aid in adjudicated),
            }
        )
    split_seed = assign_splits(rows)
    with open(OUT / "labels.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    stats = {
        "articles": len(rows),
        "split": dict(Counter(r["split"] for r in rows)),
        "split_by_leaning": {
            s: dict(Counter(r["outlet_bias"] for r in rows if r["split"] == s)) for s in ("train", "dev", "test")
        },
        "labels": {f: dict(Counter(r[f] for r in rows)) for f in FIELDS},
        "labels_by_split": {
            s: {f: dict(Counter(r[f] for r in rows if r["split"] == s)) for f in FIELDS}
            for s in ("train", "dev", "test")
        },
        "split_seed": split_seed,
        "dev_test_brands": {s: sorted({brand(r["outlet"]) for r in rows if r["split"] == s}) for s in ("dev", "test")},
        "outlets": {s: len({r["outlet"] for r in rows if r["split"] == s}) for s in ("train", "dev", "test")},
        "agreement": kappas(passes),
        "double_annotated_disagreeing": n_disagree,
        "adjudicated": n_adjudicated,
        "crowd_framing_check": crowd_check(rows),
        "candidates_examined": len(rows),
    }
    (OUT / "stats.json").write_text(json.dumps(stats, indent=1) + "\n")
    print(json.dumps(stats, indent=1))


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
