"""The network: an MLP (or convolutional) encoder and a mirrored decoder. No training here."""

import torch
from torch import nn

from .config import ModelConfig


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
        """Per-element loss matching the output: BCE for [0, 1] data, else MSE."""
        if self.config.output == "sigmoid":
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none"
            )
        else:
            loss = (logits - target) ** 2
        if reduction == "none":
            return loss
        # Sum over features, mean over the batch: the scale of a per-image SSE.
        return loss.sum(dim=1).mean()
