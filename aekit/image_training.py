"""Training an :class:`aekit.photo_denoiser.ImageDenoiser` on a folder of images: the job
behind ``aekit train --images DIR``.

Every image file under the folder (recursively: PNG, JPEG, TIFF, BMP) is read and
checked before training starts; an unreadable one stops the job with one line naming
it. A share of the files (or a folder of their own) is kept for validation: early
stopping watches their patches, and at the end the whole validation images are
measured at three noise levels: the PSNR of the noisy input, of aekit, and of a
classical blind baseline (scikit-image's wavelet denoiser, BayesShrink with the noise
level estimated from the image; Chang, Yu & Vetterli, IEEE TIP 2000).

Checkpoints are model files with the trainer's state (:mod:`aekit.checkpoint`'s
layout), written after every epoch; resuming one continues to the same model, since
the patches and each epoch's noise are drawn from the seed alone.
"""

import contextlib
import math
from pathlib import Path

import numpy as np

from .checkpoint import Checkpointer, check_training_state
from .errors import DataError, ModelFileError
from .loading import checkpoint_progress
from .photo_denoiser import ESTIMATOR, ImageDenoiser

SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
REPORT_SIGMAS = (15, 25, 50)  # of 255


def find_images(folder):
    """The image files under ``folder``, recursively, sorted.

    Raises
    ------
    DataError
        Not a folder, or no image in it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of images")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not found:
        raise DataError(f"{folder} holds no images ({', '.join(SUFFIXES)}, searched recursively)")
    return found


def read_images(paths):
    """The images' pixels (float ``(h, w, c)`` in [0, 1]); alpha is not trained on.

    Raises
    ------
    DataError
        One line naming the first file that cannot be read.
    """
    from .photos import read_photo

    return [read_photo(p).pixels for p in paths]


def split_files(paths, validation_fraction, seed):
    """``(train, validation)``: a seeded share of the files held out (at least one file
    when there are two or more and the fraction is positive)."""
    paths = list(paths)
    if validation_fraction <= 0 or len(paths) < 2:
        return paths, []
    n_val = min(len(paths) - 1, max(1, int(round(len(paths) * validation_fraction))))
    order = np.random.default_rng(seed).permutation(len(paths))
    val = sorted(order[:n_val])
    return [p for i, p in enumerate(paths) if i not in set(val)], [paths[i] for i in val]


def psnr(clean, estimate):
    """PSNR in dB with peak 1: 10 log10(1 / MSE)."""
    mse = float(np.mean((np.asarray(clean, np.float64) - np.asarray(estimate, np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1.0 / mse)


def wavelet_baseline(noisy):
    """scikit-image's blind wavelet denoiser (BayesShrink, sigma estimated), on a plane or
    a colour image (channels apart)."""
    from skimage.restoration import denoise_wavelet

    x = np.asarray(noisy, dtype=np.float64)
    axis = -1 if x.ndim == 3 and x.shape[2] > 1 else None
    return denoise_wavelet(x if axis is not None else x.reshape(x.shape[:2]), method="BayesShrink",
                           mode="soft", rescale_sigma=True, channel_axis=axis)


def validation_report(denoiser, images, sigmas=REPORT_SIGMAS, seed=0):
    """Mean PSNR over ``images`` at each sigma (of 255; clipped 8-bit noisy inputs):
    ``[{"sigma", "noisy", "aekit", "wavelet", "self_ensemble", "colour_self_ensemble"}]``
    (the last two: the flips aekit's figure was measured with, of a grey image and of a
    colour one)."""
    rows = []
    for sigma in sigmas:
        rng = np.random.default_rng(seed + int(sigma))
        scores = {"noisy": [], "aekit": [], "wavelet": []}
        for img in images:
            img = np.asarray(img, dtype=np.float32)
            noisy = img + rng.standard_normal(img.shape).astype(np.float32) * (sigma / 255)
            noisy = np.round(np.clip(noisy, 0, 1) * 255) / 255
            scores["noisy"].append(psnr(img, noisy))
            scores["aekit"].append(psnr(img, np.clip(denoiser.denoise(noisy), 0, 1)))
            base = wavelet_baseline(noisy).reshape(img.shape)
            scores["wavelet"].append(psnr(img, np.clip(base, 0, 1)))
        rows.append({"sigma": sigma, **{k: float(np.mean(v)) for k, v in scores.items()},
                     "self_ensemble": int(denoiser.self_ensemble),
                     "colour_self_ensemble": int(denoiser.colour_self_ensemble)})
    return rows


def report_table(rows):
    """The validation report as text lines (none without rows)."""
    if not rows:
        return []
    lines = ["validation PSNR (dB, clipped 8-bit noise): sigma  noisy  aekit  wavelet"]
    for r in rows:
        lines.append(f"  {r['sigma']:>5g}/255  {r['noisy']:6.2f}  {r['aekit']:6.2f}  "
                     f"{r['wavelet']:6.2f}")
    return lines


def read_image_checkpoint(path):
    """``(params, data, resume)`` of an image denoiser's checkpoint.

    Raises
    ------
    ModelFileError
        Not a model file, or not an image denoiser's training checkpoint.
    """
    from .model_file import read_model_file
    from .nn.fitting import Resume

    doc, tensors = read_model_file(path)
    state = doc.get("training_state")
    if doc["estimator"] != ESTIMATOR or not state or not isinstance(doc.get("data"), dict):
        raise ModelFileError(f"{path} is not a checkpoint of an image denoiser's training")
    try:
        net = ImageDenoiser.from_state(doc, tensors, device="cpu").net_  # (fits its config)
        check_training_state(state, tensors, net)
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as e:
        raise ModelFileError(f"{path} is a damaged checkpoint ({str(e).splitlines()[0]})") from None
    net = {k[len("net.0."):]: v for k, v in tensors.items() if k.startswith("net.0.")}
    trainer = {k[len("train."):]: v for k, v in tensors.items() if k.startswith("train.")}
    params = {k: v for k, v in doc["params"].items() if k in ImageDenoiser().get_params()}
    return params, doc["data"], Resume(net, trainer, state)


def train_on_images(folder, params, output, checkpoint, validation_fraction=0.1,
                    validation_folder=None, resume=None, verbose=True, log=print,
                    net_init=None):
    """The whole job: read and check the images, train, write ``output``, report.

    ``params``: :class:`ImageDenoiser` parameters; ``resume``: a checkpoint path (its own
    folder, split and parameters are used); ``net_init``: the network to start from
    (:meth:`ImageDenoiser.fit`; a resumed checkpoint holds its own). Returns
    ``(denoiser, report rows)``.

    Raises
    ------
    DataError, ModelFileError
        Unreadable images, no images, or a bad checkpoint (one line).
    """
    state = None
    if resume is not None:
        params, data, state = read_image_checkpoint(resume)
        folder, validation_folder = data["folder"], data.get("validation_folder")
        validation_fraction = data["validation_fraction"]
        log(f"Resuming {resume} {checkpoint_progress(state.trainer_meta['epoch'])}.")
    paths = find_images(folder)
    if validation_folder:
        train_paths, val_paths = paths, find_images(validation_folder)
    else:
        train_paths, val_paths = split_files(paths, validation_fraction,
                                             params.get("random_state", 0))
    if resume is not None and [str(p) for p in train_paths] != data["train_files"]:
        raise DataError(f"the images under {folder} are not those the checkpoint was trained on")
    train_images, val_images = read_images(train_paths), read_images(val_paths)
    log(f"training on {len(train_paths)} image{'s' if len(train_paths) != 1 else ''}"
        + (f", validating on {len(val_paths)}" if val_paths else " (no validation images)"))
    den = ImageDenoiser(**params)
    data = {"folder": str(folder), "validation_folder": validation_folder and
            str(validation_folder), "validation_fraction": validation_fraction,
            "train_files": [str(p) for p in train_paths]}
    den.fit(train_images, val_images or None, callback=Checkpointer(den, checkpoint, data),
            resume=state, verbose=verbose, net_init=net_init)
    rows = validation_report(den, val_images) if val_images else []
    den.save(output, evaluation={"validation": rows} if rows else None)
    with contextlib.suppress(FileNotFoundError):  # (as --checkpoint's help says)
        Path(checkpoint).unlink()
    return den, rows
