"""The architecture of a model, as a dataclass that travels inside the model file."""

from dataclasses import asdict, dataclass, field


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network (not to train it).

    ``output`` is ``"sigmoid"`` for data scaled into [0, 1] (trained with binary
    cross-entropy) and ``"linear"`` for standardised data (trained with MSE).
    """

    n_features: int
    code_size: int = 32
    hidden: tuple = (512, 256)
    dropout: float = 0.0
    batch_norm: bool = False
    output: str = "sigmoid"
    decoder_hidden: tuple = field(default=None)

    def __post_init__(self):
        self.hidden = tuple(int(h) for h in self.hidden)
        if self.decoder_hidden is None:
            self.decoder_hidden = tuple(reversed(self.hidden))
        self.decoder_hidden = tuple(int(h) for h in self.decoder_hidden)
        if self.output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear', got {self.output!r}")

    def to_dict(self):
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        d["decoder_hidden"] = list(self.decoder_hidden)
        return d

    @classmethod
    def from_dict(cls, d):
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})
