"""Inference cost of the photo denoiser's network and tiling, on a 3000x2000 grey plane
(seconds per megapixel, wall time with the torch threads given; machine-dependent).

- per pass, for networks of 7, 9 and 11 layers of 32 channels (random weights: the
  cost does not depend on them), one pass each (``self_ensemble=1``);
- four flips with the bundled model, at tiles of 512, 768 and 1024 (the margin redone
  around each tile is the network's reach).

    python scripts/bench_photo_inference.py
"""

import argparse
import time

import numpy as np
import torch


def seconds_per_mp(den, plane):
    den.denoise_plane(plane[:256, :256])  # warm-up
    start = time.perf_counter()
    den.denoise_plane(plane)
    return (time.perf_counter() - start) / (plane.size / 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from aekit import load_pretrained
    from aekit.nn.image_denoiser import ImageDenoiserConfig, ImageDenoiserNet
    from aekit.photo_denoiser import ImageDenoiser

    plane = np.random.default_rng(0).random((2000, 3000), dtype=np.float32)
    for depth in (7, 9, 11):
        den = ImageDenoiser(depth=depth, self_ensemble=1, device="cpu")
        den.net_ = ImageDenoiserNet(ImageDenoiserConfig(32, depth, 1, False, True)).eval()
        print(f"{depth} layers, one pass, tile {den.tile}: "
              f"{seconds_per_mp(den, plane):.2f} s per megapixel", flush=True)
    den = load_pretrained("photo-denoiser", device="cpu")
    for tile in (512, 768, 1024):
        den.set_params(tile=tile, self_ensemble=4)
        print(f"bundled ({den.net_.config.depth} layers), four flips, tile {tile}: "
              f"{seconds_per_mp(den, plane):.2f} s per megapixel", flush=True)
    print(f"torch threads {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
