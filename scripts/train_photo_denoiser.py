"""Train the bundled `photo-denoiser` (aekit/pretrained/photo-denoiser.safetensors).

Seeded and reproducible (same machine, same threads: same model). The images are the
ones that ship offline inside scikit-image, scikit-learn and matplotlib, less the
held-out five of protocol D2 (camera, astronaut, coffee, chelsea, moon; skimage's
`cat` is chelsea again and is left out too). Two of the rest (coins, sklearn's flower)
are kept for validation: every choice was made on them, never on the held-out five.
The images are written as PNG files into two folders and trained on exactly as
`aekit train --images TRAIN --validation-images VAL --noise gaussian:0-0.22` would.

The bundled model is made in two stages (same machine and threads: the same weights):

    # 1. 7 layers from scratch (the model bundled until the seventh session): 50 min
    python scripts/train_photo_denoiser.py -o stage1.safetensors
    # 2. deepened to 9 layers by identity layers (Net2DeeperNet), fine-tuned on new
    #    patches and noise (seed 1) at a lower rate: 60 min on one CPU thread
    python scripts/train_photo_denoiser.py --init stage1.safetensors --depth 9 \
        --epochs 6 --lr 3e-4 --seed 1
    python scripts/train_photo_denoiser.py --epochs 1 --patches 500 -o /tmp/quick.safetensors
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

HELD_OUT = ("camera", "astronaut", "coffee", "chelsea", "cat", "moon")
TRAIN = ("brick", "grass", "gravel", "rocket", "retina", "hubble_deep_field", "text", "page",
         "cell", "clock", "immunohistochemistry", "microaneurysms", "logo", "horse",
         "colorwheel", "stereo_motorcycle", "china.jpg", "grace_hopper.jpg")
VALIDATION = ("coins", "flower.jpg")
OUT = Path(__file__).resolve().parents[1] / "aekit" / "pretrained" / "photo-denoiser.safetensors"


def load(name):
    """The named offline image as uint8 (h, w) or (h, w, 3) arrays (a stereo pair gives two)."""
    from PIL import Image

    if name in ("china.jpg", "flower.jpg"):
        from sklearn.datasets import load_sample_image

        return [load_sample_image(name)]
    if name == "grace_hopper.jpg":
        import matplotlib.cbook

        return [np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")))]
    import skimage.data

    assert name not in HELD_OUT
    out = getattr(skimage.data, name)()
    arrays = list(out[:2]) if name == "stereo_motorcycle" else [out]
    result = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype == bool:
            a = a.astype(np.uint8) * 255
        if a.ndim == 3 and a.shape[2] == 4:
            a = a[:, :, :3]  # the logo's alpha is not trained on
        result.append(a.astype(np.uint8))
    return result


def write_folder(names, folder):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        for i, a in enumerate(load(name)):
            Image.fromarray(a).save(folder / f"{name.split('.')[0]}_{i}.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=None,
                    help="default with --init: the bundled file (stage 2); stage 1 needs -o")
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--patches", type=int, default=32000)
    ap.add_argument("--features", type=int, default=32)
    ap.add_argument("--depth", type=int, default=7)
    ap.add_argument("--unshuffle", type=int, default=1)
    ap.add_argument("--batch-norm", action="store_true")
    ap.add_argument("--patch-size", type=int, default=48)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--noise", default="gaussian:0-0.22")
    ap.add_argument("--noise-weighting", type=float, default=0.0,
                    help="p of ImageDenoiser(noise_weighting=p): each patch's error divided "
                         "by its noise level to the power p")
    ap.add_argument("--no-residual", action="store_true",
                    help="ablation: predict the clean image instead of the noise")
    ap.add_argument("--threads", type=int, default=1,
                    help="1: on a shared machine two threads were 2x slower than one")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default=None, metavar="MODEL",
                    help="a photo-denoiser file whose network training starts from, made "
                         "--depth deep by identity layers (Net2DeeperNet)")
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    args = ap.parse_args()
    if args.output is None:
        if not args.init:
            ap.error("give -o: the bundled file is stage 2's (--init STAGE1 --depth 9 ...)")
        args.output = str(OUT)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from aekit import load
    from aekit.image_training import report_table, train_on_images

    ckpt = args.checkpoint or str(Path(args.output).with_suffix(".ckpt.safetensors"))
    params = dict(features=args.features, depth=args.depth, noise=args.noise, lr=args.lr,
                  epochs=args.epochs, patches=args.patches, random_state=args.seed,
                  residual=not args.no_residual, unshuffle=args.unshuffle,
                  batch_norm=args.batch_norm, patch_size=args.patch_size,
                  noise_weighting=args.noise_weighting,
                  device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        train_dir, val_dir = Path(tmp) / "train", Path(tmp) / "validation"
        write_folder(TRAIN, train_dir)
        write_folder(VALIDATION, val_dir)
        start = time.time()
        den, rows = train_on_images(train_dir, params, args.output, ckpt,
                                    validation_folder=val_dir,
                                    resume=ckpt if args.resume else None,
                                    net_init=load(args.init, device="cpu").net_
                                    if args.init else None)
    minutes = (time.time() - start) / 60
    for line in report_table(rows):
        print(line)
    n = sum(p.numel() for p in den.net_.parameters())
    print(f"wrote {args.output}: {n:,} parameters, {Path(args.output).stat().st_size / 1e6:.2f} MB;"
          f" trained in {minutes:.1f} min on {args.threads} CPU threads (shared machine)")


if __name__ == "__main__":
    main()
