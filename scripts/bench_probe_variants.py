"""Protocol F for variants of the Autoencoder's settings: which defaults give better codes?

Each variant is a JSON object of Autoencoder parameters, fitted with code_size=k on the
60,000 MNIST training images (seed 0, labels unused) and probed on the 10,000 test images
exactly as `aekit evaluate probe` does (aekit.evaluation.probe.probe_one); also the
clean test images' reconstruction error (protocol R's SSE per image). "{}" is the
defaults themselves; JSON null is None. One variant at a time: on 2 cores, two fits at
once only slow both.

    python scripts/bench_probe_variants.py '{}' '{"batch_norm": true}' '{"dropout": 0.1}'
"""

import argparse
import json

from aekit import load_mnist
from aekit.evaluation.probe import probe_one


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("variants", nargs="+", help="JSON objects of Autoencoder parameters")
    p.add_argument("--k", type=int, default=32, help="code size (default 32)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    a = p.parse_args()
    variants = [json.loads(v) for v in a.variants]
    for v in variants:  # lists in JSON are tuples to the estimator
        v.update({key: tuple(val) for key, val in v.items() if isinstance(val, list)})
    X, y = load_mnist("train", root=a.data_dir)
    X_test, y_test = load_mnist("test", root=a.data_dir)
    rows = [f"| variant of `Autoencoder(code_size={a.k})` | test accuracy | test SSE per image "
            "| epochs run | fit (s) |", "|---|---:|---:|---:|---:|"]
    for text, params in zip(a.variants, variants):
        r = probe_one("autoencoder", a.k, X, y, X_test, y_test, a.seed, **params)
        rows.append(f"| `{text}` | {100 * r.accuracy:.2f}% | {r.details['test_sse']:.2f} | "
                    f"{r.details['epochs']} | {r.fit_seconds:.0f} |")
        print(rows[-1], flush=True)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
