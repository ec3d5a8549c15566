"""Re-create samples/noisy_photo.png: a 256x256 colour crop of scikit-image's astronaut
(one of protocol D2's held-out images, so no model was trained on it) with Gaussian noise
of sigma 25/255, clipped and rounded to 8 bits (seed 0), for README's before/after.

    python scripts/make_photo_sample.py
"""

from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "samples" / "noisy_photo.png"


def main():
    clean = skimage.data.astronaut()[40:296, 140:396].astype(np.float64) / 255
    noisy = clean + np.random.default_rng(0).standard_normal(clean.shape) * 25 / 255
    Image.fromarray(np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)).save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
