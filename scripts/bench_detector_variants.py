"""Scoring variants of the default masked detector, screened on the same fitted models.

For each shared table (protocol T's cut and split), `AnomalyDetector(random_state=SEED)`
is fitted once at its defaults; its test rows are then scored in each of these ways
(`--variants`, comma-separated; all by default):

    default       the detector's own score (16 paired masks; with a model fitted with
                  mask spreads, aekit's default since they were added, each mask's
                  mean surprise over its spread, as mask_scaled; since the 18th session
                  with its early network beside it, as early_half_max: see late)
    unscaled      16 paired masks, each feature's surprise averaged over the masks that
                  hide it (the default score before mask spreads)
    mask_scaled   each of the 16 masks' mean surprise divided by its spread on the
                  training rows (aekit.nn.masking.mask_spreads over at most 20,000 rows:
                  the median absolute deviation (MAD) from the median, at least a
                  quarter of the mean absolute deviation, floored at a tenth of the
                  masks' median spread), averaged over masks: every mask counts alike,
                  whatever the spread of its normal rows
    share0        mask_scaled with the MAD alone (the default before 2026-12-06, 15th
                  session); share50, share75, share100: at least a half, three quarters
                  or all of the mean absolute deviation (aekit's share is a quarter)
    masks8        8 paired masks (aekit.nn.masking.scoring_masks), scored as unscaled
    masks8_scaled 8 paired masks, scaled as mask_scaled
    likely_masks  mask_scaled with each mask weighed by exp(-its training rows' median
                  surprise): masks whose hidden features the others predict well
                  (likely under the model) count more
    max_z         the largest over the 16 masks of (surprise - training median) / spread
    knn_codes     the distance to the 5th nearest training row (at most 10,000 rows) in
                  the network's code space (every feature shown), codes standardised
    knn_max       the larger of default and knn_codes, each as a robust z-score among
                  the training rows ((score - median) / (1.4826 MAD); a training row's
                  knn_codes leaves itself out): the network and the codes' distances as
                  an ensemble
    marginal      the network's surprise with every feature hidden: its prediction of
                  each feature with nothing shown, a marginal density
    cond_tail     each hidden feature's two-sided tail surprise under the network's
                  conditional mixture, -log(2 min(F, 1 - F)) with F its CDF at the
                  value (how extreme the value is given the shown ones, where the
                  default counts how unlikely it is), scaled by masks as mask_scaled
    tail_max      the larger of default and cond_tail, each as a robust z-score among the
                  training rows (as knn_max)
    marginal_tail the two-sided tail surprise with every feature hidden, averaged over
                  the features: how extreme each value is on its own (ECOD's question,
                  Li et al., TKDE 2022, asked of the network's marginal prediction)
    marginal_max  the larger of default and marginal_tail (robust z-scores)
    tails_max     the largest of default, cond_tail and marginal_tail (robust z-scores)
    gaussian      the linear case of the masked model: each masked feature's Gaussian
                  conditional given the shown ones (Ledoit-Wolf covariance of the
                  scaled training rows, refitted without the share it scores highest
                  that the detector trims), surprise 0.5 z^2 averaged as unscaled
    gauss_scaled  gaussian's masks, each mask's mean surprise over its spread on the
                  training rows, as mask_scaled
    with_gauss    the mean of default and gauss_scaled (both in units of their masks'
                  spreads): the network and its linear case as an ensemble
    with_gauss_max the larger of default and gauss_scaled
    with_gauss_tail each of default and gauss_scaled as its tail probability p among the
                  training rows' scores ((1 + rows scoring at least as high) / (1 +
                  rows)), combined by Fisher's -sum log p
    with_gauss_pct the mean of the two scores' percentiles among the training rows
    late          the trained network's own score, without its early network (the
                  default's part; the default before 2026-12-07, 18th session)
    early         the early network's own score: the one the detector holds (its first
                  fit after aekit.design.EARLY_EPOCHS epochs, scoring under EARLY_MASKS
                  masks), or with --design EARLY_MASKS=0 AnomalyDetector(trim=0,
                  epochs=EARLY_EPOCHS) of the same seed under 16 masks: a network that has
                  not yet learned the training rows' anomalies as normal (the
                  memorisation effect of networks trained on noisy data: Arpit et al.,
                  ICML 2017)
    early_max     the larger of late and early, each as a robust z-score among the
                  training rows (as knn_max): the late and the early network as an
                  ensemble
    early_half_max the larger of late's robust z-score and half of early's (the default
                  since the 18th session, when it holds an early network: the two agree
                  up to the training rows' sample and float32 rounding)
    early4_half_max as early_half_max, the held early network scoring under 4 masks
                  (their spreads measured on the training rows as aekit measures them)

A screen, not the defaults these would make: the fit (its trim and early stopping) is the
default's. Printed: AUROC per table and variant, then the mean per half of protocol T (A =
1st, 3rd... table; B = 2nd, 4th...) and in all. With --five-column, issue 24's
five-column case (scripts/bench_small_linear.py, data seeds 0, 1, 2) instead of the
tables. ``--params`` (JSON) passes other parameters to the detector, ``--epochs`` the epochs,
``--design NAME=VALUE`` (repeatable) sets one of aekit.design's defaults for the run, e.g.
``--design TWO_VALUED=false`` (two-valued features scored by their density, as before
2026-12-06, 16th session).
Torch runs on ``--threads`` threads (1); on some CPUs the thread count moves the fitted
networks, and so the AUROCs, by rounding: compare runs made at one thread count.

    python scripts/bench_detector_variants.py ../shared/data/adbench --seed 0
    python scripts/bench_detector_variants.py --five-column --epochs 10
    python scripts/bench_detector_variants.py --variants default --params '{"lr": 0.003}'
    python scripts/bench_detector_variants.py --variants default --design TWO_VALUED=false
    python scripts/bench_detector_variants.py --seed 1 --peers peers_s1.json  # from
        # python scripts/bench_tables.py ../shared/data/adbench --seed 1 --json peers_s1.json
"""

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np

VARIANTS = ("default", "unscaled", "mask_scaled", "share0", "share50", "share75", "share100",
            "masks8", "masks8_scaled", "likely_masks",
            "max_z", "knn_codes", "knn_max", "marginal", "cond_tail", "tail_max", "marginal_tail",
            "marginal_max", "tails_max", "gaussian", "gauss_scaled", "with_gauss", "with_gauss_max",
            "with_gauss_tail", "with_gauss_pct", "late", "early", "early_max", "early_half_max", "early4_half_max")
GAUSS_VARIANTS = VARIANTS[VARIANTS.index("gaussian"):VARIANTS.index("late")]  # the linear case's
EARLY_VARIANTS = {"late", "early", "early_max", "early_half_max",  # the early network's
                  "early4_half_max"}                                 # parts
TAIL_VARIANTS = {"cond_tail", "tail_max", "marginal_tail", "marginal_max", "tails_max"}
KNN_ROWS = 10_000  # training rows the code-space neighbours are searched among


def mask_surprise(det, X, masks, tail=False):
    """Each mask's mean surprise over the features it hides (n, n_masks), in nats; with
    ``tail``, the two-sided tail surprise -log(2 min(F, 1 - F)) instead."""
    import torch

    from aekit.scores import ENGINE_ROWS

    net = det.networks_[0].eval()
    Z = torch.as_tensor(det.schema_.transform(X, np.float32))
    out = np.empty((len(Z), len(masks)))
    with torch.no_grad():
        for k, hidden in enumerate(torch.as_tensor(masks)):
            cols = hidden.nonzero().squeeze(1)
            for s in range(0, len(Z), ENGINE_ROWS):
                z = Z[s:s + ENGINE_ROWS]
                output = net.mixture_output_at(z, hidden, cols)
                if tail:
                    F = net.mixture_cdf(output, z[:, cols]).double()
                    q = -torch.log((2 * torch.minimum(F, 1 - F)).clamp(min=1e-12))
                else:  # the model's own surprise (two-valued features by their side)
                    q = net.surprise_at(output, z, cols)
                out[s:s + len(z), k] = q.mean(1).numpy()
    return out


def scaled(q_train, q_test):
    """Mean over masks of each mask's surprise divided by its training rows' spread
    (aekit.nn.masking.mask_spreads)."""
    from aekit.nn.masking import mask_spreads

    return (q_test / mask_spreads(q_train)).mean(axis=1)


SHARE_VARIANTS = {"share0": 0.0, "share50": 0.5, "share75": 0.75, "share100": 1.0}


def spreads_with_share(q_train, share):
    """aekit.nn.masking.mask_spreads with another share of the mean absolute deviation."""
    from aekit.nn.masking import MIN_SPREAD, SPREAD_FLOOR

    deviation = np.abs(q_train - np.median(q_train, axis=0))
    spread = np.maximum(np.median(deviation, axis=0), share * deviation.mean(axis=0))
    return np.maximum(spread, max(SPREAD_FLOOR * np.median(spread), MIN_SPREAD))


def likely_and_max_z(variants, q_train, q_test):
    """likely_masks: each mask's surprise over its spread, weighed by exp(-its training
    rows' median surprise); max_z: the largest of the masks' robust z-scores."""
    from aekit.nn.masking import mask_spreads

    spread, median = mask_spreads(q_train), np.median(q_train, axis=0)
    out = {}
    if "likely_masks" in variants:
        weight = np.exp(-(median - median.min()))
        out["likely_masks"] = (q_test / spread * weight).sum(axis=1) / weight.sum()
    if "max_z" in variants:
        out["max_z"] = ((q_test - median) / spread).max(axis=1)
    return out


def by_feature(q_test, masks):
    """The default's aggregation: each feature's surprise averaged over the masks hiding
    it, then over the features (paired masks hide every feature once per pair, so this
    is the hidden-feature-weighted mean of the masks' mean surprises)."""
    hidden = masks.sum(axis=1)
    return (q_test * hidden).sum(axis=1) / hidden.sum()


def knn_codes(det, X_train, X_test, seed):
    """The knn_codes score of the test rows, and of the training rows searched among
    (each leaving itself out of its neighbours)."""
    import torch
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    net = det.networks_[0].eval()
    rows = np.random.RandomState(seed).permutation(len(X_train))[:KNN_ROWS]
    with torch.no_grad():
        C_train, C_test = (net.encode(torch.as_tensor(det.schema_.transform(X, np.float32)))
                           .numpy() for X in (X_train[rows], X_test))
    scaler = StandardScaler().fit(C_train)
    nn = NearestNeighbors(n_neighbors=5).fit(scaler.transform(C_train))
    return nn.kneighbors(scaler.transform(C_test))[0][:, -1], nn.kneighbors()[0][:, -1]


def robust_z(train, test):
    """The test scores as robust z-scores among the training scores."""
    median = np.median(train)
    return (test - median) / (1.4826 * np.median(np.abs(train - median)) + 1e-12)


def gaussian(det, X_train, X_test, masks, rows):
    """The linear case's mask surprises (n, n_masks) of the training rows ``rows`` and of
    the test rows."""
    from sklearn.covariance import LedoitWolf

    from aekit.design import auto_trim

    trim = auto_trim(det.trim, "masked")
    Z_train, Z_test = (det.schema_.transform(X, np.float64) for X in (X_train, X_test))

    def surprise(Z, mu, C):
        D, q = Z - mu, np.empty((len(Z), len(masks)))
        for k, m in enumerate(masks):
            h, v = np.flatnonzero(m), np.flatnonzero(~m)
            B = np.linalg.solve(C[np.ix_(v, v)], C[np.ix_(v, h)])
            var = np.maximum(np.diag(C)[h] - np.einsum("vh,vh->h", C[np.ix_(v, h)], B), 1e-9)
            q[:, k] = (0.5 * (D[:, h] - D[:, v] @ B) ** 2 / var).mean(axis=1)
        return q

    keep = Z_train
    for first in (True, False):
        mu, C = keep.mean(axis=0), LedoitWolf().fit(keep).covariance_
        if first:
            s = by_feature(surprise(Z_train, mu, C), masks)
            keep = Z_train[np.argsort(s, kind="stable")[:len(Z_train) - int(trim * len(Z_train))]]
    return surprise(Z_train[rows], mu, C), surprise(Z_test, mu, C)


def tail(train, test):
    """Each test score's tail probability among the training scores."""
    ordered = np.sort(train)
    at_least = len(ordered) - np.searchsorted(ordered, test, side="left")
    return (1 + at_least) / (1 + len(ordered))


def scores(variants, det, X_train, X_test, seed):
    """{variant: test scores} of one fitted detector."""
    from aekit.nn.masking import scoring_masks
    from aekit.thresholds import quantile_rows

    d = det.networks_[0].config.n_features  # the encoded features (text columns one-hot)
    rows = quantile_rows(len(X_train), seed)  # the rows the fit measured its spreads on
    parts = {"train": X_train[rows], "test": X_test}
    # each mask's surprise of (count masks, training or test rows), computed once
    surprise = functools.cache(lambda count, part: mask_surprise(det, parts[part],
                                                                 scoring_masks(d, count)))
    out = {"default": det.anomaly_score(X_test)} if "default" in variants else {}
    for count, plain, scaled_name in ((16, "unscaled", "mask_scaled"),
                                      (8, "masks8", "masks8_scaled")):
        if plain in variants:
            out[plain] = by_feature(surprise(count, "test"), scoring_masks(d, count))
        if scaled_name in variants:
            out[scaled_name] = scaled(surprise(count, "train"), surprise(count, "test"))
    for name in SHARE_VARIANTS.keys() & set(variants):
        q_train, q_test = surprise(16, "train"), surprise(16, "test")
        out[name] = (q_test / spreads_with_share(q_train, SHARE_VARIANTS[name])).mean(axis=1)
    if {"likely_masks", "max_z"} & set(variants):
        out.update(likely_and_max_z(variants, surprise(16, "train"), surprise(16, "test")))
    if "knn_codes" in variants or "knn_max" in variants:
        out["knn_codes"], knn_train = knn_codes(det, X_train, X_test, seed)
        if "knn_max" in variants:
            net_train = det.anomaly_score(X_train[rows])
            out["knn_max"] = np.maximum(robust_z(net_train, det.anomaly_score(X_test)),
                                        robust_z(knn_train, out["knn_codes"]))
    if "marginal" in variants:
        out["marginal"] = mask_surprise(det, X_test, np.ones((1, d), bool))[:, 0]
    if TAIL_VARIANTS & set(variants):
        out.update(tails(det, parts, scoring_masks(d, 16), d))
    if EARLY_VARIANTS & set(variants):
        out.update(early(det, parts, X_train, seed))
    if set(GAUSS_VARIANTS) & set(variants):
        masks = scoring_masks(d, 16)
        g_train, g_test = gaussian(det, X_train, X_test, masks, rows)
        out["gaussian"] = by_feature(g_test, masks)
        out["gauss_scaled"] = scaled(g_train, g_test)
        net = out["default"] if "default" in out else det.anomaly_score(X_test)
        out["with_gauss"] = (net + out["gauss_scaled"]) / 2
        out["with_gauss_max"] = np.maximum(net, out["gauss_scaled"])
        p_net = tail(det.anomaly_score(X_train[rows]), net)
        p_gauss = tail(scaled(g_train, g_train), out["gauss_scaled"])
        out["with_gauss_tail"] = -(np.log(p_net) + np.log(p_gauss))
        out["with_gauss_pct"] = (1 - p_net) + (1 - p_gauss)
    return out


def early(det, parts, X_train, seed):
    """late, early, early_max and early_half_max (see the module's notes)."""
    from aekit import AnomalyDetector, design

    late = {p: network_scores(det, X, lambda net: net.own_surprise) for p, X in parts.items()}
    if det.networks_[0].config.early_masks:
        early_ = {p: network_scores(det, X, lambda net: net.early.surprise)
                  for p, X in parts.items()}
    else:
        params = {**det.get_params(), "trim": 0, "epochs": design.EARLY_EPOCHS,
                  "random_state": seed}
        net = AnomalyDetector(**params).fit(X_train)
        early_ = {p: net.anomaly_score(X) for p, X in parts.items()}
    z_late, z_early = robust_z(late["train"], late["test"]), robust_z(early_["train"],
                                                                     early_["test"])
    out = {"late": late["test"], "early": early_["test"],
           "early_max": np.maximum(z_late, z_early),
           "early_half_max": np.maximum(z_late, z_early / 2)}
    if det.networks_[0].config.early_masks:
        fewer = early_under(det, 4, parts["train"])
        e4 = {p: network_scores(det, X, lambda net: fewer.surprise) for p, X in parts.items()}
        out["early4_half_max"] = np.maximum(z_late, robust_z(e4["train"], e4["test"]) / 2)
    return out


def early_under(det, count, X_train):
    """The detector's early network scoring under ``count`` masks, their spreads measured
    on the training rows ``X_train`` (aekit.nn.masking.mask_spreads)."""
    import dataclasses

    import torch

    from aekit.nn.masking import mask_spreads
    from aekit.nn.network import AutoencoderNet

    early = det.networks_[0].early
    net = AutoencoderNet(dataclasses.replace(early.config, score_masks=count))
    state = {k: v for k, v in early.state_dict().items() if k != "mask_spread"}
    net.load_state_dict({**state, "mask_spread": net.mask_spread})
    net.eval()
    with torch.no_grad():
        Z = torch.from_numpy(det.schema_.transform(X_train, np.float32))
        net.mask_spread.copy_(torch.from_numpy(mask_spreads(net.mask_surprise(Z).numpy())))
    return net


def network_scores(det, X, part):
    """Row means of ``part(net)(rows)`` (a masked network's surprise per feature) over the
    detector's network, for rows ``X``."""
    from aekit.nn.engine import TorchEngine

    Z = det.schema_.transform(X, np.float32)
    engine = TorchEngine(det.networks_[0], "cpu")
    return engine.run(lambda net, t: part(net)(t).mean(dim=1, keepdim=True), Z, 1)[:, 0]


def tails(det, parts, masks, d):
    """cond_tail, marginal_tail and their robust z-score maxima with the default."""
    cond = {p: mask_surprise(det, X, masks, tail=True) for p, X in parts.items()}
    cond_train, cond_test = scaled(cond["train"], cond["train"]), scaled(cond["train"],
                                                                         cond["test"])
    marg_train, marg_test = (mask_surprise(det, parts[p], np.ones((1, d), bool), tail=True)
                             [:, 0] for p in ("train", "test"))
    z_net = robust_z(det.anomaly_score(parts["train"]), det.anomaly_score(parts["test"]))
    z_cond, z_marg = robust_z(cond_train, cond_test), robust_z(marg_train, marg_test)
    return {"cond_tail": cond_test, "marginal_tail": marg_test,
            "tail_max": np.maximum(z_net, z_cond), "marginal_max": np.maximum(z_net, z_marg),
            "tails_max": np.maximum.reduce([z_net, z_cond, z_marg])}


def cases(args):
    """(name, X_train, X_test, y_test) of each case the run measures."""
    if args.five_column:
        from aekit.evaluation.synthetic import combination_table

        for seed in (0, 1, 2):
            yield (f"five-column, data seed {seed}", *combination_table(seed))
        return
    from aekit.evaluation.tables import split, table_files

    for path in table_files(args.folder):
        if args.min_features and np.load(path)["X"].shape[1] < args.min_features:
            continue  # (each table keeps its half of protocol T: see main)
        yield (path.stem, *split(path))


def detector_params(ap, args):
    """The detector's parameters from --params and --epochs (argparse's error otherwise)."""
    from aekit import AnomalyDetector

    try:
        extra = json.loads(args.params)
    except json.JSONDecodeError as e:
        ap.error(f"--params is not JSON: {e}")
    if not isinstance(extra, dict):
        ap.error("--params must be a JSON object, e.g. '{\"lr\": 0.003}'")
    fixed = sorted(set(extra) & {"random_state", "method", "objective"})
    unknown = sorted(set(extra) - set(AnomalyDetector().get_params()))
    if fixed:
        ap.error(f"--params: {', '.join(fixed)}: set by the script, not by --params")
    if unknown:
        ap.error(f"--params: not AnomalyDetector parameters: {', '.join(unknown)}")
    if args.epochs is not None:
        extra["epochs"] = args.epochs
    return extra


def set_design(ap, settings):
    """Set aekit.design's defaults from ``NAME=VALUE`` settings (argparse's error for an
    unknown name or a value that is not JSON of the default's type)."""
    from aekit import design

    for setting in settings:
        name, _, text = setting.partition("=")
        if not name.isupper() or not hasattr(design, name):
            ap.error(f"--design: aekit.design has no default {name!r}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            ap.error(f"--design {name}: {text!r} is not a JSON value")
        default = getattr(design, name)
        if isinstance(default, (list, tuple)) and isinstance(value, list):
            value = type(default)(value)
        if type(value) is not type(default) and not (
                isinstance(default, float) and type(value) is int):
            ap.error(f"--design {name}: give a {type(default).__name__}, like {default!r}")
        setattr(design, name, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", default="../shared/data/adbench")
    ap.add_argument("--seed", type=int, default=0, help="the detector's random_state [0]")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--five-column", action="store_true", help="issue 24's five-column case")
    ap.add_argument("--epochs", type=int, help="the detector's epochs [its default]")
    ap.add_argument("--params", default="{}", help="other detector parameters, as JSON")
    ap.add_argument("--design", action="append", default=[], metavar="NAME=VALUE",
                    help="set one of aekit.design's defaults (a JSON value) for this run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-features", type=int, default=0,
                    help="only the tables of at least this many features (each in its "
                    "half of protocol T)")
    ap.add_argument("--json")
    ap.add_argument("--peers", help="a bench_tables.py --json file of the same seed: print "
                    "each variant's rank among its peers and the tables far behind them")
    args = ap.parse_args()
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        ap.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    extra = detector_params(ap, args)
    set_design(ap, args.design)
    import torch
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector

    torch.set_num_threads(args.threads)
    names, auroc = [], {v: [] for v in variants}
    for name, X_train, X_test, y_test in cases(args):
        det = AnomalyDetector(random_state=args.seed, **extra).fit(X_train)
        if det.objective_ != "masked":
            sys.exit(f"error: {name}: the detector fitted a {det.objective_} model; the "
                     "variants score masked ones")
        s = scores(variants, det, X_train, X_test, args.seed)
        names.append(name)
        for v in variants:
            auroc[v].append(100 * roc_auc_score(y_test, s[v]))
        print(f"{name:<26}" + "".join(f" {v} {auroc[v][-1]:6.2f}" for v in variants), flush=True)
    from aekit.evaluation.tables import halves

    index = list(range(len(names)))
    parts = {}
    if not args.five_column:  # protocol T's halves of all the folder's tables
        from aekit.evaluation.tables import table_files

        half_of = {name: h for h, members in
                   halves([p.stem for p in table_files(args.folder)]).items()
                   for name in members}
        parts = {h: [i for i in index if half_of[names[i]] == h] for h in ("A", "B")}
    groups = [(f"half {h}", idx) for h, idx in parts.items() if idx] + [("all", index)]
    for v in variants:
        print(f"{v:<16}" + "  ".join(f"{g} {np.mean([auroc[v][i] for i in idx]):.2f}"
                                     for g, idx in groups))
    if args.peers:
        beside_peers(args.peers, names, auroc)
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": args.seed, "cases": names,
                                               "auroc": auroc}, indent=1))


def beside_peers(path, names, auroc):
    """Each variant among the nine peers of a `scripts/bench_tables.py --json` run (its
    AUROCs per table, aekit's left out): the tables more than 15 points below the best
    peer, and the mean rank among the ten (1 = best; ties share the mean rank) beside the
    best peer's."""
    from scipy.stats import rankdata

    doc = json.loads(Path(path).read_text())
    if not set(names) <= set(doc["tables"]):
        sys.exit(f"error: {path} lacks some of this run's tables")
    at = [doc["tables"].index(n) for n in names]  # (this run's tables, --min-features)
    peers = np.array([np.asarray(v)[at] for k, v in doc["auroc"].items()
                      if k != "aekit"])  # (9, tables)
    best = peers.max(axis=0)
    print(f"beside the nine peers of {path} (seed {doc.get('seed')}):")
    for v, a in auroc.items():
        ranks = np.array([rankdata(-np.r_[a[i], peers[:, i]]) for i in range(len(names))])
        far = [f"{n} {a[i]:.2f} (best peer {best[i]:.2f})" for i, n in enumerate(names)
               if a[i] < best[i] - 15]
        print(f"  {v:<16}mean rank {ranks[:, 0].mean():.2f} (best peer's "
              f"{ranks[:, 1:].mean(axis=0).min():.2f}); {len(far)} more than 15 below the "
              f"best peer{': ' if far else ''}{'; '.join(far)}")


if __name__ == "__main__":
    main()
