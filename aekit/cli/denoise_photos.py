"""`aekit denoise` for photos and scans: which model each input gets, and the photo path.

Without --model each input is given a model of its own, and stderr says which in one
line: the digit model (mnist-denoiser) when the input is a 28x28 picture, or a small one
(at most 128 pixels a side: MNIST-sized digits and scans of them up to 4x) that it
recognises as a digit (the checks behind the unfamiliar-input warning,
:class:`aekit.denoising.Familiarity`, pass it); the photo denoiser for anything else.
The size bound matters: the model's own check alone passes most real photos (camera,
astronaut, coffee, chelsea and moon score 0.4 to 1.2); the bundled model's other checks
flag all five, whole or shrunk to 100x100 (2026-12-05), but they were made to flag
synthetic non-digits, and the photo denoiser cleans a large digit scan as well as any
other picture. With --model the named model cleans every input. A photo comes back in
its own size, mode and bit depth (:mod:`aekit.photos`), cleaned tile by tile.
"""

from pathlib import Path

import click

DIGIT_MODEL = "mnist-denoiser"
PHOTO_MODEL = "photo-denoiser"
DIGIT_SIDE = 28
DIGIT_MAX_SIDE = 128  # larger pictures go to the photo denoiser (see the module's notes)


def digit_prior_applies(model_path):
    """Whether the bundled digit model's own checks apply (``digit_prior`` of
    :func:`aekit.denoising.familiarity`: the digit VAE's, the ink's, the strokes', the
    ink's aspect and what the denoiser removed): ``--model`` (None: not given) is the
    bundled digit model, whose cleaned frames their limits were measured on, and the VAE
    is installed (the five go together)."""
    from ..denoising import DIGIT_VAE
    from ..errors import ModelFileError
    from ..pretrained import path_of, resolve

    try:
        path_of(DIGIT_VAE)
        return not model_path or Path(resolve(model_path)).resolve() == \
            Path(path_of(DIGIT_MODEL)).resolve()
    except ModelFileError:
        return False


def digit_judge(model_path, device):
    """The bundled digit model, to judge inputs by its checks, when ``model_path`` names
    another bundled model of digits (mnist-detector, mnist-vae), whose own outputs pass
    for digits whatever they were given (an autoencoder of digits draws digits) and whose
    outputs the checks' limits were not measured on; else None (the bundled digit model
    judges itself; a model of the user's own may not be of digits at all)."""
    from ..errors import ModelFileError
    from ..loading import load
    from ..pretrained import MODELS, path_of, resolve

    if not model_path or not digit_prior_applies(None):
        return None
    chosen = Path(resolve(model_path)).resolve()
    for name in MODELS:
        if name.startswith("mnist-") and name != DIGIT_MODEL:
            try:
                if Path(path_of(name)).resolve() == chosen:
                    return load(DIGIT_MODEL, device=device)
            except ModelFileError:  # not installed here
                continue
    return None


def unlike_digit(model, picture, alpha, digit_prior=True):
    """``(part, why)``: which part of an input the digit ``model``'s checks find unlike a
    digit (``"picture"``, ``"transparency"``, or None: neither) and why, for a person.
    With transparency (``alpha``, else None), the alpha channel must look like a digit's
    strokes too: a digit drawn on a transparent background has them there, while a photo
    fading into transparency, flattened onto paper, could pass as a digit alone
    (helper-55)."""
    import numpy as np

    from ..denoising import repair

    shown = [picture] if alpha is None else [picture, alpha]
    _, familiar = repair(model, [np.asarray(p, np.float32) for p in shown],
                         digit_prior=digit_prior)
    flags = familiar.unfamiliar()
    if not flags.any():
        return None, ""
    if flags[0]:
        return "picture", familiar.reason(0)
    return "transparency", f"its transparency does not look like a digit's strokes: " \
        f"{familiar.reason(1)}"


def is_photo_model(model):
    from ..photo_denoiser import ImageDenoiser

    return isinstance(model, ImageDenoiser)


def choose(model_path, sources, pictures, read, device):
    """``(kinds, digit_model, photo_model, said)``: per input ``"digit"`` or ``"photo"``,
    the models loaded for them (None where unused), and the lines that say an automatic
    choice (for stderr, once the inputs are checked: a refusal stays one line).
    ``pictures[i]`` is input i's grey picture and its alpha channel (None: opaque), or None
    (then ``read(i)`` reads them again)."""
    from ..loading import load
    from .options import digit_model

    if model_path:
        model = load(model_path, device=device)
        if is_photo_model(model):
            return ["photo"] * len(sources), None, model, []
        digit_model(model, model_path, "denoise cleans digits")  # or refuses it
        return ["digit"] * len(sources), model, None, []
    digit = load(DIGIT_MODEL, device=device)
    digit_prior = digit_prior_applies(None)
    kinds, said = [], []
    for i, s in enumerate(sources):
        pic, alpha = pictures[i] if pictures[i] is not None else read(i)
        if pic.shape == (DIGIT_SIDE, DIGIT_SIDE):
            kind, why = "digit", "a 28x28 picture"
        elif max(pic.shape) > DIGIT_MAX_SIDE:
            kind, why = "photo", f"larger than {DIGIT_MAX_SIDE} pixels a side: not a digit"
        else:
            unlike, _ = unlike_digit(digit, pic, alpha, digit_prior)
            kind, why = ("digit", "it looks like a digit") if unlike is None else \
                ("photo", "it does not look like a digit" if unlike == "picture" else
                 "its transparency does not look like a digit's strokes")
        kinds.append(kind)
        said.append(f"model for {s}: {DIGIT_MODEL if kind == 'digit' else PHOTO_MODEL} "
                    f"(auto: {why}; --model chooses)")
    photo = load(PHOTO_MODEL, device=device) if "photo" in kinds else None
    return kinds, digit, photo, said


def check_photos(sources, kinds, mask):
    """Read (and so check) every input that goes to the photo denoiser, before anything
    is written; returns their pixel counts (for the progress bar) and the lines noting
    what reading them left out (for stderr, once all are read)."""
    from ..photos import read_photo

    if mask and "photo" in kinds:
        raise click.UsageError("--mask fills digits' missing pixels: use it with a digit model "
                               f"(--model {DIGIT_MODEL})")
    counts, notes = {}, []
    for i, s in enumerate(sources):
        if kinds[i] == "photo":
            if str(s) == "-":
                raise click.UsageError("a photo cannot be read from stdin ('-'): give its file")
            counts[i] = _pixel_count(read_photo(s, notes=notes).pixels)
    return counts, notes


def _pixel_count(pixels):
    """A picture's pixels (h x w), its colour channels counted once."""
    return int(pixels.shape[0] * pixels.shape[1])


def denoise_photos(model, sources, targets, counts, side_by_side, quiet):
    """Clean the inputs of ``counts`` (index -> pixel count) with ``model`` and write them."""
    import numpy as np

    from ..photos import Photo, read_photo, write_photo

    bar = None
    if not quiet and sum(counts.values()) > 1_000_000:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(counts.values()), unit="px", unit_scale=True, desc="denoising",
                   leave=False)
    for i in counts:
        photo = read_photo(sources[i])
        channels = photo.pixels.size // counts[i]  # the model counts each channel's pixels
        clean = model.denoise(photo.pixels, (lambda n: bar.update(n / channels)) if bar
                              else None)
        like, out = photo, clean
        if side_by_side:
            alpha = None if photo.alpha is None else np.hstack([photo.alpha, photo.alpha])
            like = Photo(photo.pixels, alpha, photo.mode, photo.scale, photo.name,
                         photo.icc_profile)
            out = np.hstack([photo.pixels, clean])
        write_photo(out, like, targets[i])
        if targets[i] != "-":
            click.echo(str(targets[i]))
    if bar:
        bar.close()
