"""Protocol G and the VAE's sample figures (BENCHMARKS.md), in parts that can run side by side.

    # the test NLL at k = 5000 in two processes of one thread (each writes its bounds as it goes)
    python scripts/bench_generative.py nll --part 0 --parts 2 --out runs/g
    python scripts/bench_generative.py nll --part 1 --parts 2 --out runs/g
    python scripts/bench_generative.py combine --out runs/g      # NLL over the images done
    # sample quality judged by a small CNN trained on MNIST (see `judge`)
    python scripts/bench_generative.py samples --classifier classifier.safetensors
    # a table VAE's samples against its training table (KS, correlations, copies)
    python scripts/bench_generative.py table

`combine` reports the NLL over the images whose bounds are written, so that a run cut
short still gives an honest subset figure (labelled with its number of images); the
ELBO, the factorised-Bernoulli baseline and the active units are computed on all 10,000.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def nll_part(args):
    """Bounds of one contiguous part of the binarised test images, saved after each chunk."""
    import torch

    import aekit
    from aekit.evaluation.generative import binarised

    torch.set_num_threads(1)
    vae = aekit.load(args.model, device="cpu")
    Xt, _ = aekit.load_mnist("test")
    Xb = binarised(Xt)
    lo = len(Xb) * args.part // args.parts
    hi = len(Xb) * (args.part + 1) // args.parts
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"part{args.part}of{args.parts}_k{args.k}.npy"
    done = np.load(path) if path.exists() else np.zeros(0)
    start, cpu = time.perf_counter(), time.process_time()
    for s in range(lo + len(done), hi, args.chunk):
        b = vae.score_samples(Xb[s:min(s + args.chunk, hi)], k=args.k)
        done = np.concatenate([done, b])
        np.save(str(path) + ".tmp.npy", done)
        os.replace(str(path) + ".tmp.npy", path)
        print(f"part {args.part}: {len(done)}/{hi - lo} images, running NLL "
              f"{-done.mean():.3f}, {time.perf_counter() - start:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s cpu", flush=True)


def combine(args):
    """The NLL over the images whose bounds are written, and the all-image figures."""
    import aekit
    from aekit.evaluation.generative import active_units, binarised, factorised_bernoulli

    parts = sorted(Path(args.out).glob(f"part*_k{args.k}.npy"))
    bounds = np.concatenate([np.load(p) for p in parts]) if parts else np.zeros(0)
    vae = aekit.load(args.model, device="cpu")
    X, _ = aekit.load_mnist("train")
    Xt, _ = aekit.load_mnist("test")
    Xb = binarised(Xt)
    active, _ = active_units(vae, Xb)
    result = {"k": args.k, "n_images_scored": int(len(bounds)),
              "test_nll_nats": round(-float(bounds.mean()), 3) if len(bounds) else None,
              "test_elbo_nats_all_10000": round(float(np.mean(vae.score_samples(Xb))), 3),
              "factorised_bernoulli_nll_all_10000": round(
                  -float(np.mean(factorised_bernoulli(X).log_likelihood(Xb))), 3),
              "active_units": active, "latent": vae.net_.config.code_size,
              "parts": [p.name for p in parts]}
    print(json.dumps(result, indent=1))


def small_cnn():
    """The judge: conv5x5(16)-pool-conv5x5(32)-pool-fc128-dropout 0.3-fc10 (ReLU)."""
    from torch import nn

    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 49, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))


def train_judge(path, epochs=3):
    """Train the judge on MNIST's 60,000 training images (Adam 1e-3 halved each epoch,
    batch 128, seed 0; half of each batch binarised afresh, so that it reads both pixel
    means and binary images) and save it (safetensors)."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file

    import aekit

    X, y = (torch.from_numpy(a) for a in aekit.load_mnist("train"))
    torch.manual_seed(0)
    net = small_cnn()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for ep in range(epochs):
        perm = torch.randperm(len(X))
        for g in opt.param_groups:
            g["lr"] = 1e-3 * 0.5 ** ep
        for s in range(0, len(X), 128):
            idx = perm[s:s + 128]
            xb = X[idx].clone()
            xb[:len(xb) // 2] = torch.bernoulli(xb[:len(xb) // 2])
            loss = F.cross_entropy(net(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    save_file({f"f.{k}": v for k, v in net.state_dict().items()}, str(path))
    return net.eval()


def judge(net, X, threshold=0.9):
    """Share of rows labelled with confidence >= threshold, the label counts, and the
    labels' entropy in nats (ten equally common digits: ln 10 = 2.303)."""
    import torch

    with torch.inference_mode():
        p = torch.cat([torch.softmax(net(torch.from_numpy(X[s:s + 1000])), 1)
                       for s in range(0, len(X), 1000)]).numpy()
    conf, lab = p.max(1), p.argmax(1)
    counts = np.bincount(lab, minlength=10)
    q = counts / counts.sum()
    sure = np.bincount(lab[conf >= threshold], minlength=10)
    qs = sure / max(1, sure.sum())
    return {"confident_share": round(float(np.mean(conf >= threshold)), 4),
            "label_counts": counts.tolist(),
            "label_entropy_nats": round(float(-(q[q > 0] * np.log(q[q > 0])).sum()), 4),
            "confident_label_entropy_nats": round(float(-(qs[qs > 0] * np.log(qs[qs > 0])).sum()),
                                                  4)}


def samples(args):
    """The sample-quality figure: the judge on the model's samples and on real test images."""
    import torch
    from safetensors.torch import load_file

    import aekit

    torch.set_num_threads(1)
    net = small_cnn()
    if Path(args.classifier).exists():
        state = load_file(args.classifier)
        net.load_state_dict({k[2:] if k.startswith("f.") else k: v for k, v in state.items()})
    else:
        net = train_judge(args.classifier)
    net.eval()
    vae = aekit.load(args.model, device="cpu")
    Xt, yt = aekit.load_mnist("test")
    with torch.inference_mode():
        acc = float((net(torch.from_numpy(Xt)).argmax(1).numpy() == yt).mean())
    S = vae.sample(args.n, random_state=args.seed)
    print(json.dumps({"classifier_test_accuracy": round(acc, 4),
                      "samples (decoder means)": judge(net, S),
                      "real test images": judge(net, Xt), "n": args.n, "seed": args.seed},
                     indent=1))


def table(args):
    """A VAE of a table (scikit-learn's breast cancer, 569 x 30) and its samples against the
    training table: each column's two-sample Kolmogorov-Smirnov distance, the largest
    difference between the correlation matrices, the share of samples equal (to 6
    significant digits) to a training row, and the nearest-row distances beside those of
    held-out real rows."""
    from scipy.stats import ks_2samp
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import NearestNeighbors
    from sklearn.preprocessing import StandardScaler

    from aekit import VariationalAutoencoder

    X = load_breast_cancer().data
    train, test = train_test_split(X, test_size=0.3, random_state=0)
    start = time.perf_counter()
    vae = VariationalAutoencoder(code_size=8, hidden=(64, 64), epochs=args.epochs,
                                 random_state=0, device="cpu").fit(train)
    seconds = time.perf_counter() - start
    S = np.asarray(vae.sample(len(train), random_state=0), dtype=np.float64)
    ks = [ks_2samp(S[:, j], train[:, j]).statistic for j in range(X.shape[1])]
    ks_test = [ks_2samp(test[:, j], train[:, j]).statistic for j in range(X.shape[1])]
    corr = np.abs(np.corrcoef(S, rowvar=False) - np.corrcoef(train, rowvar=False)).max()
    corr_test = np.abs(np.corrcoef(test, rowvar=False) - np.corrcoef(train, rowvar=False)).max()
    rounded = {tuple(r) for r in np.round(train, 6)}
    copies = float(np.mean([tuple(r) in rounded for r in np.round(S, 6)]))
    scale = StandardScaler().fit(train)
    nn_ = NearestNeighbors(n_neighbors=1).fit(scale.transform(train))
    d_samples = nn_.kneighbors(scale.transform(S))[0].ravel()
    d_test = nn_.kneighbors(scale.transform(test))[0].ravel()
    print(json.dumps({
        "table": "sklearn breast cancer, 398 training rows (70%), 30 columns",
        "fit_seconds": round(seconds, 1), "epochs": args.epochs,
        "ks_mean": round(float(np.mean(ks)), 4), "ks_max": round(float(np.max(ks)), 4),
        "ks_mean_heldout_real_rows": round(float(np.mean(ks_test)), 4),
        "ks_max_heldout_real_rows": round(float(np.max(ks_test)), 4),
        "corr_max_abs_diff": round(float(corr), 4),
        "corr_max_abs_diff_heldout_real_rows": round(float(corr_test), 4),
        "share_copying_a_training_row": copies,
        "median_nearest_training_row_distance_samples": round(float(np.median(d_samples)), 3),
        "median_nearest_training_row_distance_heldout_real": round(float(np.median(d_test)),
                                                                   3)}, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["nll", "combine", "samples", "table"])
    ap.add_argument("--model", default="mnist-vae")
    ap.add_argument("--k", type=int, default=5000)
    ap.add_argument("--part", type=int, default=0)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=50)
    ap.add_argument("--out", default="runs/protocol_g")
    ap.add_argument("--classifier", default="runs/classifier.safetensors")
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=300)
    args = ap.parse_args()
    {"nll": nll_part, "combine": combine, "samples": samples, "table": table}[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
