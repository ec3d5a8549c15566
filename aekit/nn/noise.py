"""Noise models, shared by training (denoising autoencoders) and `aekit noise`.

A noise spec is a string ``KIND:LEVEL``:

- ``gaussian:SIGMA``  x + SIGMA * N(0, 1)   (clipped to [0, 1] for [0, 1] data)
- ``gaussian:LO-HI``  the same, SIGMA drawn uniformly from [LO, HI] for each sample:
                      blind training, for a denoiser not told the noise level
                      (DnCNN-B, Zhang et al., IEEE TIP 2017)
- ``masking:P``       each input set to 0 with probability P
- ``dropout:P``       masking, the kept inputs divided by 1 - P (as dropout does), so
                      that clean inputs, which training never saw, are on the scale
                      the network learned: for learning features, not for cleaning
- ``saltpepper:P``    each input set to 0 or 1 (min or max) with probability P
- ``block:S``         one S x S square of each (square) image set to 0, at a
                      uniformly random position: an occlusion to inpaint

Specs joined with ``+`` (``gaussian:0.5+masking:0.25``) draw one of the kinds
for each sample: a model trained so is robust to all of them.
"""

import math
from dataclasses import dataclass

KINDS = ("gaussian", "masking", "dropout", "saltpepper", "block")


@dataclass(frozen=True)
class Noise:
    kind: str
    level: float
    high: float = None  # gaussian only: SIGMA drawn from [level, high] for each sample

    def __str__(self):
        if self.high is not None:
            return f"{self.kind}:{self.level:g}-{self.high:g}"
        return f"{self.kind}:{self.level:g}"

    def apply(self, x, generator=None, clip=True, low=0.0, high=1.0):
        """Return a corrupted copy of the float tensor ``x`` (any shape).

        ``low``/``high`` are the values "pepper" and "salt" take and the clip
        range; for standardised data pass clip=False.
        """
        import torch

        if self.level == 0 and not self.high:
            return x.clone()
        if self.kind == "gaussian":
            noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
            sigma = self.level
            if self.high is not None:  # one sigma per sample (first axis)
                u = torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), generator=generator,
                               device=x.device, dtype=x.dtype)
                sigma = self.level + (self.high - self.level) * u
            out = x + sigma * noise
            return out.clamp(low, high) if clip else out
        if self.kind == "block":
            return x.masked_fill(self._block_mask(x, generator), 0.0)
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        if self.kind == "masking":
            return x.masked_fill(u < self.level, 0.0)
        if self.kind == "dropout":
            return x.masked_fill(u < self.level, 0.0) / (1 - self.level)
        # saltpepper: half the hit pixels become low, half become high
        out = x.masked_fill(u < self.level / 2, low)
        return out.masked_fill((u >= self.level / 2) & (u < self.level), high)

    def _block_mask(self, x, generator):
        import torch

        size = int(self.level)
        n, d = x.shape if x.dim() == 2 else (None, None)
        side = math.isqrt(d) if d else 0
        if n is None or side * side != d or size > side:
            raise ValueError(f"block:{size} noise needs rows that are square images at least "
                             f"{size}x{size} (got rows of {d if d else tuple(x.shape)} values)")
        top = torch.randint(side - size + 1, (n, 1), generator=generator, device=x.device)
        left = torch.randint(side - size + 1, (n, 1), generator=generator, device=x.device)
        idx = torch.arange(side, device=x.device)
        rows = (idx >= top) & (idx < top + size)
        cols = (idx >= left) & (idx < left + size)
        return (rows[:, :, None] & cols[:, None, :]).reshape(n, d)


@dataclass(frozen=True)
class MixedNoise:
    """One of several noises, drawn independently for each sample (row)."""

    parts: tuple

    def __str__(self):
        return "+".join(str(p) for p in self.parts)

    def apply(self, x, generator=None, clip=True, low=0.0, high=1.0):
        import torch

        choice = torch.randint(len(self.parts), (x.shape[0],), generator=generator,
                               device=x.device)
        out = x.clone()
        for i, part in enumerate(self.parts):
            rows = choice == i
            if rows.any():
                out[rows] = part.apply(x[rows], generator, clip=clip, low=low, high=high)
        return out


def parse_noise(spec):
    """Parse ``"gaussian:0.5"`` into a :class:`Noise`; ``None``/``"none"`` gives None."""
    if spec is None or isinstance(spec, (Noise, MixedNoise)):
        return spec
    if not isinstance(spec, str):
        raise ValueError(f"noise must be a string like 'gaussian:0.5', got {spec!r}")
    if spec.strip().lower() in ("", "none"):
        return None
    if "+" in spec:
        parts = tuple(parse_noise(p) for p in spec.split("+"))
        if any(p is None or isinstance(p, MixedNoise) for p in parts):
            raise ValueError(f"invalid noise {spec!r}: join KIND:LEVEL specs with '+'")
        return MixedNoise(parts)
    kind, sep, level = spec.strip().lower().partition(":")
    if kind not in KINDS or not sep:
        raise ValueError(
            f"invalid noise {spec!r}: use gaussian:SIGMA, gaussian:LO-HI, masking:P, "
            "dropout:P, saltpepper:P or block:S"
        )
    if "-" in level.lstrip("-"):
        return _parse_range(spec, kind, level)
    try:
        value = float(level)
    except ValueError:
        raise ValueError(f"invalid noise level in {spec!r}: not a number") from None
    if not (value >= 0) or value == float("inf"):
        raise ValueError(f"invalid noise level in {spec!r}: must be a finite number >= 0")
    if kind == "block":
        if value != int(value) or not 1 <= value <= 4096:
            raise ValueError(f"invalid noise level in {spec!r}: a block side in pixels (1..4096)")
        return Noise(kind, float(int(value)))
    if kind != "gaussian" and value > 1:
        raise ValueError(f"invalid noise level in {spec!r}: a probability must be <= 1")
    if kind == "dropout" and value == 1:
        raise ValueError(f"invalid noise level in {spec!r}: dropout keeps a share 1 - P, "
                         "so P must be < 1")
    return Noise(kind, value)


def _parse_range(spec, kind, level):
    """``gaussian:LO-HI``: a sigma range for blind training."""
    if kind != "gaussian":
        raise ValueError(f"invalid noise {spec!r}: a LO-HI range applies to gaussian noise")
    low, _, high = level.partition("-")
    lo, hi = parse_noise(f"gaussian:{low}"), parse_noise(f"gaussian:{high}")
    if not lo.level < hi.level:
        raise ValueError(f"invalid noise level in {spec!r}: LO must be below HI")
    return Noise("gaussian", lo.level, hi.level)
