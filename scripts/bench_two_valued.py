"""Two-valued features (one-hot categories, flags): a Bernoulli surprise and a trim within their values.

A masked detector scores every feature by how surprising its value is under the
network's predicted mixture, and is fitted twice: the refit leaves out the 30% of rows
the first fit scores highest (the trim). Two rules for tables with categories and flags,
measured here one after the other:

- ``bernoulli`` (``aekit.design.TWO_VALUED``): a feature that takes two values alone in
  the training rows is scored by the surprise of the value's side of their midpoint
  (:func:`aekit.nn.masking.two_values`), not by the density at the value, which is
  unbounded where most rows share one value;
- ``aekit``, the defaults: that, and the trim leaves out at most its share of the rows
  holding each value of each such feature (``aekit.design.TRIM_BY_VALUE``;
  :func:`aekit.nn.fitting.rows_left_out`), so that the refit still learns the rare
  categories;
- ``density``: neither (aekit's default before 2026-12-06, 16th session).

Each is ``AnomalyDetector(random_state=S)`` with those design defaults, fitted on labelled
tables with categories and flags; IsolationForest, KNN, ECOD, COPOD and PCA run beside
them in the same run (one-hot features, numeric gaps filled with the training median;
KNN, COPOD and PCA on standardised features, as ``scripts/bench_tables.py`` runs them).
Printed: AUROC and average precision (AP), in %.

The tables come in two halves, fixed before this script's first run:

- ``choose`` (the rule was chosen on these): four tables a helper session made as a new
  user would (``transactions``: 12,000 card payments, six categories two of them rare,
  240 frauds of three kinds; ``web_sessions``: 15,000 sessions, 40 countries on a long
  tail, 180 bots; ``insurance_claims``: 2,500 claims whose anomalies pair a policy with
  a claim type never seen with it; ``payroll``: 450 rows, single extreme values), each
  split 70/30 (stratified, seeded by the model seed, as ``aekit evaluate tables``
  splits a user's file), and the in-sample tables of ``scripts/bench_mask_spreads.py``
  (``sensors``, ``region``, ``mixed-100`` ... ``mixed-105``);
- ``confirm``: ``mixed-200`` ... ``mixed-207``, drawn by the same generator as the mixed
  tables, in sample.

    python scripts/bench_two_valued.py                 # model seeds 0 and 1
    python scripts/bench_two_valued.py --seeds 2 --json tv_s2.json
    python scripts/bench_two_valued.py --rules aekit   # the defaults alone, beside the peers
    python scripts/bench_two_valued.py --speed    # what the rules cost: fit and scoring
        # seconds on 5,000 rows with a text column of 500 categories (machine-dependent)

Labels are used to measure only. One torch thread.
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mask_spreads import mixed_table, region_table, sensors_table  # noqa: E402

PEERS = ("iforest", "knn", "ecod", "copod", "pca")


def helper_tables():
    """The new user's four tables with categories and flags: {name: (X DataFrame, y)}
    (data seed 2024, drawn in this order, as the helper session drew them)."""
    rng = np.random.default_rng(2024)
    out = {}
    n = 12000
    cats = ["grocery", "fuel", "restaurant", "online_retail", "travel", "jewelry"]
    cat = rng.choice(cats, n, p=[0.35, 0.2, 0.2, 0.18, 0.05, 0.02])
    med = {"grocery": 40, "fuel": 55, "restaurant": 30, "online_retail": 70, "travel": 600,
           "jewelry": 900}
    amount = np.array([med[c] for c in cat]) * rng.lognormal(0, 0.6, n)
    hour = np.clip(np.round(rng.normal(14, 4, n)), 0, 23).astype(int)
    online = np.where(cat == "online_retail", True, rng.random(n) < 0.05)
    country = rng.choice(["DE", "FR", "NL", "US", "other"], n, p=[0.7, 0.1, 0.1, 0.07, 0.03])
    n_tx_24h = rng.poisson(2.5, n)
    cust_age = rng.normal(45, 14, n).round()
    cust_age[rng.random(n) < 0.08] = np.nan
    noise1 = rng.normal(0, 1, n)
    terminal = rng.choice([f"T{i}" for i in range(20)], n)
    y = np.zeros(n, int)
    a = rng.choice(n, 240, replace=False)
    a1, a2, a3 = a[:60], a[60:160], a[160:]
    amount[a1] *= rng.uniform(15, 60, len(a1))
    cat[a2] = rng.choice(["grocery", "restaurant"], len(a2))
    amount[a2] = rng.uniform(400, 1200, len(a2))
    online[a2] = False
    hour[a3] = rng.integers(1, 5, len(a3))
    n_tx_24h[a3] = rng.integers(8, 14, len(a3))
    country[a3] = "other"
    cat[a3] = "online_retail"
    online[a3] = True
    amount[a3] = rng.uniform(1, 5, len(a3))
    y[a] = 1
    out["transactions"] = (pd.DataFrame(dict(
        amount=amount.round(2), category=cat, hour=hour, online=online, country=country,
        n_tx_24h=n_tx_24h, cust_age=cust_age, noise1=noise1.round(3), terminal=terminal)), y)

    n = 320  # the helper's sensor table (no categories): drawn to keep the stream
    load = rng.uniform(20, 100, n)
    rng.normal(0, 1.5, n), rng.normal(0, 5, n), rng.normal(0, 2, n), rng.normal(0, 0.05, n)
    rng.gamma(2, 0.5, n)
    a = rng.choice(n, 12, replace=False)
    rng.uniform(20, 100, len(a)), rng.normal(0, 1.5, len(a)), rng.uniform(20, 100, 6)
    rng.random(n)
    del load

    n = 15000
    device = rng.choice(["mobile", "desktop", "tablet"], n, p=[0.6, 0.35, 0.05])
    browser = rng.choice(["chrome", "safari", "firefox", "edge", "other"], n,
                         p=[0.55, 0.25, 0.1, 0.08, 0.02])
    w = 1 / np.arange(1, 41) ** 1.3
    country = rng.choice([f"C{i:02d}" for i in range(40)], n, p=w / w.sum())
    logged_in = rng.random(n) < 0.4
    pages = rng.negative_binomial(2, 0.3, n) + 1
    duration = pages * rng.lognormal(3, 1, n)
    clicks = rng.binomial(pages * 3, 0.5)
    errors = rng.poisson(0.1, n)
    purchases = np.where(logged_in, rng.poisson(0.3, n), 0)
    y = np.zeros(n, int)
    a = rng.choice(n, 180, replace=False)
    pages[a] = rng.integers(25, 31, len(a))
    duration[a] = pages[a] * rng.uniform(0.9, 1.1, len(a))
    clicks[a], errors[a], purchases[a], logged_in[a] = pages[a] * 2, 0, 0, False
    device[a], browser[a], country[a] = "desktop", "other", "C07"
    y[a] = 1
    out["web_sessions"] = (pd.DataFrame(dict(
        device=device, browser=browser, country=country, logged_in=logged_in, pages=pages,
        duration_s=duration.round(1), clicks=clicks, errors=errors, purchases=purchases)), y)

    n = 2500
    policy = rng.choice(["auto", "home", "travel"], n, p=[0.5, 0.35, 0.15])
    by_policy = {"auto": ["collision", "theft", "glass"], "home": ["water", "fire", "theft"],
                 "travel": ["medical", "luggage", "cancellation"]}
    claim = np.array([rng.choice(by_policy[p]) for p in policy], dtype=object)
    region = rng.choice(["north", "south", "east", "west"], n)
    channel = rng.choice(["agent", "web", "phone"], n, p=[0.3, 0.5, 0.2])
    police = np.where(np.isin(claim, ["theft", "collision"]), rng.random(n) < 0.9,
                      rng.random(n) < 0.05)
    base = {"collision": 3000, "theft": 5000, "glass": 400, "water": 4000, "fire": 15000,
            "medical": 2000, "luggage": 600, "cancellation": 900}
    amount = np.array([base[c] for c in claim]) * rng.lognormal(0, 0.5, n)
    tenure = rng.integers(0, 30, n)
    y = np.zeros(n, int)
    a = rng.choice(n, 40, replace=False)
    swap = {"auto": ["water", "medical"], "home": ["collision", "luggage"],
            "travel": ["fire", "glass"]}
    for i in a:
        claim[i] = rng.choice(swap[policy[i]])
        amount[i] = base[claim[i]] * rng.lognormal(0, 0.5)
    y[a] = 1
    out["insurance_claims"] = (pd.DataFrame(dict(
        policy=policy, claim_type=claim.astype(str), region=region, channel=channel,
        police_report=police, amount=amount.round(0), tenure_years=tenure)), y)

    n = 450
    grade = rng.choice(["G1", "G2", "G3", "G4", "G5"], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    dept = rng.choice(["ops", "sales", "it", "hr", "finance"], n).astype(object)
    gnum = np.array([int(g[1]) for g in grade])
    salary = 30000 * 1.25 ** gnum * rng.lognormal(0, 0.08, n)
    hours = rng.normal(38, 3, n).round(1)
    overtime = rng.poisson(np.where(dept == "ops", 6, 2))
    bonus = salary * rng.beta(2, 20, n)
    remote = rng.random(n) < 0.3
    sick_days = rng.poisson(4, n)
    y = np.zeros(n, int)
    a = rng.choice(n, 15, replace=False)
    overtime[a[:5]] = rng.integers(80, 150, 5)
    bonus[a[5:10]] = salary[a[5:10]] * rng.uniform(1.5, 3, 5)
    salary[a[10:]] = 30000 * 1.25 ** 5 * 1.6 * rng.lognormal(0, 0.05, 5)
    grade[a[10:]] = "G1"
    df = pd.DataFrame(dict(grade=grade, dept=dept, salary=salary.round(0), hours=hours,
                           overtime=overtime, bonus=bonus.round(0), remote=remote,
                           sick_days=sick_days))
    df.loc[rng.random(n) < 0.05, "hours"] = np.nan
    df.loc[rng.random(n) < 0.05, "dept"] = None
    y[a] = 1
    out["payroll"] = (df, y)
    return {name: shuffled(X, y) for name, (X, y) in out.items()}


def shuffled(X, y):
    """The rows in the helper's order (its files were written shuffled, seed 1)."""
    order = X.assign(_y=y).sample(frac=1, random_state=1).index
    return X.loc[order].reset_index(drop=True), np.asarray(y)[order]


def cases():
    """(half, name, how, X, y): how is "split" (70/30 by the model seed) or "in-sample"."""
    for name, (X, y) in helper_tables().items():
        yield "choose", name, "split", X, y
    for name, (X, y) in [("sensors", sensors_table()), ("region", region_table())] + [
            (f"mixed-{s}", mixed_table(s)) for s in range(100, 106)]:
        yield "choose", name, "in-sample", X, y
    for s in range(200, 208):
        yield "confirm", f"mixed-{s}", "in-sample", *mixed_table(s)


def peer_features(X_train, X_test):
    """One-hot features for the peers: text and flags one-hot, numeric gaps filled with
    the training rows' median."""
    both = pd.concat([X_train, X_test], keys=["train", "test"])
    text = [c for c in both if both[c].dtype.kind in "OUSTb"]
    both = pd.get_dummies(both, columns=text).astype(float)
    both = both.fillna(both.loc["train"].median())
    return both.loc["train"].to_numpy(), both.loc["test"].to_numpy()


RULES = {"aekit": {}, "bernoulli": {"TRIM_BY_VALUE": False},
         "density": {"TWO_VALUED": False, "TRIM_BY_VALUE": False}}


def aekit_scores(X_train, X_test, seed, rule):
    """The default detector's test scores with aekit.design's defaults set as ``rule``
    says (they are read when the fit plans its network and trim)."""
    from aekit import AnomalyDetector, design

    saved = {name: getattr(design, name) for name in RULES[rule]}
    try:
        for name, value in RULES[rule].items():
            setattr(design, name, value)
        return AnomalyDetector(random_state=seed).fit(X_train).anomaly_score(X_test)
    finally:
        for name, value in saved.items():
            setattr(design, name, value)


def speed():
    """Fit and scoring seconds of each rule on 5,000 rows: two numeric columns and a text
    column of 500 categories (500 one-hot features), epochs=5, one thread."""
    from aekit import AnomalyDetector, design

    rng = np.random.RandomState(0)
    n = 5000
    X = pd.DataFrame({"a": rng.randn(n), "b": rng.randn(n),
                      "cat": [f"c{i}" for i in rng.randint(0, 500, n)]})
    for rule, settings in RULES.items():
        saved = {name: getattr(design, name) for name in settings}
        try:
            for name, value in settings.items():
                setattr(design, name, value)
            start = time.perf_counter()
            det = AnomalyDetector(random_state=0, epochs=5).fit(X)
            fit = time.perf_counter() - start
            start = time.perf_counter()
            det.anomaly_score(X)
            print(f"{rule:10s} fit {fit:5.1f} s, score {time.perf_counter() - start:5.2f} s",
                  flush=True)
        finally:
            for name, value in saved.items():
                setattr(design, name, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1", help="model seeds (default 0,1)")
    ap.add_argument("--json", help="write every AUROC and AP here")
    ap.add_argument("--rules", default=",".join(RULES),
                    help=f"the rules fitted, comma-separated (default {','.join(RULES)})")
    ap.add_argument("--speed", action="store_true",
                    help="time the rules on a text column of 500 categories instead")
    args = ap.parse_args()
    import torch
    from sklearn.metrics import average_precision_score, roc_auc_score

    from aekit.evaluation.labelled_table import split_labelled
    from bench_tables import anomaly_scores

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the trim's notes on categories left out, per fit
    if args.speed:
        return speed()
    rules = [r for r in args.rules.split(",") if r]
    if not rules or set(rules) - set(RULES):
        ap.error(f"--rules: give some of {', '.join(RULES)}")
    methods = (*rules, *PEERS)
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    print("AUROC/AP %, model seed S: " + " ".join(f"{m:>11}" for m in methods))
    for half, name, how, X, y in cases():
        for seed in seeds:
            if how == "split":
                X_train, X_test, y_test, _ = split_labelled(X, y, seed)
            else:
                X_train, X_test, y_test = X, X, y
            start = time.perf_counter()
            P_train, P_test = peer_features(X_train, X_test)
            scores = {rule: aekit_scores(X_train, X_test, seed, rule) for rule in rules}
            scores.update({m: anomaly_scores(m, seed, P_train, P_test) for m in PEERS})
            row = {m: (100 * roc_auc_score(y_test, s), 100 * average_precision_score(y_test, s))
                   for m, s in scores.items()}
            results.append({"half": half, "table": name, "seed": seed, "how": how,
                            "auroc": {m: v[0] for m, v in row.items()},
                            "ap": {m: v[1] for m, v in row.items()}})
            print(f"{half:7s} {name:16s} s{seed} " + " ".join(
                f"{row[m][0]:5.1f}/{row[m][1]:5.1f}" for m in methods)
                + f"  {time.perf_counter() - start:.0f} s", flush=True)
    versus = {"aekit", "density"} <= set(rules)
    print("\nmean AUROC / mean AP (%)" + (", and fits where aekit's AUROC is at least "
                                         "density's (ties within 0.05 counted)" if versus
                                         else ""))
    for half in ("choose", "confirm"):
        part = [r for r in results if r["half"] == half]
        cells = " ".join(f"{m} {np.mean([r['auroc'][m] for r in part]):.2f}/"
                         f"{np.mean([r['ap'][m] for r in part]):.2f}" for m in methods)
        held = sum(r["auroc"]["aekit"] >= r["auroc"]["density"] - 0.05 for r in part) \
            if versus else None
        print(f"{half:7s} ({len(part)} fits): {cells}"
              + (f"; aekit >= density in {held}" if versus else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"seeds": seeds, "results": results}, indent=1))


if __name__ == "__main__":
    main()
