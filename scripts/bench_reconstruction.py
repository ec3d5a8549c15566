"""Protocol R (../shared/PROTOCOLS.md): SSE per test image at code size k, autoencoder vs PCA.

    python scripts/bench_reconstruction.py --code-size 30 --hidden 1000,500,250 --epochs 40
"""

import argparse
import json
import time

import numpy as np
from sklearn.decomposition import PCA

from aekit import Autoencoder, load_mnist


def sse_per_image(X, R):
    return float(np.mean(np.sum((X.astype(np.float64) - R) ** 2, axis=1)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code-size", type=int, default=30)
    p.add_argument("--hidden", default="1000,500,250")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--save", default=None, help="write the fitted model here")
    p.add_argument("--json", default=None, help="write the figures here as JSON")
    a = p.parse_args()
    Xtr, _ = load_mnist("train", root=a.data_dir)
    Xte, _ = load_mnist("test", root=a.data_dir)
    k = a.code_size

    t = time.perf_counter()
    pca = PCA(n_components=k, random_state=a.seed).fit(Xtr)
    pca_sse = sse_per_image(Xte, pca.inverse_transform(pca.transform(Xte)))
    print(f"PCA k={k}: SSE/image {pca_sse:.2f} ({time.perf_counter() - t:.1f} s)", flush=True)

    hidden = tuple(int(h) for h in a.hidden.split(","))
    ae = Autoencoder(code_size=k, hidden=hidden, epochs=a.epochs, batch_size=a.batch_size,
                     lr=a.lr, batch_norm=a.batch_norm, random_state=a.seed, verbose=1)
    t = time.perf_counter()
    ae.fit(Xtr)
    secs = time.perf_counter() - t
    ae_sse = sse_per_image(Xte, ae.reconstruct(Xte))
    print(f"Autoencoder {784}-{a.hidden}-{k}: SSE/image {ae_sse:.2f} "
          f"({ae.n_epochs_} epochs, {secs:.0f} s)", flush=True)
    if a.save:
        ae.save(a.save)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"k": k, "pca_sse": pca_sse, "ae_sse": ae_sse, "epochs": ae.n_epochs_,
                       "seconds": secs, "args": vars(a)}, f, indent=1)


if __name__ == "__main__":
    main()
