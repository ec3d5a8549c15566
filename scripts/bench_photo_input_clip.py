"""Unclipped noise into the bundled photo-denoiser, on the validation images (coins and
sklearn's flower, in grey): fed as it is, against clipped to [0, 1] first (what
ImageDenoiser.denoise does now), beside the clipped 8-bit protocol. PSNR dB, seed 0.

    python scripts/bench_photo_input_clip.py
"""

import numpy as np


def main():
    from skimage.color import rgb2gray

    from aekit import load_pretrained
    from aekit.evaluation.denoise_images import add_noise, psnr
    from bench_denoise_photos import validation_images

    den = load_pretrained("photo-denoiser", device="cpu")
    net = den.net_.eval()  # the fitted network alone, to feed it unclipped values

    def as_is(noisy):
        import torch

        with torch.inference_mode():
            t = torch.from_numpy(np.ascontiguousarray(noisy, dtype=np.float32))[None, None]
            return net(t)[0, 0].numpy()

    for name, img in validation_images().items():
        grey = rgb2gray(img) if img.ndim == 3 else img
        for sigma in (15, 25, 50):
            noisy = add_noise(grey, sigma, 0, clipped=False)
            fed = psnr(grey, np.clip(as_is(noisy), 0, 1))
            clipped_first = psnr(grey, np.clip(den.denoise(noisy), 0, 1))
            eight_bit = psnr(grey, np.clip(den.denoise(add_noise(grey, sigma, 0, clipped=True)),
                                           0, 1))
            print(f"{name} sigma {sigma}: unclipped fed as it is {fed:.2f}, clipped first "
                  f"{clipped_first:.2f} (the clipped 8-bit protocol: {eight_bit:.2f})", flush=True)


if __name__ == "__main__":
    main()
