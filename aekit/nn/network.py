"""The torch network: an MLP (or convolutional) encoder and a mirrored decoder. No training here.

The dense network's forward pass is repeated in numpy in :mod:`aekit.nn.numpy_network`
(for scoring without torch); a change to one must be made to the other.

References: Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural
networks", Science 2006 (the deep autoencoder); Glorot & Bengio, "Understanding the
difficulty of training deep feedforward neural networks", AISTATS 2010 (the
initialisation); Ioffe & Szegedy, "Batch normalization", ICML 2015.
"""

import math

import torch
from torch import nn

from .config import MAX_PARAMETERS, MIXTURES, ModelConfig


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


HELD_SCALE_BIAS = -30.0  # a held feature's scale (softplus of this, 1e-13) over its floor


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
            [c.input_width, *c.hidden, c.code_size], c.dropout, c.batch_norm
        )
        self.decoder = mlp(
            [c.code_size, *c.decoder_hidden, c.output_width], c.dropout, c.batch_norm
        )
        self.reset_parameters()
        if c.objective == "masked":
            from .masking import scoring_masks

            self.hold_at_zero()
            masks = torch.from_numpy(scoring_masks(c.n_features, c.score_masks, c.score_design,
                                                   c.held_at_zero))
            self.register_buffer("score_masks", masks, persistent=False)
            if c.mask_spread:  # measured after training (aekit.nn.fitting)
                self.register_buffer("mask_spread", torch.ones(c.score_masks))
            if c.two_valued:  # measured before training (aekit.nn.masking.two_values)
                self.register_buffer("two_values", torch.zeros(2, c.n_features))
            if c.early_masks:  # the same network early in training (aekit.nn.fitting),
                self.early = AutoencoderNet(c.early_config())  # and its scores' map onto
                self.register_buffer("early_map", torch.tensor([1.0, 0.0]))  # this one's

    def reset_parameters(self):
        # Glorot/Xavier: keeps activations' variance steady through the stack.
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @torch.no_grad()
    def hold_at_zero(self):
        """Start a masked network with its features ``config.held_at_zero`` (0 on every
        training row: categorical columns' unseen slots,
        :class:`aekit.preprocessing.columns.ColumnEncoding`) predicted exactly: every
        mixture component at 0 with the scale ``scale_floor`` (their output weights 0,
        the scales' bias far below 0), and read by nothing: neither their values nor
        whether they are hidden (their input weights 0; training and scoring hide them in
        every row, :func:`aekit.nn.masking.draw_masks`, so those weights never move, and
        a row shown whole, to encode or impute it, reads nothing of them either). That
        is the optimum of their loss, where its gradients vanish, so training keeps it.
        The training rows' surprise at them is then 0, the same in every row (learnt from
        a random start, it stayed about 2 nats, varying from row to row, which the scoring
        masks' spreads turned into noise in the score: BENCHMARKS.md, "A category never
        seen in training"); a value off 0, an unseen category's 1, scores |value| /
        ``scale_floor`` nats under each mask (10 at the default)."""
        c = self.config
        if not c.held_at_zero:
            return
        cols = torch.as_tensor(c.held_at_zero, dtype=torch.long)
        first, last = self.encoder[0], self.decoder[-1]
        first.weight[:, cols] = 0.0  # their values (x)
        first.weight[:, c.n_features + cols] = 0.0  # and whether they are shown
        rows = (torch.arange(3 * c.components)[:, None] * c.n_features + cols[None, :])
        last.weight[rows.reshape(-1)] = 0.0
        last.bias[rows.reshape(-1)] = 0.0
        last.bias[rows[2 * c.components:].reshape(-1)] = HELD_SCALE_BIAS  # softplus: ~0

    def encode(self, x, hidden=None):
        """Codes of rows ``x``; a masked network is shown the features ``hidden`` (bool,
        like ``x``) does not hide (None: all of them)."""
        if self.config.objective == "masked":
            if hidden is None:
                keep = torch.ones_like(x)
            else:
                keep = (~hidden).to(x.dtype)
                x = torch.where(hidden, 0.0, x)  # a hidden value is never read
            x = torch.cat([x, keep], dim=-1)
        return self.encoder(x)

    def decode_logits(self, z):
        return self.decoder(z)

    def decode(self, z):
        """Reconstructions from codes: the output activation applied (for a mixture
        output, each feature's mixture mean)."""
        out = self.decoder(z)
        if self.config.output == "sigmoid":
            return torch.sigmoid(out)
        if self.config.output in MIXTURES:
            return self.decode_from(out)
        return out

    def forward(self, x, hidden=None):
        return self.decode_logits(self.encode(x, hidden))

    def _mixture(self, out):
        """A mixture output's weight logits, locations and scales, each (n, C, k): ``out``
        is the whole output (n, 3 * C * n_features; k = n_features) or one made for some
        features alone, (n, 3, C, k) (:meth:`mixture_output_at`'s)."""
        c = self.config
        o = out if out.dim() == 4 else out.reshape(len(out), 3, c.components, c.n_features)
        logits, loc, raw = o.unbind(1)  # (one gradient for the three: no zero-filled ones)
        return logits, loc, nn.functional.softplus(raw) + c.scale_floor

    def surprise_of(self, out, target):
        """Per element (n, k): how surprising ``target`` (n, k) is under a mixture output
        for those k features (see :meth:`_mixture`), in nats: its negative log-likelihood
        less that of the sharpest density the output can give (one component of scale
        ``scale_floor``), so never negative, and 0 for a certain, exact prediction."""
        logits, loc, scale = self._mixture(out)
        c = self.config
        z = (target.unsqueeze(1) - loc) / scale
        distance = 0.5 * z * z if c.output == "gaussian" else z.abs()
        log_p = logits.log_softmax(dim=1) - distance - torch.log(scale / c.scale_floor)
        return -torch.logsumexp(log_p, dim=1)

    def side_surprise(self, out, target, threshold):
        """Per element (n, k): how surprising it is that ``target`` (n, k) lies on its side
        of ``threshold`` (k,) under a mixture output for those k features (see
        :meth:`_mixture`): -log P(value > threshold) where the target is above it, else
        -log P(value <= threshold), in nats; computed in logs, so it stays finite where
        the probability is below float32's least."""
        logits, loc, scale = self._mixture(out)
        u = (threshold - loc) / scale  # per component: the threshold's standard score
        u = torch.where((target > threshold).unsqueeze(1), u, -u)  # P(side) = P(E >= u)
        if self.config.output == "gaussian":
            log_tail = torch.special.log_ndtr(-u)
        else:  # Laplace: P(E >= u) = exp(-u) / 2 for u >= 0, 1 - exp(u) / 2 below
            # (u clamped at -30, where log1p already gives 0, so that exp makes no
            # denormal numbers, which are slow)
            log_tail = torch.where(u >= 0, math.log(0.5) - u,
                                   torch.log1p(-0.5 * torch.exp(u.clamp(-30, 0))))
        return -torch.logsumexp(logits.log_softmax(dim=1) + log_tail, dim=1)

    def surprise_at(self, out, x, cols):
        """Per element (n, k): a masked network's surprise at the features ``cols`` (k,) of
        rows ``x`` (n, n_features), from its mixture output for them (n, 3, components, k;
        :meth:`mixture_output_at`'s): :meth:`surprise_of`, and with
        ``config.two_valued``, where a two-valued feature (the network's ``two_values``,
        :func:`aekit.nn.masking.two_values`) holds one of its values, :meth:`side_surprise`
        at their midpoint (a Bernoulli surprise) instead. Each element's surprise is
        computed once, by the rule that applies to it."""
        target = x.index_select(1, cols)
        if not self.config.two_valued:
            return self.surprise_of(out, target)
        low, high = self.two_values[0, cols], self.two_values[1, cols]
        two = low < high
        m = int(two.sum())
        if not m:  # no two-valued feature here (most tables)
            return self.surprise_of(out, target)
        from .masking import on_two_values

        if bool(two[:m].all()):  # the two-valued features first (as the scoring masks'
            some, rest = slice(0, m), slice(m, None)  # columns come): views, not copies
        else:
            some, rest = two.nonzero().squeeze(1), (~two).nonzero().squeeze(1)
        surprise = torch.empty_like(target)
        if m < len(cols):
            surprise[:, rest] = self.surprise_of(out[..., rest], target[:, rest])
        low, high, values = low[some], high[some], target[:, some]
        side = self.side_surprise(out[..., some], values, (low + high) / 2)
        on_value = on_two_values(values, low, high)
        if not bool(on_value.all()):  # a value off both (never in the training rows)
            side = torch.where(on_value, side, self.surprise_of(out[..., some], values))
        surprise[:, some] = side
        return surprise

    def mixture_cdf(self, out, target):
        """Per element (n, k): the probability that a mixture output for those k features
        (see :meth:`_mixture`) gives a value at most ``target`` (n, k): its cumulative
        distribution function (a tail probability is this or 1 less it)."""
        logits, loc, scale = self._mixture(out)
        z = (target.unsqueeze(1) - loc) / scale
        if self.config.output == "gaussian":
            cdf = 0.5 * torch.erfc(-z / math.sqrt(2))
        else:  # Laplace
            cdf = torch.where(z < 0, 0.5 * torch.exp(z.clamp(max=0)),
                              1 - 0.5 * torch.exp(-z.clamp(min=0)))
        return (logits.softmax(dim=1) * cdf).sum(dim=1)

    def loss(self, logits, target, reduction="mean", hidden=None):
        """Loss matching the output: binary cross-entropy for [0, 1] data, squared error
        for standardised data, the surprise (:meth:`surprise_of`) for a mixture.

        ``reduction``: ``"none"`` (per element), ``"sum"`` (over everything) or
        ``"mean"`` (summed over features, averaged over rows: the scale of an SSE
        per image). With ``hidden`` (a masked network's training), each row's loss
        is its mean over its hidden features instead of the sum over all.
        """
        if self.config.output == "sigmoid":
            loss = nn.functional.binary_cross_entropy_with_logits(
                logits, target, reduction="none"
            )
        elif self.config.output in MIXTURES:
            loss = self.surprise_of(logits, target)
        else:
            loss = (logits - target) ** 2
        if reduction == "none":
            return loss
        if hidden is not None:
            weights = hidden.to(loss.dtype)
            rows = (loss * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
        else:
            rows = loss.sum(dim=1)
        # Sum over features, mean over the batch: the scale of a per-image SSE.
        return rows.sum() if reduction == "sum" else rows.mean()

    def reconstruct(self, x):
        """Reconstructions of rows ``x``; a masked network predicts each feature from the
        others: its predicted means averaged over the scoring masks that hide it."""
        if self.config.objective != "masked":
            return self.decode(self.encode(x))
        return self._over_score_masks(x, lambda out, cols: self.decode_from(out),
                                      self._mask_weights(scaled=False))

    def predict(self, x, hidden):
        """A masked network's prediction of every feature of rows ``x`` (n, n_features)
        from the features ``hidden`` (bool, like ``x``) does not hide: each feature's
        mixture mean. The values of ``x`` at hidden features are never read."""
        return self.decode_from(self(x, hidden))

    def surprise(self, x):
        """A masked network's surprise at each feature of rows ``x`` (n, n_features): the
        anomaly score's parts, whose mean is the score: :meth:`own_surprise`, or for a
        network holding an early network (``config.early_masks``), in each row whose
        early score, mapped onto this network's scale, is the larger, the early
        network's (:func:`aekit.nn.masking.with_early`)."""
        own = self.own_surprise(x)
        if not self.config.early_masks:
            return own
        from .masking import with_early

        return with_early(own, self.early.surprise(x), self.early_map.to(x.dtype))

    def own_surprise(self, x):
        """This network's surprise at each feature of rows ``x`` (n, n_features), whatever
        early network it holds: each feature's surprise averaged over the scoring masks
        that hide it, in nats (:meth:`surprise_at`); with ``config.mask_spread``, each
        mask's weighed by its spread (:func:`aekit.nn.masking.mask_weights`)."""
        return self._over_score_masks(x, lambda out, cols: self.surprise_at(out, x, cols),
                                      self._mask_weights(scaled=self.config.mask_spread))

    def mask_surprise(self, x):
        """Each scoring mask's mean surprise over the features it hides, for rows ``x``:
        shape (n, n_masks), in nats."""
        stack = self.scoring_stack()
        return torch.stack([self.surprise_at(self.mixture_output_at(x, hidden, cols, stack),
                                             x, cols).mean(dim=1)
                            for hidden, cols in self._mask_columns(x.device)], dim=1)

    def decode_from(self, out):
        """The mixture means (n, k) of a mixture output for k features (see
        :meth:`_mixture`)."""
        weights, loc, _ = self._mixture(out)
        return (weights.softmax(dim=1) * loc).sum(dim=1)

    def _mask_columns(self, device):
        """Each scoring mask and the features it hides, the two-valued ones first (their
        surprise is computed apart: :meth:`surprise_at`)."""
        masks = self.score_masks.to(device)
        columns = [hidden.nonzero().squeeze(1) for hidden in masks]
        if self.config.two_valued:
            two = (self.two_values[0] < self.two_values[1]).to(device)
            columns = [torch.cat([cols[two[cols]], cols[~two[cols]]]) for cols in columns]
        return list(zip(masks, columns))

    def _mask_weights(self, scaled):
        from .masking import mask_weights

        spread = self.mask_spread.cpu().numpy() if scaled else None
        return torch.from_numpy(mask_weights(self.score_masks.cpu().numpy(), spread))

    def _over_score_masks(self, x, per_mask, weights):
        """``per_mask(output, cols)`` at the features ``cols`` each scoring mask hides,
        weighed by ``weights`` (n_masks, n_features) and summed over the masks."""
        total = torch.zeros_like(x)
        weights = weights.to(x.device, x.dtype)
        stack = self.scoring_stack()
        for k, (hidden, cols) in enumerate(self._mask_columns(x.device)):
            total.index_add_(1, cols, per_mask(self.mixture_output_at(x, hidden, cols, stack),
                                               cols) * weights[k, cols])
        return total

    def scoring_stack(self):
        """The layers between a masked network's first and its last, as scoring runs them
        (:meth:`mixture_output_at`): modules, and ``(weight, bias)`` for a linear map. The
        encoder's last linear map and the decoder's first composed into one where the
        config says so (:meth:`~aekit.nn.config.ModelConfig.scoring_composes_code`).
        Scoring runs in eval mode (batch norm and dropout as at inference)."""
        layers = [*self.encoder][1:] + [*self.decoder][:-1]
        if not self.config.scoring_composes_code():
            return layers
        code = len(self.encoder) - 1  # the index of the decoder's first layer in ``layers``
        a, b = layers[code - 1], layers[code]
        return [*layers[:code - 1], (b.weight @ a.weight, torch.addmv(b.bias, b.weight, a.bias)),
                *layers[code + 1:]]

    def mixture_output_at(self, x, hidden, cols, stack=None):
        """A masked network's mixture output for the features ``cols`` alone (those that
        ``hidden``, one mask for every row, hides), shape (n, 3, components, len(cols)),
        in eval mode. The first layer reads the shown features alone (a hidden value is
        never read), with the mask's own input, the same in every row, in its bias;
        ``stack`` (:meth:`scoring_stack`, computed when None) follows; the decoder's last
        layer is computed for ``cols`` only, about half its work with the scoring masks
        (each hides about half the features). What the network gives for ``x`` and the
        mask in every row, to float32 rounding."""
        c = self.config
        first, last = self.encoder[0], self.decoder[-1]
        d, shown = c.n_features, ~hidden
        bias = torch.addmv(first.bias, first.weight[:, d:], shown.to(first.weight.dtype))
        shown = shown.nonzero().squeeze(1)
        h = torch.addmm(bias, x.index_select(1, shown), first.weight.index_select(1, shown).t())
        for layer in self.scoring_stack() if stack is None else stack:
            h = nn.functional.linear(h, *layer) if isinstance(layer, tuple) else layer(h)
        rows = (torch.arange(3 * c.components, device=x.device)[:, None] * c.n_features
                + cols[None, :]).reshape(-1)
        out = nn.functional.linear(h, last.weight[rows], last.bias[rows])
        return out.reshape(len(x), 3, c.components, len(cols))


def build_network(config: ModelConfig, tensors, cls=None):
    """A network of ``config`` holding ``tensors`` (its ``state_dict``, numpy or torch);
    ``cls``: the network's class (default :class:`AutoencoderNet`), built from ``config``.

    The tensors are checked for names, shapes and kinds against a skeleton built on
    torch's "meta" device (no memory), and for finite values, before the real
    network is allocated: a hostile config cannot make aekit allocate more than the
    file itself holds.

    Raises
    ------
    ValueError
        The config is too large, or does not match the tensors.
    """
    cls = cls or AutoencoderNet
    with torch.device("meta"):  # sizes only: nothing is allocated
        skeleton = cls(config)
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
    _check_masked_tensors(tensors, config.n_features)
    net = cls(config)
    net.load_state_dict({k: v.to(torch.float32) if v.is_floating_point() else v
                         for k, v in tensors.items()}, strict=True)
    return net.eval()


def _check_masked_tensors(tensors, n_features):
    """Refuse (ValueError) a masked network's measured tensors, its own and its early
    network's, that its measurements cannot have given."""
    from .masking import MIN_SPREAD, early_map_is_valid, spreads_are_valid, two_values_are_valid

    for prefix in ("", "early."):
        if f"{prefix}mask_spread" in tensors \
                and not spreads_are_valid(tensors[f"{prefix}mask_spread"].numpy()):
            raise ValueError(f"the network's mask spreads must be at least {MIN_SPREAD:g}")
        if f"{prefix}two_values" in tensors and not two_values_are_valid(
                tensors[f"{prefix}two_values"].numpy(), n_features):
            raise ValueError("the network's two-valued features' values must be float32, "
                             "finite, the lower one first")
    if "early_map" in tensors and not early_map_is_valid(tensors["early_map"].numpy()):
        raise ValueError("the network's early map must be two finite numbers, the first "
                         "positive")
