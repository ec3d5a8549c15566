"""`aekit denoise IMG...`: clean photos and scans (the photo denoiser) and digit images (any
size, mode, polarity) with a digit autoencoder."""

from pathlib import Path

import click

from .options import (
    IMAGE_SUFFIXES, check_output_kind, check_output_path, device_option, model_option,
    output_folder_problem)

SUFFIX = ".denoised.png"
DEFAULT_MODEL = "mnist-denoiser"
BATCH = 256
KEEP_PIXELS = 100_000_000  # inputs kept in memory between checking and denoising


@click.command()
@click.argument("images", nargs=-1, required=True,
                type=click.Path(exists=True, allow_dash=True))
@model_option(default_help="auto: the bundled mnist-denoiser for digits, photo-denoiser for "
                           "anything else (stderr says which)")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Output PNG for a single input ('-' for stdout).")
@click.option("--out-dir", type=click.Path(file_okay=False),
              help="Write every result into this folder (created if needed).")
@click.option("--side-by-side", is_flag=True,
              help="Write input | result side by side instead of the result alone.")
@click.option("--mask", type=click.Path(exists=True, dir_okay=False),
              help="Fill the pixels that are white in this image (same size as the input) "
                   "instead of denoising; the other pixels are kept as they are. Digits "
                   "only (a digit model).")
@click.option("--frame", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True,
              help="Fit the digit into MNIST's 28x28 frame: auto does so for any image "
                   "but a 28x28 one.")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(images, model, output, out_dir, side_by_side, mask, frame, device, quiet):
    """Clean noisy photos, scans and digit images; each result is a PNG of the input's size.

    IMAGES are PNG, JPEG, TIFF or BMP files or folders holding them (not their
    subfolders, which stderr counts). Without --model each input gets a model,
    named on stderr: mnist-denoiser for a digit (a 28x28 picture, or one of at
    most 128x128 pixels that model recognises), the blind photo-denoiser for
    anything else. A photo comes back in its own mode and bit depth (8/16-bit
    grey, RGB, RGBA with the alpha kept; palette images are refused), cleaned
    tile by tile, so any size fits in memory. A digit (dark ink on light paper is
    recognised and kept) is fitted into the 28x28 frame the digit model knows
    (size-normalised into 20x20, centred by its centre of mass), cleaned, and
    mapped back. Results go beside each input as NAME.denoised.png unless
    -o or --out-dir says otherwise; an input is never overwritten. Every input
    is read (and checked) before anything is written.

    A digit model's result comes with a one-line warning on stderr (also under
    -q; the exit status stays 0) when the input does not look like the digits it
    knows: its cleaned version is reconstructed worse than 95% of the model's
    training images, or, with the bundled mnist-denoiser, it is an unlikely digit
    shape, has no clear stroke, is a filled shape rather than pen strokes, lies
    flat (a dash or a bar, wider than tall), or lost a shape rather than noise in
    the cleaning. The line says which checks
    fired; BENCHMARKS.md gives how often each fires on digits and non-digits.

    \b
    Examples:
      aekit denoise photo.png -o clean.png
      aekit denoise noisy.png --model dae.safetensors
      aekit denoise scans/ --out-dir clean/ --side-by-side
      aekit denoise damaged.png --mask holes.png -o repaired.png
    """
    from ..images import list_images

    if output and out_dir:
        raise click.UsageError("give either -o/--output or --out-dir, not both")
    folder_notes = []
    sources = list_images(images, skip_suffix=SUFFIX, notes=folder_notes)
    if output and len(sources) > 1:
        raise click.UsageError(f"-o names one output but there are {len(sources)} inputs; "
                               "use --out-dir")
    if mask and len(sources) > 1:
        raise click.UsageError("--mask applies to a single input image")
    targets = _targets(sources, output, out_dir, side_by_side)
    for t in targets:  # never write over the model or the mask either
        if not (out_dir and not Path(out_dir).is_dir()):  # a folder still to make holds neither
            check_output_path(t, model, mask)
    check_output_kind(output, IMAGE_SUFFIXES, "PNG images")
    run(sources, targets, model, mask, frame, side_by_side, device, quiet, folder_notes)


def _targets(sources, output, out_dir, side_by_side):
    import os

    if output:
        targets = [Path(output) if output != "-" else "-"]
    else:
        targets = []
        for s in sources:
            if str(s) == "-":
                raise click.UsageError("reading stdin ('-') needs -o OUTPUT")
            name = s.name[: -len(s.suffix)] if s.suffix else s.name
            folder = Path(out_dir) if out_dir else s.parent
            targets.append(folder / (name + SUFFIX))
    seen = {}
    real = [s for s in sources if str(s) != "-"]
    inputs = {Path(s).resolve() for s in real}
    inodes = {(st.st_dev, st.st_ino) for st in map(os.stat, real)}  # hard links, too
    for s, t in zip(sources, targets):
        if t == "-":
            continue
        key = t.resolve()
        if key in seen:
            raise click.UsageError(f"{seen[key]} and {s} would both be written to {t}; "
                                   "rename one or use separate runs")
        seen[key] = s
        if key in inputs or (t.exists() and (t.stat().st_dev, t.stat().st_ino) in inodes):
            raise click.UsageError(f"output {t} is an input image; choose another name")
        if t.is_dir():
            raise click.UsageError(f"output {t} is a folder; give a file name")
        problem = None if out_dir else output_folder_problem(t)
        if problem:
            raise click.UsageError(problem)
    return targets


def run(sources, targets, model_path, mask_path, frame, side_by_side, device, quiet,
        folder_notes=()):
    import numpy as np

    from ..denoising import repair
    from ..images import read_image, read_mask, write_png

    pictures, notes = _read_inputs(sources)
    masks = [read_mask(mask_path, pictures[0][0].shape)] if mask_path else None
    # photos and scans (issue 25): which model each input gets, checked before any write
    from .denoise_photos import (
        check_photos, choose, denoise_photos, digit_judge, digit_prior_applies)

    kinds, model, photo_model, said = choose(
        model_path, sources, pictures, lambda i: read_image(sources[i], with_alpha=True),
        device)
    _check_frame(frame, sources, kinds, pictures)
    photo_pixels, photo_notes = check_photos(sources, kinds, mask_path)
    for line in said:
        click.echo(line, err=True)
    for line in (*folder_notes, *photo_notes):
        click.echo(f"note: {line}", err=True)
    digit_prior = digit_prior_applies(model_path)
    digits = [i for i, kind in enumerate(kinds) if kind == "digit"]
    judge = digit_judge(model_path, device) if digits else None
    for i in digits:  # the digit model reads one grey picture: say what that left out
        for line in notes[i]:
            click.echo(f"note: {line}", err=True)
    for t in {Path(t).parent for t in targets if t != "-"}:  # --out-dir, made once all is read
        t.mkdir(parents=True, exist_ok=True)
    bar = None
    if not quiet and len(digits) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(digits), unit="image", desc="denoising", leave=False)
    for start in range(0, len(digits), BATCH):
        idx = digits[start:start + BATCH]
        batch = [pictures[i][0] if pictures[i] is not None else read_image(sources[i])
                 for i in idx]
        results, familiar = repair(model, batch, masks, frame, digit_prior)
        if judge is not None:  # another bundled digit model: judged by the digit model's checks
            _, familiar = repair(judge, batch, masks, frame, digit_prior=True)
        unfamiliar = familiar.unfamiliar()
        if unfamiliar is None and start == 0:
            click.echo("note: the model stores no training quantiles, so inputs unlike its "
                       "training images cannot be flagged", err=True)
        for j, (i, pic, res) in enumerate(zip(idx, batch, results)):
            write_png(np.hstack([pic, res]) if side_by_side else res, targets[i])
            if targets[i] != "-":
                click.echo(str(targets[i]))
            if unfamiliar is not None and unfamiliar[j]:
                click.echo(f"warning: {sources[i]} does not look like the digits this model "
                           f"knows ({familiar.reason(j)}): the result may be meaningless"
                           f"{_hint(pic, frame)}", err=True)
        if bar:
            bar.update(len(batch))
    if bar:
        bar.close()
    if photo_pixels:
        denoise_photos(photo_model, sources, targets, photo_pixels, side_by_side, quiet)


def _check_frame(frame, sources, kinds, pictures):
    """Refuse --frame where no input goes to a digit model, and --frame never for a digit
    input other than 28x28, naming it (before anything is written)."""
    from ..images import SIDE, read_image

    if frame != "auto" and "digit" not in kinds:
        raise click.UsageError(f"--frame says how digits fit MNIST's 28x28 frame; no input here "
                               "goes to a digit model (the photo denoiser takes "
                               f"{'it' if len(sources) == 1 else 'them'}): leave it out")
    for s, kind, p in zip(sources, kinds, pictures):
        if frame != "never" or kind != "digit":
            continue
        h, w = (p[0] if p is not None else read_image(s)).shape
        if (h, w) != (SIDE, SIDE):
            raise click.UsageError(f"{s} is {w}x{h}: --frame never takes 28x28 pictures "
                                   "alone (--frame auto or always re-frames others)")


def _read_inputs(sources):
    """``(pictures, notes)``: every input read (and so checked) before anything is written,
    each picture with its alpha channel (None: opaque) kept while they fit in memory
    (else None: read again), and per input what reading it left out."""
    from ..images import read_image

    pictures, kept, notes = [], 0, []
    for s in sources:
        notes.append([])
        p = read_image(s, notes=notes[-1], with_alpha=True)
        kept += p[0].size
        pictures.append(p if kept <= KEEP_PIXELS or str(s) == "-" else None)
    return pictures, notes


def _hint(picture, frame):
    """What to try: for a 28x28 input taken as an MNIST frame as it is (--frame auto), a
    digit that fills its frame needs re-framing to MNIST's 20x20 box; anything that is
    not a digit, the photo denoiser."""
    photo = "if it is not a digit, try --model photo-denoiser"
    if frame == "auto" and picture.shape == (28, 28):
        return f"; if it is a digit that fills its 28x28 frame, try --frame always; {photo}"
    return f"; {photo}"
