"""ImageDenoiser: a blind denoiser for photos and scans of any size, grey or colour.

The network (:mod:`aekit.nn.image_denoiser`: residual noise prediction as in DnCNN,
optionally at half resolution as in FFDNet) is trained on random patches of clean images with
Gaussian noise of a random level added (``noise="gaussian:0-0.22"``: sigma from 0 to
56 of 255, so one model serves every level in that range, and a clean image, sigma 0,
comes back nearly as it was). Whole images are cleaned tile by tile with overlapping
margins at least the network's reach (tiles start on multiples of 8, which ``unshuffle``
divides), so the result equals that of one pass over
the whole image while memory stays bounded (:meth:`ImageDenoiser.denoise`). Each tile
is cleaned in four flips (as it is, turned 180 degrees, mirrored left-right, mirrored
top-bottom), flipped back and averaged (``self_ensemble=4``: the geometric self-ensemble
of Timofte, Rothe & Van Gool, "Seven ways to improve example-based single image super
resolution", CVPR 2016, and of EDSR; Lim et al., CVPRW 2017): a network's errors differ
between flips while the image does not. On the validation images (coins, sklearn's
flower in grey) it gained 0.14-0.24 dB at sigma 15, 0.11-0.20 at 25 and 0.13-0.22 at 50
over one pass, for four times the network's work; the eight flips and transposes gained
0.02-0.04 dB more for twice that. On protocol D2's held-out images the four flips gained
0.11-0.16 dB (BENCHMARKS.md).

Colour (``colour="opponent"``): the image is turned into one luminance and two
chroma channels by an orthogonal transform (:func:`aekit.photos.to_opponent`) and each
is cleaned by the same greyscale network, the luminance in ``colour_self_ensemble``
flips (2 by default, for speed), the smooth chroma channels in one pass (the flips gain
least there: with the 7-layer network, +0.11 dB on the validation photo with the
luminance's alone, +0.17 with all three, at twice the time); ``colour="rgb"`` cleans R, G
and B apart, each in ``colour_self_ensemble`` flips.
Pixels are float in [0, 1]; noise levels are fractions of that range (0.1 = 25.5/255).

    >>> den = ImageDenoiser(epochs=10).fit(images)       # doctest: +SKIP
    >>> clean = den.denoise(noisy)                        # doctest: +SKIP
"""

import numbers
import time

import numpy as np

from .nn.image_denoiser import ImageDenoiserConfig

COLOURS = ("opponent", "rgb")
# the flips of a tile (n, 1, h, w) that self_ensemble=k averages: its first k, by the
# dimensions each flips (every one is its own inverse)
FLIPS = {1: ((),), 2: ((), (2, 3)), 4: ((), (2, 3), (3,), (2,))}
ESTIMATOR = "ImageDenoiser"


class ImageDenoiser:
    """A blind image denoiser (see the module's notes).

    Parameters
    ----------
    features, depth, unshuffle, batch_norm, residual
        The network (:class:`aekit.nn.image_denoiser.ImageDenoiserConfig`); defaults
        32 channels, 7 convolutions, full resolution, no batch norm, residual (the shape
        the bundled photo-denoiser was first trained in, before it was deepened to 9 and
        fine-tuned: ``fit``'s ``net_init``; ``unshuffle=2`` is FFDNet's half resolution).
    noise : str, default="gaussian:0-0.22"
        The corruption trained on (:mod:`aekit.nn.noise`); a range is blind training.
    patch_size : int, default=48
        Side of the square training patches (pixels).
    patches : int, default=8000
        Training patches (drawn once; each epoch draws new noise for them).
    validation_patches : int, default=512
        Patches of the validation images, for early stopping.
    epochs, batch_size, lr, lr_schedule, patience
        Defaults 3, 32, 0.001, "onecycle", 5; as for :class:`aekit.Autoencoder`; lr_schedule "onecycle" (the default) runs all
        epochs, "plateau" stops after ``patience`` epochs without improvement.
    chroma_weight : float, default=0.25
        Sampling weight of colour images' chroma channels against their luminance.
    noise_weighting : float, default=0.0
        p: each training patch's squared error is divided by its noise level to the
        power p (:class:`aekit.nn.image_denoiser.NoiseWeightedLoss`); 0 is plain mean
        squared error, under which heavy noise dominates a blind model's training. The
        bundled model uses 0: p = 1 and 2 did no better on grey validation images
        (BENCHMARKS.md).
    colour : {"opponent", "rgb"}, default="opponent"
        How colour images are cleaned (see the module's notes).
    tile : int, default=768
        Side of the tiles whole images are cleaned in (pixels, a multiple of 8), each
        with a margin of the network's reach. The side hardly matters to the time (4.9-5.2
        s per megapixel for four flips at 512, 768 and 1024 on 3000x2000 with 2 threads:
        scripts/bench_photo_inference.py); memory grows with its square (about 80 MB per
        hidden layer's output at 768 and 32 channels).
    self_ensemble : {1, 2, 4}, default=4
        Flips of each tile of a grey image cleaned and averaged (see the module's notes):
        1 is one pass, 2 adds the tile turned 180 degrees, 4 adds its two mirror images;
        the time grows in proportion.
    colour_self_ensemble : {1, 2, 4}, default=2
        The same for a colour image's luminance (``colour="rgb"``: for each of R, G and
        B); the chroma channels get one pass. 2, so that a colour image takes four passes
        of the network in all: with six (four flips) the bundled 9-layer network took
        10.2-10.6 s per megapixel on 3000x2000 colour with 2 threads (whole command; 7.1
        with two), over the 10 s aimed at,
        and on the validation photo (sklearn's flower) four flips of the luminance gained
        0.00-0.02 dB over two (2026-12-05).
    random_state : int, default=0
    device : str, default="auto"
    """

    def __init__(self, features=32, depth=7, unshuffle=1, batch_norm=False, residual=True,
                 noise="gaussian:0-0.22", patch_size=48, patches=8000, validation_patches=512,
                 epochs=3, batch_size=32, lr=1e-3, lr_schedule="onecycle", patience=5,
                 chroma_weight=0.25, noise_weighting=0.0, colour="opponent", tile=768,
                 self_ensemble=4, colour_self_ensemble=2, random_state=0, device="auto"):
        self.features, self.depth, self.unshuffle = features, depth, unshuffle
        self.batch_norm, self.residual, self.noise = batch_norm, residual, noise
        self.patch_size, self.patches, self.validation_patches = patch_size, patches, \
            validation_patches
        self.epochs, self.batch_size, self.lr = epochs, batch_size, lr
        self.lr_schedule, self.patience, self.chroma_weight = lr_schedule, patience, chroma_weight
        self.noise_weighting = noise_weighting
        self.colour, self.tile, self.self_ensemble = colour, tile, self_ensemble
        self.colour_self_ensemble = colour_self_ensemble
        self.random_state, self.device = random_state, device

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in (
            "features", "depth", "unshuffle", "batch_norm", "residual", "noise", "patch_size",
            "patches", "validation_patches", "epochs", "batch_size", "lr", "lr_schedule",
            "patience", "chroma_weight", "noise_weighting", "colour", "tile", "self_ensemble",
            "colour_self_ensemble", "random_state", "device")}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    # -- checks -------------------------------------------------------------
    def _check_params(self):
        from .nn.noise import parse_noise

        if self.colour not in COLOURS:
            raise ValueError(f"colour must be one of {COLOURS}, got {self.colour!r}")
        self._check_inference_params()
        if not (isinstance(self.patch_size, int) and self.patch_size >= 8
                and self.patch_size % self.unshuffle == 0):
            raise ValueError(f"patch_size must be an integer >= 8 and a multiple of unshuffle, "
                             f"got {self.patch_size!r}")
        for name in ("patches", "epochs", "batch_size"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if parse_noise(self.noise) is None:
            raise ValueError("noise must name a corruption to train on, e.g. gaussian:0-0.22")
        w = self.noise_weighting
        if isinstance(w, bool) or not isinstance(w, numbers.Real) or not 0 <= w <= 4:
            raise ValueError(f"noise_weighting must be a number in [0, 4], got {w!r}")
        return self.config()

    def _check_inference_params(self):
        if not (isinstance(self.tile, int) and self.tile >= 64 and self.tile % 8 == 0):
            raise ValueError(f"tile must be a multiple of 8, at least 64, got {self.tile!r}")
        for name in ("self_ensemble", "colour_self_ensemble"):
            k = getattr(self, name)
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) not in FLIPS:
                raise ValueError(f"{name} must be one of {tuple(FLIPS)}, got {k!r}")

    def config(self):
        return ImageDenoiserConfig(self.features, self.depth, self.unshuffle, self.batch_norm,
                                   self.residual)

    # -- training -------------------------------------------------------------
    def fit(self, images, validation_images=None, callback=None, resume=None, verbose=False,
            net_init=None):
        """Train on clean ``images`` (arrays ``(h, w)`` or ``(h, w, 1|3)`` in [0, 1]).

        ``validation_images`` (same form) give the patches early stopping and the reported
        validation loss are measured on; ``callback(trainer, report)`` runs after every
        epoch (e.g. a checkpoint writer); ``resume`` (:class:`aekit.nn.fitting.Resume`)
        continues an interrupted run. ``net_init`` (an
        :class:`aekit.nn.image_denoiser.ImageDenoiserNet`, e.g. another fitted denoiser's
        ``net_``) is the network training starts from instead of a random one, made
        ``depth`` deep by identity layers (:func:`aekit.nn.image_denoiser.deepen`); the
        bundled photo-denoiser was fine-tuned so from a shallower one. Returns self, with
        ``net_``, ``history_`` and ``summary_``.

        Raises
        ------
        ValueError
            Bad parameters, no image as large as a patch, or a ``net_init`` that is not an
            ``ImageDenoiserNet``, of another width, resolution or output, with batch norm,
            or deeper than ``depth``.
        """
        import torch

        from .device import resolve_device
        from .image_patches import image_planes, sample_patches
        from .nn.config import TrainConfig
        from .nn.fitting import EpochBar
        from .nn.image_denoiser import ImageDenoiserNet, NoiseWeightedLoss
        from .nn.noise import parse_noise
        from .nn.training import Trainer

        config = self._check_params()
        init_state = None if net_init is None else _deepened_state(net_init, config)
        start = time.perf_counter()
        seed = int(self.random_state)
        planes = image_planes(images, self.chroma_weight)
        X = torch.from_numpy(sample_patches(planes, self.patches, self.patch_size, seed))
        X_val = None
        if validation_images:
            X_val = torch.from_numpy(sample_patches(
                image_planes(validation_images, self.chroma_weight), self.validation_patches,
                self.patch_size, seed + 1, images="validation image"))
        train = TrainConfig("adam", float(self.lr), 0.9, 0.0, self.batch_size, self.epochs,
                            self.patience, max(1, self.patience // 2), self.lr_schedule, seed)
        device = resolve_device(self.device)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            noise, objective = parse_noise(self.noise), None
            if self.noise_weighting:
                objective = NoiseWeightedLoss(noise, float(self.noise_weighting))
            trainer = Trainer(ImageDenoiserNet(config), train, device, noise=noise, clip=True,
                              objective=objective)
        trainer.job_start = start  # (set back by a checkpoint's seconds when resumed)
        if net_init is not None and resume is None:
            trainer.net.load_state_dict(init_state)
        if resume is not None:
            trainer.net.load_state_dict({k: torch.as_tensor(v) for k, v in resume.net.items()})
            trainer.load_state_dict(resume.trainer_tensors, resume.trainer_meta)
        bar = EpochBar(train.epochs, trainer.epoch, "training") if verbose else None
        try:
            trainer.fit(X, X_val, callback=_chain(bar and bar.update, callback))
        finally:
            if bar:
                bar.close()
        self.net_ = trainer.net.eval()
        self.history_ = trainer.history
        self.summary_ = {"epochs": trainer.epoch, "stopped_early": trainer.stopped_early,
                         "train_patches": int(len(X)),
                         "validation_patches": 0 if X_val is None else int(len(X_val)),
                         "seconds": round(time.perf_counter() - trainer.job_start, 1)}
        if net_init is not None:
            self.summary_["deepened_from"] = int(net_init.config.depth)
        self._fast = None
        return self

    # -- denoising ------------------------------------------------------------
    def denoise(self, pixels, progress=None):
        """Clean ``pixels``: float ``(h, w)`` or ``(h, w, c)`` (c = 1 or 3) in [0, 1];
        values outside it (unclipped noise) are clipped first, as the noisy patches were
        in training and as an image file holds them (on the validation images, unclipped
        noise at sigma 50 came out 2.4-6.1 dB worse fed as it is). Returns float32 of the
        same shape (not clipped). ``progress(n)`` is called with the number of pixels
        finished after each tile (channels counted apart).

        Raises
        ------
        ValueError
            Not fitted, an array of another shape or of integers (not floats in [0, 1]),
            or a ``tile``, ``self_ensemble`` or ``colour_self_ensemble`` that is not one of
            the allowed values.
        """
        self._check_inference_params()
        kind = np.asarray(pixels).dtype
        if not np.issubdtype(kind, np.floating):  # 0..255 read as [0, 1] would come out white
            raise ValueError(f"pixels must be floats in [0, 1], got {kind} values: divide "
                             f"8-bit pixels by 255 (16-bit by 65535) first")
        x = np.asarray(pixels, dtype=np.float32)
        if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[2] not in (1, 3)) or x.size == 0:
            raise ValueError(f"pixels must be (h, w) or (h, w, 1|3), got shape {x.shape}")
        x = np.clip(x, 0.0, 1.0)
        if x.ndim == 2:
            return self.denoise_plane(x, progress)
        if x.shape[2] == 1:
            return self.denoise_plane(x[:, :, 0], progress)[:, :, None]
        from .photos import from_opponent, to_opponent

        opp = self.colour == "opponent"
        planes = to_opponent(x) if opp else x
        k = int(self.colour_self_ensemble)
        out = np.stack([self.denoise_plane(planes[:, :, i], progress,
                                           flips=k if i == 0 or not opp else 1)
                        for i in range(3)], axis=2)
        return from_opponent(out) if opp else out

    def denoise_plane(self, plane, progress=None, flips=None):
        """Clean one float plane ``(h, w)``, tile by tile, each tile in ``flips`` flips
        (1, 2 or 4; None: ``self_ensemble``), as the module's notes say. Returns float32
        ``(h, w)`` (not clipped).

        Raises
        ------
        ValueError
            Not fitted, or a ``tile``, ``self_ensemble``, ``colour_self_ensemble`` or
            ``flips`` that is not allowed.
        """
        import torch

        self._check_inference_params()
        k = self.self_ensemble if flips is None else flips
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or int(k) not in FLIPS:
            raise ValueError(f"flips must be one of {tuple(FLIPS)}, got {k!r}")
        views = FLIPS[int(k)]
        net = self._inference_net()
        s = net.config.unshuffle
        h, w = plane.shape
        ph, pw = -h % s, -w % s
        x = np.pad(plane, ((0, ph), (0, pw)), mode="reflect" if min(h, w) > s else "edge")
        margin = -(-net.config.reach // 8) * 8  # at least the reach: tiles join exactly
        out = np.empty_like(x)
        device = next(net.parameters()).device
        with torch.inference_mode():
            for y0 in range(0, x.shape[0], self.tile):
                for x0 in range(0, x.shape[1], self.tile):
                    y1, x1 = min(y0 + self.tile, x.shape[0]), min(x0 + self.tile, x.shape[1])
                    a, b = max(0, y0 - margin), max(0, x0 - margin)
                    c, d = min(x.shape[0], y1 + margin), min(x.shape[1], x1 + margin)
                    t = torch.from_numpy(np.ascontiguousarray(x[a:c, b:d]))[None, None]
                    t = t.to(device)
                    r = 0
                    for dims in views:  # one at a time: a quarter of the memory, as fast
                        v = net((t.flip(dims) if dims else t).contiguous(
                            memory_format=torch.channels_last))
                        r = r + (v.flip(dims) if dims else v)
                    r = (r / len(views))[0, 0].cpu().numpy()
                    out[y0:y1, x0:x1] = r[y0 - a:y1 - a, x0 - b:x1 - b]
                    if progress:
                        progress((y1 - y0) * (x1 - x0) * (h * w) / x.size)
        return out[:h, :w]

    def _inference_net(self):
        from .nn.image_denoiser import fold_batch_norm

        if not hasattr(self, "net_"):
            raise ValueError("this ImageDenoiser is not fitted yet: call fit first")
        if getattr(self, "_fast", None) is None:
            # NHWC: oneDNN's CPU convolutions ran 1.7-2x faster (0.93 against 1.9 s per
            # megapixel on 2 cores; the outputs differ by about 1e-6)
            import torch

            self._fast = fold_batch_norm(self.net_).to(memory_format=torch.channels_last)
        return self._fast

    def describe(self, doc=None):
        """Lines for `aekit info`: the network, training and figures of a fitted denoiser."""
        import json

        c = self.net_.config
        n = sum(p.numel() for p in self.net_.parameters())
        lines = [f"architecture: fully convolutional image denoiser, {c.depth} 3x3 convolutions "
                 f"of {c.features} channels at 1/{c.unshuffle} resolution"
                 + (", batch norm" if c.batch_norm else "")
                 + (", residual (predicts the noise)" if c.residual else ""),
                 f"parameters: {n:,}",
                 "input: images of any size, grey or colour ("
                 + ("a luminance and two colour-difference channels, each cleaned apart"
                    if self.colour == "opponent" else "R, G and B cleaned apart")
                 + f"), pixels in [0, 1], each tile cleaned in {self.self_ensemble} flip"
                 + ("s and averaged" if self.self_ensemble != 1 else "")
                 + (f" (a colour image's luminance in {self.colour_self_ensemble})"
                    if self.colour == "opponent" else
                    f" (each channel of a colour image in {self.colour_self_ensemble})")
                 + f"; trained on noise {self.noise} (as a fraction of the full range: 0.1 "
                 "is sigma 25.5 of 255)"
                 + (f", each patch's error weighted by its noise level to the power "
                    f"-{self.noise_weighting:g}" if self.noise_weighting else "")]
        s = self.summary_ or {}
        if s.get("epochs") is not None:
            patches = s.get("train_patches")
            lines.append(f"training: {s['epochs']} epoch{'' if s['epochs'] == 1 else 's'}"
                         + f" on {'' if patches is None else f'{patches} '}patches of "
                         f"{self.patch_size}x{self.patch_size}"
                         + (f", {s['seconds']} s" if s.get("seconds") is not None else "")
                         + (f", starting from a {s['deepened_from']}-layer network deepened "
                            "by identity layers" if s.get("deepened_from") else ""))
        for key in ("evaluation", "data"):
            shown = (doc or {}).get(key)
            if isinstance(shown, dict):  # the validation figures: below, for a person
                shown = {k: v for k, v in shown.items() if (key, k) != ("evaluation", "validation")}
            if shown:
                lines.append(f"{key}: " + json.dumps(shown))
        for row in ((doc or {}).get("evaluation") or {}).get("validation") or []:
            flips = row.get("self_ensemble", 1)  # files from before the flips: one pass
            colour = row.get("colour_self_ensemble", flips)
            lines.append(f"  validation PSNR at sigma {row['sigma']}/255 (dB, clipped 8-bit "
                         f"noise): noisy {row['noisy']:.2f}, aekit {row['aekit']:.2f} ("
                         + (f"{flips} flips" if flips != 1 else "one pass")
                         + (f"; colour {colour}" if colour != flips else "")
                         + f"), scikit-image's wavelet denoiser {row['wavelet']:.2f}")
        state = (doc or {}).get("training_state")
        if state:
            lines.append(f"checkpoint: resumable after epoch {state.get('epoch')}")
        return lines

    # -- model files ------------------------------------------------------------
    def get_state(self, net=None, summary=None, history=None):
        """``(document, tensors)`` for :func:`aekit.model_file.write_model_file`.

        Raises
        ------
        ValueError
            A ``tile``, ``self_ensemble`` or ``colour_self_ensemble`` that loading the file
            would refuse.
        """
        self._check_inference_params()
        net = net if net is not None else self.net_
        params = self.get_params()
        doc = {"estimator": ESTIMATOR, "params": params, "schema": {},
               "networks": [net.config.to_dict()],
               "summary": {**(summary if summary is not None else self.summary_),
                           "history": history if history is not None else self.history_}}
        tensors = {f"net.0.{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()}
        return doc, tensors

    def save(self, path, evaluation=None, weights_dtype=None):
        """Write the model file (safetensors + JSON; ``evaluation``: figures to keep in it)."""
        from .model_file import write_model_file

        doc, tensors = self.get_state()
        if evaluation is not None:
            doc["evaluation"] = evaluation
        return write_model_file(path, doc, tensors, weights_dtype=weights_dtype)

    @classmethod
    def from_state(cls, doc, tensors, device="auto"):
        """The fitted denoiser of a model file's document and tensors.

        Raises
        ------
        ValueError, KeyError, TypeError
            A malformed document or tensors that do not fit the network.
        """
        import torch

        from .device import resolve_device
        from .nn.image_denoiser import ImageDenoiserNet

        known = cls().get_params()
        params = {k: v for k, v in doc["params"].items() if k in known}
        # files from before colour_self_ensemble flipped a colour's luminance as often as a
        # grey image
        if "self_ensemble" in params:
            params.setdefault("colour_self_ensemble", params["self_ensemble"])
        est = cls(**params)
        est.device = device
        nets = doc.get("networks") or []
        if len(nets) != 1 or not isinstance(nets[0], dict):
            raise ValueError("an ImageDenoiser file holds exactly one network")
        net = ImageDenoiserNet(ImageDenoiserConfig.from_dict(nets[0]))
        state = {k[len("net.0."):]: torch.as_tensor(np.asarray(v, dtype=np.float32)
                                                   if np.issubdtype(np.asarray(v).dtype,
                                                                    np.floating) else v)
                 for k, v in tensors.items() if k.startswith("net.0.")}
        net.load_state_dict(state)  # RuntimeError on a mismatch
        est.net_ = net.to(resolve_device(device)).eval()
        summary = dict(doc.get("summary") or {})
        est.history_ = summary.pop("history", {})
        est.summary_ = summary
        est._fast = None
        est._check_inference_params()  # a file's bad self_ensemble or tile, named on loading
        return est


def _deepened_state(net_init, config):
    """The state dict of ``net_init`` made ``config.depth`` deep (``fit``'s ``net_init``).

    Raises
    ------
    ValueError
        Not an ImageDenoiserNet, or one that does not fit ``config``.
    """
    from .nn.image_denoiser import ImageDenoiserNet, deepen

    if not isinstance(net_init, ImageDenoiserNet):
        raise ValueError(f"net_init must be an ImageDenoiserNet (a fitted ImageDenoiser's "
                         f"net_), got {type(net_init).__name__}")
    c = net_init.config
    if (c.features, c.unshuffle, c.residual) != (config.features, config.unshuffle,
                                                  config.residual):
        raise ValueError(f"net_init has features={c.features}, unshuffle={c.unshuffle}, "
                         f"residual={c.residual}; this denoiser has {config.features}, "
                         f"{config.unshuffle}, {config.residual}")
    if config.batch_norm:
        raise ValueError("net_init cannot start a network with batch norm")
    return deepen(net_init, config.depth).state_dict()


def _chain(*callbacks):
    callbacks = [c for c in callbacks if c]

    def call(trainer, report):
        for c in callbacks:
            c(trainer, report)

    return call if callbacks else None
