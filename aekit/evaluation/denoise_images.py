"""Protocol D2 (docs/protocols.md): denoising photos, beside the classical methods.

The held-out images (scikit-image's camera, astronaut, coffee, chelsea, moon) as
greyscale floats in [0, 1] (ITU-R 601 weights), additive Gaussian noise at sigma 15, 25
and 50 of 255 with a fixed seed, measured unclipped and clipped to 8 bits (rounded to
k/255, as a user's PNG holds it). Every method's estimate is clipped to [0, 1] before
PSNR (peak 1) and SSIM (scikit-image, data range 1) are taken. The references run in
the same process on the same noisy images:

- the noisy input; a 3x3 median filter (scipy);
- scikit-image's ``denoise_tv_chambolle`` (weight = ``TV_WEIGHT`` x sigma: the function
  documents no rule; the factor was chosen on the training side's validation images),
  ``denoise_wavelet`` (BayesShrink, soft thresholds, told sigma) and
  ``denoise_nl_means`` (fast mode, 5x5 patches, 13x13 search window, h = 0.8 sigma and
  sigma given, as its documentation advises);
- BM3D (Dabov et al., IEEE TIP 2007; the ``bm3d`` package, told the true sigma) when
  the package is installed; otherwise it is skipped and the result says so.

The colour version keeps astronaut, coffee and chelsea in RGB and puts CBM3D
(``bm3d.bm3d_rgb``) beside the model; the other references then work on each channel
(median, TV) or with scikit-image's own colour handling (wavelet: YCbCr; NL-means:
colour patches).
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

HELD_OUT = ("camera", "astronaut", "coffee", "chelsea", "moon")
SIGMAS = (15, 25, 50)
PROTOCOLS = ("unclipped", "clipped")
TV_WEIGHT = 0.75  # x sigma (see the module's notes; scripts/bench_denoise_photos.py --tune-tv)
REFERENCES = ("Published, Set12 at sigma 25 (Zhang et al., IEEE TIP 2017): BM3D 29.97 dB, "
              "DnCNN 30.44 dB; a different image set, for scale only.")


def held_out_images(colour=False):
    """``{name: float64 image in [0, 1]}``: greyscale ``(h, w)``, or with ``colour`` the
    colour ones as ``(h, w, 3)`` (camera and moon are grey and left out)."""
    import skimage.data

    out = {}
    for name in HELD_OUT:
        a = getattr(skimage.data, name)().astype(np.float64) / 255.0
        if a.ndim == 3:
            out[name] = a[:, :, :3] if colour else a[:, :, :3] @ np.array([0.299, 0.587, 0.114])
        elif not colour:
            out[name] = a
    return out


def add_noise(clean, sigma, seed, clipped):
    """``clean`` + sigma/255 N(0, 1) (seeded); ``clipped``: clipped and rounded to k/255."""
    rng = np.random.default_rng(seed)
    noisy = clean + rng.standard_normal(clean.shape) * (sigma / 255.0)
    return np.round(np.clip(noisy, 0, 1) * 255) / 255 if clipped else noisy


def bm3d_available():
    try:
        import bm3d  # noqa: F401
    except ImportError:
        return False
    return True


def references(sigma, colour=False, with_bm3d=True):
    """``{name: function(noisy) -> estimate}`` of the classical methods at ``sigma`` (/255)."""
    from scipy.ndimage import median_filter
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    s = sigma / 255.0
    axis = -1 if colour else None
    size = (3, 3, 1) if colour else 3
    methods = {
        "noisy": lambda z: z,
        "median 3x3": lambda z: median_filter(z, size=size, mode="reflect"),
        "TV (Chambolle)": lambda z: denoise_tv_chambolle(z, weight=TV_WEIGHT * s,
                                                         channel_axis=axis),
        "wavelet (BayesShrink)": lambda z: denoise_wavelet(
            z, sigma=s, method="BayesShrink", mode="soft", rescale_sigma=True,
            channel_axis=axis, convert2ycbcr=colour),
        "NL-means": lambda z: denoise_nl_means(z, h=0.8 * s, sigma=s, fast_mode=True,
                                               patch_size=5, patch_distance=6,
                                               channel_axis=axis),
    }
    if with_bm3d and bm3d_available():
        import bm3d

        methods["CBM3D" if colour else "BM3D"] = (
            (lambda z: bm3d.bm3d_rgb(z, sigma_psd=s)) if colour
            else (lambda z: bm3d.bm3d(z, sigma_psd=s)))
    return methods


def psnr(clean, estimate):
    mse = float(np.mean((clean - estimate) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def ssim(clean, estimate):
    from skimage.metrics import structural_similarity

    return float(structural_similarity(clean, estimate, data_range=1.0,
                                       channel_axis=-1 if clean.ndim == 3 else None))


@dataclass
class D2Result:
    """Figures by ``(protocol, sigma, method, image) -> (psnr, ssim, seconds)``."""

    images: tuple
    colour: bool
    scores: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # (protocol, sigma, method) -> a crop

    def methods(self):
        seen = []
        for (_, _, m, _) in self.scores:
            if m not in seen:
                seen.append(m)
        return seen

    def mean(self, protocol, sigma, method, index=0):
        vals = [self.scores[(protocol, sigma, method, im)][index] for im in self.images
                if (protocol, sigma, method, im) in self.scores]
        return float(np.mean(vals)) if vals else math.nan

    def table(self):
        """The figures as text: per protocol and sigma, PSNR / SSIM per image and mean."""
        lines = []
        short = [im[:9] for im in self.images]
        for protocol in PROTOCOLS:
            sigmas = sorted({s for (p, s, _, _) in self.scores if p == protocol})
            for sigma in sigmas:
                lines.append(f"\n{'colour' if self.colour else 'grey'}, sigma {sigma}/255, "
                             f"{protocol}: PSNR dB (SSIM)")
                lines.append(f"  {'method':<24}" + "".join(f"{s:>16}" for s in short)
                             + f"{'mean':>16}")
                for m in self.methods():
                    if (protocol, sigma, m, self.images[0]) not in self.scores:
                        continue
                    cells = [self.scores[(protocol, sigma, m, im)][:2] for im in self.images]
                    lines.append(f"  {m:<24}" + "".join(f"{p:8.2f} ({q:.3f})" for p, q in cells)
                                 + f"{self.mean(protocol, sigma, m):8.2f} "
                                   f"({self.mean(protocol, sigma, m, 1):.3f})")
        for s in self.skipped:
            lines.append(f"skipped: {s}")
        return "\n".join(lines)

    def to_dict(self):
        return {"protocol": "D2", "colour": self.colour, "images": list(self.images),
                "skipped": self.skipped,
                "scores": [{"protocol": p, "sigma": s, "method": m, "image": im,
                            "psnr": v[0], "ssim": v[1], "seconds": v[2]}
                           for (p, s, m, im), v in self.scores.items()],
                "means": [{"protocol": p, "sigma": s, "method": m,
                           "psnr": self.mean(p, s, m), "ssim": self.mean(p, s, m, 1)}
                          for p in PROTOCOLS for s in SIGMAS for m in self.methods()
                          if (p, s, m, self.images[0]) in self.scores]}


def protocol_d2(denoisers, sigmas=SIGMAS, protocols=PROTOCOLS, colour=False, seed=0,
                with_bm3d=True, log=None, only=None):
    """Run protocol D2: ``denoisers`` (``{name: function(noisy) -> estimate}``, e.g. aekit's
    model) beside the references, on the same noisy images. ``only``: the names of the
    images to run (each image's noise is the same as in a run of all five). Returns a
    :class:`D2Result`.
    """
    images = {k: v for k, v in held_out_images(colour).items() if not only or k in only}
    result = D2Result(tuple(images), colour)
    if with_bm3d and not bm3d_available():
        result.skipped.append("BM3D: the bm3d package is not installed (pip install "
                              "'aekit[bench]')")
    for protocol in protocols:
        for sigma in sigmas:
            methods = {**references(sigma, colour, with_bm3d), **denoisers}
            for k, (name, clean) in enumerate(images.items()):
                noisy = add_noise(clean, sigma, seed * 1000 + sigma * 10 + HELD_OUT.index(name),
                                  protocol == "clipped")
                for method, fn in methods.items():
                    start = time.perf_counter()
                    est = np.clip(np.asarray(fn(noisy), dtype=np.float64).reshape(clean.shape),
                                  0, 1)
                    took = time.perf_counter() - start
                    result.scores[(protocol, sigma, method, name)] = (
                        psnr(clean, est), ssim(clean, est), took)
                    if k == 0:
                        result.examples[(protocol, sigma, method)] = _crop(est)
                    result.examples.setdefault((protocol, sigma, "clean"), _crop(clean))
            if log:
                log(f"{protocol} sigma {sigma}: " + ", ".join(
                    f"{m} {result.mean(protocol, sigma, m):.2f}" for m in methods))
    return result


def _crop(a, size=192):
    h, w = a.shape[:2]
    y, x = max(0, h // 2 - size // 2 - h // 8), max(0, w // 2 - size // 2)
    return a[y:y + size, x:x + size]


def picture(result, path, protocol="clipped", sigma=None):
    """A PNG: a crop of the first image, clean and each method's estimate, PSNR in titles,
    at noise level ``sigma`` (of 255; default 25 where it was run, else the lowest run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..atomic import atomic_path

    if sigma is None:
        run = sorted({k[1] for k in result.examples if k[0] == protocol})
        sigma = 25 if 25 in run or not run else run[0]
    names = ["clean"] + result.methods()
    names = [n for n in names if (protocol, sigma, n) in result.examples]
    fig, axes = plt.subplots(1, len(names), figsize=(2.2 * len(names), 2.6))
    for ax, n in zip(np.atleast_1d(axes), names):
        crop = result.examples[(protocol, sigma, n)]
        ax.imshow(np.clip(crop, 0, 1), cmap=None if crop.ndim == 3 else "gray", vmin=0, vmax=1)
        title = n if n == "clean" else \
            f"{n}\n{result.scores[(protocol, sigma, n, result.images[0])][0]:.2f} dB"
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.suptitle(f"{result.images[0]}, sigma {sigma}/255, {protocol}", fontsize=9)
    fig.tight_layout()
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return path
