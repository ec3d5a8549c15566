"""A fully convolutional, blind denoising network for images of any size.

The network predicts the noise and subtracts it from its input (residual learning,
DnCNN: Zhang, Zuo, Chen, Meng & Zhang, "Beyond a Gaussian Denoiser: Residual Learning of
Deep CNN for Image Denoising", IEEE TIP 2017), with batch normalisation between its
3x3 convolutions as DnCNN has (optional). With ``unshuffle=2`` it works at half
resolution with four times the channels: the image is split into its 2x2 pixel phases
(pixel unshuffle) and joined back at the end (FFDNet: Zhang, Zuo & Zhang, "FFDNet:
Toward a Fast and Flexible Solution for CNN-Based Image Denoising", IEEE TIP 2018),
which cuts the work per pixel by four for the same width. Unlike FFDNet it is not given
a noise-level map: one model serves every noise level it was trained on (blind, as
DnCNN-B). The bundled photo-denoiser is a shallow full-resolution one (9 layers of 32
channels, no batch norm: first trained with 7, then deepened by :func:`deepen` and
fine-tuned, which gained 0.22-0.33 dB on the validation images in grey). At 7 layers, in
a pilot of 200 steps (scripts/pilot_photo_denoiser.py), it learned several times faster
than 12 layers at half resolution, with or without batch norm, and a CPU budget of about
an hour allows only some thousands of steps.

Input and output: float tensors ``(n, 1, height, width)``, one image plane in [0, 1]
(noisy values may stray outside); height and width multiples of ``unshuffle``. The
configuration (:class:`ImageDenoiserConfig`) is all that is needed to rebuild it.
"""

import numbers
from dataclasses import asdict, dataclass

import torch
from torch import nn

MAX_FEATURES = 1024
MAX_DEPTH = 64


@dataclass
class ImageDenoiserConfig:
    """The network's shape.

    ``features``: channels of the hidden convolutions; ``depth``: 3x3 convolutions in all
    (at least 2); ``unshuffle``: the factor the image is folded by (1 = full resolution,
    2 = FFDNet's half resolution, or 4); ``batch_norm``: after each hidden convolution;
    ``residual``: predict the noise and subtract it (True) or the clean image (False).
    """

    features: int
    depth: int
    unshuffle: int = 2
    batch_norm: bool = True
    residual: bool = True
    # what aekit.nn.training.Trainer asks of a network's config: not a masked model
    objective = "reconstruction"

    def __post_init__(self):
        for name, value, top in (("features", self.features, MAX_FEATURES),
                                 ("depth", self.depth, MAX_DEPTH), ("unshuffle", self.unshuffle, 4)):
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise ValueError(f"{name} must be an integer in 1..{top}, got {value!r}")
        if self.unshuffle == 3:  # whole images are cleaned in tiles placed on multiples of 8
            raise ValueError("unshuffle must be 1, 2 or 4 (a divisor of 8), got 3")
        if self.depth < 2:
            raise ValueError(f"depth must be at least 2 (first and last convolution), "
                             f"got {self.depth}")
        self.batch_norm, self.residual = bool(self.batch_norm), bool(self.residual)

    @property
    def reach(self):
        """How far (pixels, full resolution) an output pixel sees: half the receptive field."""
        return self.depth * self.unshuffle

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


class ImageDenoiserNet(nn.Module):
    """The network of :class:`ImageDenoiserConfig`; see the module's notes."""

    def __init__(self, config: ImageDenoiserConfig):
        super().__init__()
        self.config = config
        s, f = config.unshuffle, config.features
        layers = [nn.PixelUnshuffle(s), nn.Conv2d(s * s, f, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(config.depth - 2):
            layers.append(nn.Conv2d(f, f, 3, padding=1, bias=not config.batch_norm))
            if config.batch_norm:
                layers.append(nn.BatchNorm2d(f))
            layers.append(nn.ReLU(inplace=True))
        layers += [nn.Conv2d(f, s * s, 3, padding=1), nn.PixelShuffle(s)]
        self.body = nn.Sequential(*layers)
        # He et al. (ICCV 2015) initialisation, as DnCNN: PyTorch's default shrinks the
        # signal layer by layer, and 12 layers at half resolution then did not learn at all
        # in 200 steps (the loss stayed at the noisy input's)
        convs = [m for m in self.body if isinstance(m, nn.Conv2d)]
        for m in convs:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        if config.residual:  # start as the identity (Goyal et al. 2017's zero-init residual)
            nn.init.zeros_(convs[-1].weight)

    def forward(self, x, hidden=None):
        """``x``: ``(n, 1, h, w)`` with h, w multiples of ``unshuffle``; returns the same
        shape. ``hidden`` is unused (the training loop's signature)."""
        out = self.body(x)
        return x - out if self.config.residual else out

    def loss(self, output, target, reduction="mean", hidden=None):
        """Mean squared error per image, summed (``"sum"``) or averaged over the batch."""
        per_image = (output - target).pow(2).flatten(1).mean(1)
        return per_image.sum() if reduction == "sum" else per_image.mean()


def fold_batch_norm(net):
    """A copy of ``net`` (in eval mode) whose batch norms are folded into the convolutions
    before them: the same outputs, computed faster."""
    import copy

    net = copy.deepcopy(net).eval()
    layers, out = list(net.body), []
    for layer in layers:
        if isinstance(layer, nn.BatchNorm2d) and out and isinstance(out[-1], nn.Conv2d):
            conv = out[-1]
            scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, 3, padding=1, bias=True)
            with torch.no_grad():
                fused.weight.copy_(conv.weight * scale[:, None, None, None])
                bias = conv.bias if conv.bias is not None else torch.zeros_like(layer.running_mean)
                fused.bias.copy_((bias - layer.running_mean) * scale + layer.bias)
            out[-1] = fused
        else:
            out.append(layer)
    net.body = nn.Sequential(*out)
    return net


def deepen(net, depth):
    """A network of ``depth`` convolutions that computes what ``net`` computes: the
    identity 3x3 convolutions needed are inserted after the first half of ``net``'s
    hidden layers (each follows a ReLU, whose output is non-negative, so the identity
    convolution and the ReLU after it pass it unchanged). Training then starts from the
    smaller network's function (Net2DeeperNet: Chen, Goodfellow & Shlens, "Net2Net:
    Accelerating Learning via Knowledge Transfer", ICLR 2016).

    Raises
    ------
    ValueError
        ``net`` has batch norm (not an identity while training), or ``depth`` is not an
        integer at least its depth.
    """
    c = net.config
    if c.batch_norm:
        raise ValueError("a network with batch norm cannot be deepened as the identity")
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < c.depth:
        raise ValueError(f"depth must be an integer at least the network's ({c.depth}), "
                         f"got {depth!r}")
    depth = int(depth)
    deeper = ImageDenoiserNet(ImageDenoiserConfig(c.features, depth, c.unshuffle, False,
                                                  c.residual))
    old = [m for m in net.body if isinstance(m, nn.Conv2d)]
    new = [m for m in deeper.body if isinstance(m, nn.Conv2d)]
    keep = 1 + (c.depth - 2) // 2  # the first convolution and half the hidden ones
    source = old[:keep] + [None] * (depth - c.depth) + old[keep:]
    with torch.no_grad():
        for conv, src in zip(new, source):
            if src is None:
                conv.weight.zero_()
                conv.bias.zero_()
                conv.weight[:, :, 1, 1] = torch.eye(c.features)
            else:
                conv.weight.copy_(src.weight)
                conv.bias.copy_(src.bias)
    return deeper


@dataclass
class NoiseWeightedLoss:
    """What :class:`aekit.nn.training.Trainer` minimises for a denoiser trained with
    ``noise_weighting`` p > 0, with the Trainer's ``noise`` (which draws each global
    batch's noise, so that every process of a torchrun gets what one process would):
    each noisy patch's mean squared error is divided by ``(m + floor ** 2) ** (p / 2)``,
    where ``m`` is the mean square of the noise it was given. With plain MSE (p = 0) a
    patch at sigma 50/255 weighs several times one at 15/255 (the error left grows with
    the noise: 3.7 times on a crop of `camera` with the bundled model, where the noise
    given is 8.7 times), so a blind network spends its capacity on heavy noise; p = 1
    weighs the patches in proportion to 1/sigma, p = 2 makes the loss the ratio of the
    error left to the error given. ``floor`` (5/255) keeps clean patches (sigma 0) from
    dominating. Validation: the same loss on ``noise`` (a :class:`aekit.nn.noise.Noise`,
    clipped to [0, 1]) drawn once. Shapes: patches ``(n, 1, h, w)``; losses are sums over
    the patches (scalar tensors).
    """

    noise: object
    power: float
    floor: float = 5 / 255

    def _loss(self, net, noisy, clean):
        left = (net(noisy) - clean).pow(2).flatten(1).mean(1)
        given = (noisy - clean).pow(2).flatten(1).mean(1)
        return (left / (given + self.floor ** 2).pow(self.power / 2)).sum()

    def batch_loss(self, net, noisy, gen, progress, clean):
        """The weighted loss summed over the patches ``noisy`` ``(n, 1, h, w)`` whose clean
        versions are ``clean``."""
        return self._loss(net, noisy, clean)

    def validation_inputs(self, X, gen):
        """``(noisy, clean)``: the validation patches with their noise, drawn once."""
        return self.noise.apply(X, gen, clip=True), X

    def validation_loss(self, net, noisy, clean):
        return self._loss(net, noisy, clean)
