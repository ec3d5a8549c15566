"""The network: an MLP encoder and a mirrored MLP decoder. No training here."""

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
            if isinstance(m, nn.Linear):
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
