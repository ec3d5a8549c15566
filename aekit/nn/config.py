"""The network's architecture and its training settings, as dataclasses (no torch here).

:class:`ModelConfig` travels inside the model file (it is all that is needed to
rebuild the network); :class:`TrainConfig` is what the training loop reads. Both
are built from an estimator's parameters (:mod:`aekit.params`), which hold the
defaults: neither dataclass has defaults of its own.
"""

import math
from dataclasses import asdict, dataclass, field, replace

ARCHS = ("dense", "conv")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("plateau", "onecycle", "cosine")
MIXTURES = ("gaussian", "laplace")  # outputs that are a mixture per feature
OUTPUTS = ("sigmoid", "linear", *MIXTURES)
OBJECTIVES = ("reconstruction", "masked")
MAX_COMPONENTS = 16  # of a mixture output, per feature
MAX_SCORE_MASKS = 1024
SCORE_DESIGNS = ("pairs", "random")  # the scoring masks' designs: aekit.nn.masking
MAX_PARAMETERS = 200_000_000  # a network aekit builds or loads; far beyond any real model


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (not to train it).

    ``arch`` is ``"dense"`` (an MLP of ``hidden`` layers) or ``"conv"``: stride-2
    convolutions with ``channels`` filters read each row as a square image, a
    linear layer maps their features to the code, and transposed convolutions
    mirror them back (``hidden`` is then unused).
    ``output`` is ``"sigmoid"`` for data scaled into [0, 1] (trained with binary
    cross-entropy), ``"linear"`` for standardised data (trained with MSE) and
    ``"gaussian"`` / ``"laplace"`` for a mixture of ``components`` Gaussian / Laplace
    distributions per feature (weights, locations, scales: trained by their negative
    log-likelihood; Bishop, "Mixture density networks", 1994).

    ``objective`` is ``"reconstruction"`` (the network reads a row and rebuilds it)
    or ``"masked"``: the network reads a row with some features hidden, plus which
    ones (so its input is twice the features wide), and predicts the hidden ones
    from the others (:mod:`aekit.nn.masking`); dense networks with a mixture output
    only. ``scale_floor`` bounds the mixture's scales from below (in the scaled
    units); ``score_masks`` is the number of fixed masks a masked model scores with, and
    ``score_design`` how they are drawn (:func:`aekit.nn.masking.scoring_masks`).
    ``mask_spread``: each scoring mask's mean surprise is divided by its spread over the
    training rows (the network's ``mask_spread`` tensor, measured after training;
    :func:`aekit.nn.masking.mask_weights`); False (and in files written before it):
    each feature's surprise is averaged over the masks that hide it.
    ``two_valued``: a masked model scores a feature that takes exactly two values in the
    training rows (a one-hot category, a flag) where a row holds one of them by the
    surprise of the value's side of their midpoint (the network's ``two_values`` tensor,
    measured before training; :meth:`aekit.nn.network.AutoencoderNet.surprise_at`), not
    by the density at the value; False (and in files written before it): the density.
    ``held_at_zero``: features 0 on every training row, categorical columns' unseen
    slots (:class:`aekit.preprocessing.columns.ColumnEncoding`), that a masked network
    never reads, hides under every mask (training and scoring) and predicts exactly 0
    from the start (:meth:`aekit.nn.network.AutoencoderNet.hold_at_zero`); the scoring
    masks are drawn over the other features (:func:`aekit.nn.masking.scoring_masks`).
    Empty (and in files written before it): none.
    ``early_masks``: a masked network that also holds an *early network*, a copy of
    itself as it was after its first fit's first epoch(s), before it learned the
    training rows' anomalies as normal, scoring with this many masks
    (:meth:`aekit.nn.network.AutoencoderNet.surprise`); 0 (and in files written before
    it): none.
    """

    n_features: int
    code_size: int
    hidden: tuple = ()  # the architecture's neutral values; the estimators set their own
    dropout: float = 0.0
    batch_norm: bool = False
    output: str = "sigmoid"
    decoder_hidden: tuple = field(default=None)  # None: the encoder's, mirrored
    arch: str = "dense"
    channels: tuple = ()
    objective: str = "reconstruction"
    components: int = 1
    scale_floor: float = 0.1  # the Laplace scales' least value, in the scaled units
    score_masks: int = 16  # the fixed masks a masked model scores with
    score_design: str = "pairs"  # how they are drawn: aekit.nn.masking.scoring_masks
    mask_spread: bool = False  # scores weigh each mask by its spread on the training rows
    two_valued: bool = False  # two-valued features scored by the side of their midpoint
    held_at_zero: tuple = ()  # features predicted exactly 0, hidden by every mask
    early_masks: int = 0  # the scoring masks of an early network held beside it (0: none)

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.decoder_hidden is None:
            self.decoder_hidden = tuple(reversed(self.hidden))
        self.decoder_hidden = tuple(int(h) for h in self.decoder_hidden)
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        self.channels = tuple(int(c) for c in self.channels)
        if self.arch == "conv":
            self._check_conv()
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if not 1 <= self.components <= MAX_COMPONENTS:
            raise ValueError(f"components must be in 1..{MAX_COMPONENTS}, got {self.components}")
        if not (0 < self.scale_floor < math.inf and 1 <= self.score_masks <= MAX_SCORE_MASKS):
            raise ValueError(f"scale_floor must be positive and score_masks in "
                             f"1..{MAX_SCORE_MASKS}")
        if self.score_design not in SCORE_DESIGNS:
            raise ValueError(f"score_design must be one of {SCORE_DESIGNS}, "
                             f"got {self.score_design!r}")
        if not isinstance(self.mask_spread, bool) or (self.mask_spread
                                                     and self.objective != "masked"):
            raise ValueError("mask_spread is true or false, and true only with a masked "
                             "objective")
        if not isinstance(self.two_valued, bool) or (self.two_valued
                                                    and self.objective != "masked"):
            raise ValueError("two_valued is true or false, and true only with a masked "
                             "objective")
        held = self.held_at_zero
        if not (isinstance(held, (list, tuple)) and all(
                isinstance(j, int) and not isinstance(j, bool) for j in held)
                and list(held) == sorted(set(held))
                and all(0 <= j < self.n_features for j in held)) or (
                held and self.objective != "masked"):
            raise ValueError("held_at_zero is a list of distinct feature numbers in "
                             "increasing order, and not empty only with a masked objective")
        self.held_at_zero = tuple(held)
        if not (isinstance(self.early_masks, int) and not isinstance(self.early_masks, bool)
                and 0 <= self.early_masks <= MAX_SCORE_MASKS) or (
                self.early_masks and self.objective != "masked"):
            raise ValueError(f"early_masks must be in 0..{MAX_SCORE_MASKS}, and above 0 only "
                             "with a masked objective")
        if (self.objective == "masked") != (self.output in MIXTURES) or (
                self.objective == "masked" and self.arch != "dense"):
            raise ValueError("a masked objective goes with a dense network and a mixture "
                             "output, and only with them")

    @property
    def input_width(self):
        """Inputs of the first layer: the features, and with a masked objective which of
        them are hidden."""
        return 2 * self.n_features if self.objective == "masked" else self.n_features

    @property
    def output_width(self):
        """Outputs of the last layer: one per feature, or for a mixture output a weight
        logit, a location and a scale per feature and component."""
        return 3 * self.components * self.n_features if self.output in MIXTURES \
            else self.n_features

    @property
    def image_side(self):
        """Side of the square image a conv network reads its rows as."""
        return math.isqrt(self.n_features)

    @property
    def conv_side(self):
        """Side of the feature maps after the encoder's stride-2 convolutions."""
        return self.image_side // 2 ** len(self.channels)

    def _check_conv(self):
        if not self.channels or any(c < 1 for c in self.channels):
            raise ValueError(f"channels must be positive numbers, got {self.channels!r}")
        side, halvings = self.image_side, 2 ** len(self.channels)
        if side * side != self.n_features or side % halvings:
            raise ValueError(
                f"arch='conv' reads each row as a square image whose side is a multiple of "
                f"{halvings} (one halving per entry of channels), e.g. 784 = 28 x 28 "
                f"features; got {self.n_features} features")

    @property
    def decoder_channels(self):
        """Filters of the decoder's transposed convolutions: the encoder's in reverse,
        then half the first layer's at full resolution (where they cost the most)."""
        return (*reversed(self.channels[:-1]), max(1, self.channels[0] // 2))

    def layers_text(self):
        """The layer sizes for people, e.g. ``784-512-32-512-784``."""
        if self.arch == "conv":
            side, code = self.image_side, self.code_size
            down = "-".join(map(str, self.channels))
            up = "-".join(map(str, [self.channels[-1], *self.decoder_channels]))
            return f"{side}x{side} image - conv {down} - {code} - conv {up} - {side}x{side} image"
        return "-".join(map(str, [self.input_width, *self.hidden, self.code_size,
                                  *self.decoder_hidden, self.output_width]))

    def to_dict(self):
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["decoder_hidden"] = list(self.decoder_hidden)
        d["channels"] = list(self.channels)
        if self.held_at_zero:
            d["held_at_zero"] = list(self.held_at_zero)
        else:  # (written as before when there is none)
            del d["held_at_zero"]
        if not self.early_masks:  # (likewise)
            del d["early_masks"]
        return d

    def scoring_composes_code(self):
        """Whether a masked network's scoring runs the encoder's last linear map and the
        decoder's first as one (their product): the code has no activation, so they are
        one map. Where both sides have a hidden layer and the product has fewer weights
        than the two (a code as wide as the hidden layers, as masked networks have: one
        product where there were two); :meth:`~aekit.nn.network.AutoencoderNet.scoring_stack`
        and :class:`~aekit.nn.numpy_network.NumpyNetwork` both follow this."""
        if not (self.hidden and self.decoder_hidden):
            return False
        n_in, n_out = self.hidden[-1], self.decoder_hidden[0]
        return n_in * n_out < self.code_size * (n_in + n_out)

    def early_config(self):
        """The config of the early network this one holds (``early_masks`` > 0): the same
        network, scoring with ``early_masks`` masks and holding none of its own."""
        return replace(self, score_masks=self.early_masks, early_masks=0)

    @classmethod
    def from_dict(cls, d):
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class TrainConfig:
    """What the training loop needs to know (see :class:`aekit.nn.training.Trainer`).

    ``lr_factor`` is the factor applied to the rate on a plateau; ``seed`` drives
    every random draw of training (shuffles, dropout, noise), epoch by epoch;
    ``epoch_repeats``: how many times an epoch draws each training row: that many
    shuffled passes one after the other, with fresh masks and noise each time (repeated
    augmentation; 1: one pass).
    """

    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int
    epochs: int
    patience: int
    lr_patience: int
    lr_schedule: str
    seed: int
    lr_factor: float = 0.5
    epoch_repeats: int = 1

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.epoch_repeats < 1:
            raise ValueError(f"epoch_repeats must be at least 1, got {self.epoch_repeats}")

    def to_dict(self):
        return asdict(self)
