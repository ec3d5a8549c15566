"""Re-create samples/ (the small demo inputs) from MNIST, deterministically.

    python scripts/make_samples.py [--data-dir DIR]

- noisy_7.png, noisy_2.png, noisy_1.png: 28x28 MNIST test digits with gaussian
  0.5, masking 0.25 and salt-and-pepper 0.1 noise (protocol D's levels)
- scan_4.png: a 112x112 dark-on-light "scan" of a test digit with paper grain
- clean_7.png: the clean digit behind noisy_7.png, for comparison
- digit_3.png, digit_8.png: the first 3 and 8 of the test set (`aekit interpolate`)
- mnist_rows.csv: 200 rows of 784 pixels (0..255) with an `anomaly` column: 180
  test digits (0) and 20 non-digit images (1): shuffled pixels,
  photo-negatives and noise (see aekit.evaluation.synthetic)
- transactions.csv: a small table (500 rows: amount, hour, items, distance_km,
  account_age_days) where 15 rows break the usual relations; `is_fraud` says which
"""

import argparse
from pathlib import Path

import numpy as np
import torch

from aekit import load_mnist
from aekit.atomic import atomic_open
from aekit.evaluation.synthetic import non_digits
from aekit.images import write_png
from aekit.nn.noise import parse_noise

OUT = Path(__file__).resolve().parents[1] / "samples"
SEED = 0


def noisy(x, spec, seed):
    g = torch.Generator().manual_seed(seed)
    return parse_noise(spec).apply(torch.from_numpy(x.copy()), g).numpy()


def scan(x, size=112, seed=SEED):
    """A digit as dark ink on light, slightly grainy paper, at 4x size."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    img = Image.fromarray((x.reshape(28, 28) * 255).astype(np.uint8)).resize((size, size), Image.BILINEAR)
    ink = np.asarray(img, dtype=np.float32) / 255
    paper = 0.93 + 0.03 * rng.randn(size, size)
    out = paper * (1 - ink) + 0.12 * ink
    out += 0.18 * rng.randn(size, size)  # heavy grain: the thing to clean
    return np.clip(out, 0, 1)


def transactions(seed=SEED, n=500, n_odd=15):
    rng = np.random.RandomState(seed)
    items = rng.poisson(3, n) + 1
    amount = items * rng.lognormal(3, 0.3, n)
    hour = np.clip(rng.normal(14, 3, n), 0, 23).round()
    distance = rng.gamma(2, 3, n)
    age = rng.gamma(3, 300, n).round()
    fraud = np.zeros(n, dtype=int)
    odd = rng.choice(n, n_odd, replace=False)
    fraud[odd] = 1
    amount[odd] = items[odd] * rng.lognormal(5.5, 0.3, n_odd)  # far too much per item
    hour[odd] = rng.choice([2, 3, 4], n_odd)                    # at night
    distance[odd] = rng.gamma(2, 40, n_odd)                      # far from home
    age[odd] = rng.randint(1, 10, n_odd)                         # on brand-new accounts
    cols = np.c_[amount.round(2), hour, items, distance.round(2), age]
    return cols, fraud


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args()
    a.out.mkdir(exist_ok=True)
    Xt, yt = load_mnist("test", root=a.data_dir)
    first = {d: int(np.flatnonzero(yt == d)[0]) for d in range(10)}

    write_png(Xt[first[7]].reshape(28, 28), a.out / "clean_7.png")
    for digit in (3, 8):
        write_png(Xt[first[digit]].reshape(28, 28), a.out / f"digit_{digit}.png")
    for digit, spec in ((7, "gaussian:0.5"), (2, "masking:0.25"), (1, "saltpepper:0.1")):
        write_png(noisy(Xt[first[digit]], spec, SEED).reshape(28, 28), a.out / f"noisy_{digit}.png")
    write_png(scan(Xt[first[4]]), a.out / "scan_4.png")

    rng = np.random.RandomState(SEED)
    idx = rng.choice(len(Xt), 180, replace=False)
    odd, _ = non_digits(Xt, 20, seed=SEED)
    rows = np.vstack([Xt[idx], odd])
    labels = np.r_[np.zeros(180, dtype=int), np.ones(20, dtype=int)]
    order = rng.permutation(len(rows))
    with atomic_open(a.out / "mnist_rows.csv", "w") as f:
        f.write(",".join([f"px{i}" for i in range(784)] + ["anomaly"]) + "\n")
        for i in order:
            f.write(",".join(map(str, np.round(rows[i] * 255).astype(int))) + f",{labels[i]}\n")

    cols, fraud = transactions()
    with atomic_open(a.out / "transactions.csv", "w") as f:
        f.write("amount,hour,items,distance_km,account_age_days,is_fraud\n")
        for row, y in zip(cols, fraud):
            f.write(",".join(f"{v:g}" for v in row) + f",{y}\n")
    for path in sorted(a.out.iterdir()):
        print(f"{path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
