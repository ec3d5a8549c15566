"""Protocol D2 for the bundled photo-denoiser, as a user meets it, beside the references.

One run (one process) per call; every table's methods are measured in the same run on
the same noisy images (aekit.evaluation.denoise_images.protocol_d2):

    # grey, one sigma per process (the machine is shared: three processes get more of it)
    python scripts/bench_denoise_photos.py --sigma 25 --json d2_25.json
    # colour (CBM3D beside the opponent-channel and the RGB-channel variants), clipped 8-bit
    python scripts/bench_denoise_photos.py --colour --sigma 25 --json d2c_25.json
    # validation side (coins, sklearn's flower): the colour choice; a clean photo in -> out;
    # seconds per megapixel of `aekit denoise` on 3000x2000 grey and colour images
    python scripts/bench_denoise_photos.py --checks --json checks.json
    # Markdown tables from the JSON files
    python scripts/bench_denoise_photos.py --markdown d2_*.json d2c_*.json
    # candidates against the bundled model on the validation images (grey, minus BM3D)
    python scripts/bench_denoise_photos.py --validation-gap bundled p1.safetensors

"aekit denoise (PNG)" is the user's path: each clipped noisy image saved as an 8-bit PNG,
cleaned by `aekit denoise FILE -o OUT.png` with its default (auto) choice of model, and
the 8-bit result read back. "aekit" is the same model called in-process on the same
(8-bit) values, without the output's rounding. Unclipped noise cannot be held by a PNG:
there only the in-process figure exists.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def cli_denoiser(workdir, expect="photo-denoiser"):
    """``function(noisy) -> estimate`` through `aekit denoise` on 8-bit PNG files."""
    from click.testing import CliRunner
    from PIL import Image

    from aekit.cli import cli

    def run(noisy):
        src, out = Path(workdir) / "noisy.png", Path(workdir) / "noisy.denoised.png"
        a = np.round(np.clip(noisy, 0, 1) * 255).astype(np.uint8)
        Image.fromarray(a).save(src)
        r = CliRunner().invoke(cli, ["denoise", str(src), "-o", str(out), "-q"])
        if r.exit_code != 0 or expect not in r.stderr:
            sys.exit(f"aekit denoise failed or chose another model: {r.output}")
        return np.asarray(Image.open(out), dtype=np.float64) / 255.0

    return run


def d2(sigmas, colour, seed, only=None, protocols=("clipped", "unclipped")):
    from aekit import load_pretrained
    from aekit.evaluation.denoise_images import protocol_d2

    den = load_pretrained("photo-denoiser", device="cpu")
    rgb = load_pretrained("photo-denoiser", device="cpu").set_params(colour="rgb")
    one = load_pretrained("photo-denoiser", device="cpu").set_params(self_ensemble=1,
                                                                     colour_self_ensemble=1)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        if colour:
            methods = {"aekit (opponent channels)": den.denoise,
                       "aekit (opponent channels, one pass)": one.denoise,
                       "aekit (R, G, B apart)": rgb.denoise,
                       "aekit denoise (PNG)": cli_denoiser(tmp)}
            return [protocol_d2(methods, sigmas, ("clipped",), colour=True, seed=seed, log=log,
                                only=only)]
        out = []
        if "clipped" in protocols:
            out.append(protocol_d2({"aekit": den.denoise,
                                    "aekit, one pass (self_ensemble=1)": one.denoise,
                                    "aekit denoise (PNG)": cli_denoiser(tmp)},
                                   sigmas, ("clipped",), seed=seed, log=log, only=only))
        if "unclipped" in protocols:
            out.append(protocol_d2({"aekit": den.denoise}, sigmas, ("unclipped",), seed=seed,
                                   log=log, only=only))
    return out


def validation_images():
    import skimage.data
    from sklearn.datasets import load_sample_image

    return {"coins": skimage.data.coins() / 255.0, "flower": load_sample_image("flower.jpg") / 255.0}


def validation_gap(models):
    """Protocol D2 in grey on the validation images (coins; sklearn's flower made grey as D2
    makes its held-out images), clipped 8-bit noise, four flips: each model's mean PSNR and
    its difference from BM3D at the true sigma. ``models``: "bundled" or model files."""
    import bm3d

    from aekit import load, load_pretrained
    from aekit.evaluation.denoise_images import add_noise, psnr

    images = validation_images()
    images["flower"] = images["flower"] @ np.array([0.299, 0.587, 0.114])
    dens = {m: load_pretrained("photo-denoiser", device="cpu") if m == "bundled"
            else load(m, device="cpu") for m in models}
    out = {}
    for sigma in (15, 25, 50):
        scores = {"BM3D": []} | {m: [] for m in dens}
        for k, clean in enumerate(images.values()):
            noisy = add_noise(clean, sigma, 7000 + sigma * 10 + k, True)
            scores["BM3D"].append(psnr(clean, np.clip(bm3d.bm3d(noisy, sigma_psd=sigma / 255),
                                                      0, 1)))
            for m, den in dens.items():
                scores[m].append(psnr(clean, np.clip(den.denoise(noisy), 0, 1)))
        means = {m: float(np.mean(v)) for m, v in scores.items()}
        out[sigma] = means
        print(f"sigma {sigma}: BM3D {means['BM3D']:.2f}; " + "; ".join(
            f"{m} {means[m]:.2f} ({means[m] - means['BM3D']:+.2f})" for m in dens), flush=True)
    return out


def checks(seed):
    """The colour choice on the validation images, a clean photo in -> out, and speed."""
    import torch

    from aekit import load_pretrained
    from aekit.evaluation.denoise_images import add_noise, held_out_images, psnr

    den = load_pretrained("photo-denoiser", device="cpu")
    rgb = load_pretrained("photo-denoiser", device="cpu").set_params(colour="rgb")
    out = {"threads": torch.get_num_threads()}
    flower = validation_images()["flower"]
    out["validation_colour"] = {}
    for sigma in (15, 25, 50):
        noisy = add_noise(flower, sigma, seed, clipped=True)
        out["validation_colour"][sigma] = {
            "noisy": psnr(flower, noisy),
            "opponent": psnr(flower, np.clip(den.denoise(noisy), 0, 1)),
            "rgb": psnr(flower, np.clip(rgb.denoise(noisy), 0, 1))}
    out["clean_in_out"] = {}
    for name, img in {**held_out_images(), **{k + " (colour)": v for k, v in
                                              held_out_images(colour=True).items()}}.items():
        eight = np.round(img * 255) / 255
        out["clean_in_out"][name] = psnr(eight, np.clip(den.denoise(eight), 0, 1))
    out["seconds_per_megapixel"] = speed()
    out["files"] = user_files(seed)
    return out


def user_files(seed, folder="out/photo_files", names=None):
    """`aekit denoise` (auto model) on a colour photo, a 16-bit scan and a 3000x2000 image
    made from held-out images with sigma 25 noise: same size, mode and bit depth, and the
    PSNR before and after (kept in ``folder`` to look at)."""
    import subprocess

    import skimage.data
    from PIL import Image

    from aekit.evaluation.denoise_images import psnr

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    coffee = np.asarray(Image.fromarray(skimage.data.coffee()).resize(
        (3000, 2000), Image.Resampling.BICUBIC), dtype=np.float64) / 255
    cases = {"astronaut_rgb.png": (skimage.data.astronaut() / 255.0, 255, "RGB"),
             "moon_16bit.png": (skimage.data.moon() / 255.0, 65535, "I;16"),
             "coffee_3000x2000.png": (coffee, 255, "RGB")}
    result = {}
    for name, (clean, top, mode) in cases.items():
        if names and name not in names:
            continue
        noisy = np.round(np.clip(clean + rng.standard_normal(clean.shape) * 25 / 255, 0, 1) * top)
        Image.fromarray(noisy.astype(np.uint16 if top > 255 else np.uint8)).save(folder / name)
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "aekit", "denoise", str(folder / name), "-q"],
                           capture_output=True, text=True)
        took = time.perf_counter() - start
        out = Image.open(folder / name.replace(".png", ".denoised.png"))
        back = np.asarray(out, dtype=np.float64) / top
        result[name] = {"exit": r.returncode, "said": r.stderr.strip().splitlines()[0][-90:],
                        "mode": out.mode, "size": list(out.size), "same_form": out.mode == mode
                        and out.size == (clean.shape[1], clean.shape[0]),
                        "psnr_noisy": psnr(clean, noisy / top), "psnr_out": psnr(clean, back),
                        "seconds": round(took, 1)}
    return result


def quick_checks(seed):
    """The lighter checks: a clean photo in -> out (camera, astronaut in colour), the
    model's CPU seconds per megapixel (1000x1000 grey and colour), and `aekit denoise` on
    a 16-bit scan and a 3000x2000 colour image (same form, PSNR before and after)."""
    import torch

    from aekit import load_pretrained
    from aekit.evaluation.denoise_images import held_out_images, psnr

    den = load_pretrained("photo-denoiser", device="cpu")
    out = {"threads": torch.get_num_threads(), "clean_in_out": {}, "cpu_seconds_per_mp": {}}
    for name, img in (("camera", held_out_images()["camera"]),
                      ("astronaut (colour)", held_out_images(colour=True)["astronaut"])):
        eight = np.round(img * 255) / 255
        out["clean_in_out"][name] = psnr(eight, np.clip(den.denoise(eight), 0, 1))
    rng = np.random.default_rng(seed)
    for name, shape in (("grey", (1000, 1000)), ("colour", (1000, 1000, 3))):
        a = rng.random(shape).astype(np.float32)
        start = time.process_time()
        den.denoise(a)
        out["cpu_seconds_per_mp"][name] = time.process_time() - start
    out["load_average"] = __import__("os").getloadavg()
    out["files"] = user_files(seed, names=("moon_16bit.png", "coffee_3000x2000.png"))
    return out


def speed():
    """Wall seconds of `aekit denoise` (whole command, 2 threads) on 3000x2000 images."""
    import subprocess

    from PIL import Image

    rng = np.random.default_rng(0)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode, shape in (("L", (2000, 3000)), ("RGB", (2000, 3000, 3))):
            a = np.clip(rng.normal(0.5, 0.1, shape), 0, 1)  # the time does not depend on it
            src = Path(tmp) / f"big_{mode}.png"
            Image.fromarray((a * 255).astype(np.uint8)).save(src)
            start = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "aekit", "denoise", str(src), "-o",
                                str(Path(tmp) / "out.png"), "-q", "--model", "photo-denoiser"],
                               capture_output=True, text=True)
            took = time.perf_counter() - start
            if r.returncode != 0:
                sys.exit(r.stderr)
            out = Image.open(Path(tmp) / "out.png")
            assert out.size == (3000, 2000) and out.mode == mode
            result[mode] = took / 6.0
    # the model's own work, in CPU seconds (what a shared machine's wall clock hides):
    # on 2 idle cores the wall time is at least half of it
    import torch

    from aekit import load_pretrained

    den = load_pretrained("photo-denoiser", device="cpu")
    for name, shape in (("grey", (2000, 3000)), ("colour", (2000, 3000, 3))):
        a = rng.random(shape).astype(np.float32)
        start = time.process_time()
        den.denoise(a)
        result[f"{name}_cpu_seconds_per_mp"] = (time.process_time() - start) / 6.0
    result["torch_threads"] = torch.get_num_threads()
    result["load_average"] = __import__("os").getloadavg()
    return result


def markdown(files):
    rows = {}
    for f in files:
        doc = json.loads(Path(f).read_text())
        for part in doc if isinstance(doc, list) else [doc]:
            for m in part["means"]:
                key = ("colour" if part["colour"] else "grey", m["protocol"])
                rows.setdefault(key, {}).setdefault(m["method"], {})[m["sigma"]] = (
                    m["psnr"], m["ssim"])
    for (kind, protocol), methods in sorted(rows.items()):
        sigmas = sorted({s for v in methods.values() for s in v})
        print(f"\n{kind}, {protocol}: mean PSNR dB (SSIM)\n")
        print("| method | " + " | ".join(f"sigma {s}" for s in sigmas) + " |")
        print("|---|" + "---:|" * len(sigmas))
        for m, v in methods.items():
            print(f"| {m} | " + " | ".join(
                f"{v[s][0]:.2f} ({v[s][1]:.3f})" if s in v else "" for s in sigmas) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sigma", type=int, action="append")
    ap.add_argument("--colour", action="store_true")
    ap.add_argument("--image", action="append", help="only this held-out image (repeatable; "
                    "one process per image gets more of a shared machine)")
    ap.add_argument("--clipped-only", action="store_true")
    ap.add_argument("--checks", action="store_true")
    ap.add_argument("--quick-checks", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--picture")
    ap.add_argument("--markdown", nargs="+")
    ap.add_argument("--validation-gap", nargs="+", metavar="MODEL",
                    help="the models' gap to BM3D on the validation images in grey "
                         "(\"bundled\" or model files): how candidates are compared")
    args = ap.parse_args()
    if args.markdown:
        return markdown(args.markdown)
    if args.validation_gap:
        return validation_gap(args.validation_gap)
    start = time.time()
    if args.checks or args.quick_checks:
        doc = checks(args.seed) if args.checks else quick_checks(args.seed)
        print(json.dumps(doc, indent=1))
    else:
        results = d2(tuple(args.sigma or (15, 25, 50)), args.colour, args.seed, args.image,
                     ("clipped",) if args.clipped_only else ("clipped", "unclipped"))
        for r in results:
            print(r.table())
        doc = [r.to_dict() for r in results]
        if args.picture:
            from aekit.evaluation.denoise_images import picture

            picture(results[0], args.picture, "clipped", (args.sigma or [25])[0])
    print(f"took {time.time() - start:.0f} s (shared machine)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
