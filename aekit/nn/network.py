"""The torch network: an MLP (or convolutional) encoder and a mirrored decoder. No training here.

The dense network's forward pass is repeated in numpy in :mod:`aekit.nn.numpy_network`
(for scoring without torch); a change to one must be made to the other.

References: Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural
networks", Science 2006 (the deep autoencoder); Glorot & Bengio, "Understanding the
difficulty of training deep feedforward neural networks", AISTATS 2010 (the
initialisation); Ioffe & Szegedy, "Batch normalization", ICML 2015.
"""

import torch
from torch import nn

from .config import MAX_PARAMETERS, ModelConfig


def mlp(sizes, dropout=0.0, batch_norm=False, last_activation=False):
    """Linear layers with ReLU between them (and optionally after the last).

    Batch norm goes between the linear layer and the ReLU; dropout after it.
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        is_last = i == len(sizes) - 2
        if is_last and not last_activation:
            break
        if batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def conv_block(n_in, n_out, batch_norm, dropout, transposed=False):
    """A stride-2 3x3 convolution (halving the side) or its transpose (doubling it)."""
    if transposed:
        layers = [nn.ConvTranspose2d(n_in, n_out, 3, stride=2, padding=1, output_padding=1)]
    else:
        layers = [nn.Conv2d(n_in, n_out, 3, stride=2, padding=1)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(n_out))
    layers.append(nn.ReLU())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return layers


def conv_encoder(c: ModelConfig):
    """Rows as 1-channel square images -> stride-2 convolutions -> linear code."""
    layers, n_in = [nn.Unflatten(1, (1, c.image_side, c.image_side))], 1
    for n_out in c.channels:
        layers += conv_block(n_in, n_out, c.batch_norm, c.dropout)
        n_in = n_out
    layers += [nn.Flatten(), nn.Linear(n_in * c.conv_side**2, c.code_size)]
    return nn.Sequential(*layers)


def conv_decoder(c: ModelConfig):
    """The encoder's mirror: linear, then transposed convolutions back to the image,
    where one 3x3 convolution draws the output."""
    last = c.channels[-1]
    layers = mlp([c.code_size, last * c.conv_side**2], c.dropout, c.batch_norm,
                 last_activation=True)
    layers = [*layers, nn.Unflatten(1, (last, c.conv_side, c.conv_side))]
    n_in = last
    for n_out in c.decoder_channels:
        layers += conv_block(n_in, n_out, c.batch_norm, c.dropout, transposed=True)
        n_in = n_out
    layers += [nn.Conv2d(n_in, 1, 3, padding=1), nn.Flatten()]
    return nn.Sequential(*layers)


class AutoencoderNet(nn.Module):
    """x -> encoder -> code (linear) -> decoder -> reconstruction (logits or values).

    The code layer has no activation: a linear bottleneck keeps the codes
    unconstrained, which suits both reconstruction and linear probes.
    The decoder returns pre-activation outputs; ``reconstruct`` applies the
    output activation. Training uses the logits with a fused loss for stability.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        if c.arch == "conv":
            self.encoder, self.decoder = conv_encoder(c), conv_decoder(c)
            self.reset_parameters()
            # NHWC lets oneDNN's CPU kernels run ~15% faster here (and suits GPUs too)
            self.to(memory_format=torch.channels_last)
            return
        self.encoder = mlp(
            [c.n_features, *c.hidden, c.code_size], c.dropout, c.batch_norm
        )
        self.decoder = mlp(
            [c.code_size, *c.decoder_hidden, c.n_features], c.dropout, c.batch_norm
        )
        self.reset_parameters()

    def reset_parameters(self):
        # Glorot/Xavier: keeps activations' variance steady through the stack.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def encode(self, x):
        return self.encoder(x)

    def decode_logits(self, z):
        return self.decoder(z)

    def decode(self, z):
        out = self.decoder(z)
        return torch.sigmoid(out) if self.config.output == "sigmoid" else out

    def forward(self, x):
        return self.decode_logits(self.encode(x))

    def loss(self, logits, target, reduction="mean"):
        """Loss matching the output: binary cross-entropy for [0, 1] data, else squared error.

        ``reduction``: ``"none"`` (per element), ``"sum"`` (over everything) or
        ``"mean"`` (summed over features, averaged over rows: the scale of an SSE
        per image).
        """
        if self.config.output == "sigmoid":
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none"
            )
        else:
            loss = (logits - target) ** 2
        if reduction == "none":
            return loss
        if reduction == "sum":
            return loss.sum()
        # Sum over features, mean over the batch: the scale of a per-image SSE.
        return loss.sum(dim=1).mean()


def build_network(config: ModelConfig, tensors):
    """A network of ``config`` holding ``tensors`` (its ``state_dict``, numpy or torch).

    The tensors are checked for names, shapes and kinds against a skeleton built on
    torch's "meta" device (no memory), and for finite values, before the real
    network is allocated: a hostile config cannot make aekit allocate more than the
    file itself holds.

    Raises
    ------
    ValueError
        The config is too large, or does not match the tensors.
    """
    with torch.device("meta"):  # sizes only: nothing is allocated
        skeleton = AutoencoderNet(config)
    n_params = sum(p.numel() for p in skeleton.parameters())
    if n_params > MAX_PARAMETERS:
        raise ValueError(f"the network is too large: {n_params:,} parameters, more than aekit "
                         f"loads ({MAX_PARAMETERS:,})")
    expected = skeleton.state_dict()
    mismatch = sorted(set(expected) ^ set(tensors))
    tensors = {k: torch.as_tensor(v) for k, v in tensors.items()}
    if not mismatch:
        for k, want in expected.items():
            got = tensors[k]
            if got.shape != want.shape or got.is_floating_point() != want.is_floating_point():
                mismatch = [k]
                break
    if mismatch:
        raise ValueError(f"the network's config does not match its weights (tensor {mismatch[0]})")
    if not all(bool(torch.isfinite(v).all()) for v in tensors.values() if v.is_floating_point()):
        raise ValueError("the network's weights hold NaN or infinite values")
    net = AutoencoderNet(config)
    net.load_state_dict({k: v.to(torch.float32) if v.is_floating_point() else v
                         for k, v in tensors.items()}, strict=True)
    return net.eval()
