"""Protocol D through the command line: noisy MNIST test digits as PNG files -> `aekit denoise`.

Writes the 10,000 test images, corrupted with protocol D's noise (fixed seed,
the same noise as `aekit evaluate denoise`), as 8-bit PNG files; runs `aekit
denoise FOLDER --out-dir OUT` on them in one call; reads the results back and
reports the PSNR (dB, peak 1, mean per image) against the clean digits, beside
that of the noisy PNGs themselves.

    python scripts/bench_denoise.py --model dae.safetensors
    python scripts/bench_denoise.py --model dae.safetensors --noise masking:0.25 --limit 1000
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aekit.datasets import load_mnist
from aekit.evaluation.denoise import NOISES, corrupt, psnr
from aekit.images import read_image, write_png


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--noise", action="append", choices=NOISES,
                   help="repeatable; default: gaussian:0.5")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=None, help="first N test images (default: all)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--workdir", default=None, help="keep the PNG files here (default: a temp dir)")
    p.add_argument("--json", default=None, help="write the figures here as JSON")
    a = p.parse_args()
    X, _ = load_mnist("test", root=a.data_dir)
    X = X[: a.limit] if a.limit else X
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(a.workdir or tmp)
        for spec in a.noise or ["gaussian:0.5"]:
            src, dst = work / spec.replace(":", "_"), work / (spec.replace(":", "_") + "_out")
            src.mkdir(parents=True, exist_ok=True)
            noisy = corrupt(X, spec, a.seed)
            names = [f"{i:05d}.png" for i in range(len(X))]
            for name, x in zip(names, noisy):
                write_png(x.reshape(28, 28), src / name)
            cmd = [sys.executable, "-m", "aekit", "denoise", str(src), "--model", a.model,
                   "--out-dir", str(dst), "-q"]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - t
            back = np.stack([read_image(dst / n.replace(".png", ".denoised.png")).reshape(-1)
                             for n in names])
            noisy_png = np.stack([read_image(src / n).reshape(-1) for n in names])
            results[spec] = {"noisy_png": float(psnr(X, noisy_png).mean()),
                             "aekit_denoise": float(psnr(X, back).mean()),
                             "seconds": round(seconds, 1), "n": len(X)}
            r = results[spec]
            print(f"{spec:<15} noisy PNGs {r['noisy_png']:.2f} dB -> "
                  f"aekit denoise {r['aekit_denoise']:.2f} dB"
                  f"  ({len(X)} files, {seconds:.1f} s)", flush=True)
    if a.json:
        doc = {"model": a.model, "seed": a.seed, "psnr": results}
        Path(a.json).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
