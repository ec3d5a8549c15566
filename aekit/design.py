"""The network a fit builds from its parameters and its data: what "auto" becomes.

One home for the choices both estimators (and `aekit train`) make from the data's
shape and values alone, never from its name:

- **The objective** (:func:`auto_objective`). Wide rows in [0, 1] (at least
  :data:`WIDE_ROWS` features: images such as MNIST's 784 pixels, bitmaps) are
  modelled by reconstruction through a narrow code, which has to capture a row's
  overall shape. Every other table gets a masked network (:mod:`aekit.nn.masking`),
  which predicts each feature from the others: on tables of a few to a few hundred
  heterogeneous columns that is what tells anomalies apart, while on images each
  pixel is predictable from its neighbours whatever the digit. Measured both ways
  (BENCHMARKS.md): on the ADBench tables of protocol T the masked network beats
  reconstruction by about 10 points of mean AUROC (``scripts/bench_tables.py``), on
  one-class MNIST (protocol A) reconstruction wins (``scripts/bench_oneclass.py
  --objective masked``).
- **The sizes** (:func:`auto_sizes`): the widths and the code follow the number of
  features, the batch the number of rows.
- **Trimming** (:func:`auto_trim`): a masked model is fitted twice, the second time
  without the :data:`TRIM` share of training rows that the first fit scores highest.
  Tables are usually fitted with their anomalies in them (unsupervised), and a
  network that has learned them scores them as normal; leaving out the rows most
  likely to be anomalies (data refinement: Yoon et al., "Self-supervise, refine,
  repeat", TMLR 2022) raised protocol T's mean AUROC and made the mean rank the best
  at every seed measured (BENCHMARKS.md), at twice the training time or more.
  Reconstruction models (images) fit once: on protocol A, whose training sets are one
  clean class, trimming lowered the mean AUROC a little (98.12 vs 98.25,
  ``scripts/bench_oneclass.py --trim 0.1``).
"""

OBJECTIVE_CHOICES = ("auto", "reconstruction", "masked")
WIDE_ROWS = 256  # features of a row in [0, 1] from which "auto" reconstructs it
AUTO_CODE_SIZE = 8  # one-class MNIST: codes of 8 to 16 score alike, 32 worse (it
#                     reconstructs anything)
TRIM = 0.1  # "auto" trim of a masked model: the share of training rows left out of a refit
MIXTURE = "laplace"  # a masked network's prediction of each feature: a mixture of ...
MIXTURE_COMPONENTS = 3  # ... distributions


def auto_objective(objective, scaling, n_features):
    """``objective`` with "auto" resolved for data of this scaling ("unit": within
    [0, 1]; "standard") and width (features as the network sees them)."""
    if objective != "auto":
        return objective
    return "reconstruction" if scaling == "unit" and n_features >= WIDE_ROWS else "masked"


def auto_trim(trim, objective):
    """``trim`` with "auto" resolved: :data:`TRIM` for a masked objective, else 0."""
    if trim != "auto":
        return float(trim)
    return TRIM if objective == "masked" else 0.0


def fit_schema(X, feature_names=None, objective="auto"):
    """``(schema, objective)``: the :class:`~aekit.preprocessing.InputSchema` fitted on
    rows ``X`` (names ``feature_names``, or None) and ``objective`` with "auto" resolved
    for them. A masked network predicts distributions in standard units, so its schema
    standardises even data within [0, 1]."""
    from .preprocessing import InputSchema

    schema = InputSchema.fit(X, feature_names)
    objective = auto_objective(objective, schema.scaling, schema.n_encoded)
    if objective == "masked" and schema.scaling == "unit":
        schema = schema.standardized(X)
    return schema, objective


def auto_sizes(params, n_samples, n_features, objective="reconstruction"):
    """The "auto" sizes: the network, its code and the batch follow the data's shape.

    Reconstruction: hidden layers 8 x the features wide (32..512), halving; a code of
    half the features (1..8), so that the network cannot simply copy its input (rows
    it copies look normal). On MNIST (784 features, ~5,400 training rows per digit)
    this is 784-512-256-8. Masked: one hidden layer on each side and a code, all 4 x
    the features wide (32..256): no bottleneck, since the network never sees the
    features it predicts. Both: batches of an eighth of the training rows (16..128),
    so that small tables get enough optimisation steps.
    """
    out = {}
    if objective == "masked":
        width = _clip(4 * n_features, 32, 256)
        if params["hidden"] == "auto":
            out["hidden"] = (width,)
        if params["code_size"] == "auto":
            hidden = out.get("hidden", params["hidden"])
            out["code_size"] = int(hidden[-1]) if hidden else width
    else:
        if params["hidden"] == "auto":
            width = _clip(8 * n_features, 32, 512)
            out["hidden"] = (width, width // 2)
        if params["code_size"] == "auto":
            out["code_size"] = _clip(n_features // 2, 1, AUTO_CODE_SIZE)
    if params.get("batch_size") == "auto":
        n_train = n_samples * (1 - params["validation_fraction"])
        out["batch_size"] = _clip(int(n_train) // 8, 16, 128)
    return out


def _clip(value, low, high):
    return int(min(max(value, low), high))


def network_config(params, n_features, objective, scaling):
    """The :class:`~aekit.nn.config.ModelConfig` of checked parameters (sizes resolved),
    for data of ``n_features`` network features and this scaling.

    Raises
    ------
    ValueError
        A masked objective with input noise or a convolutional network.
    """
    from .nn.config import ModelConfig

    masked = objective == "masked"
    arch = params.get("arch", "dense")
    if masked and (params.get("noise") or arch != "dense"):
        raise ValueError("objective='masked' hides features itself and needs a dense "
                         "network: give noise=None and arch='dense'")
    output = MIXTURE if masked else "sigmoid" if scaling == "unit" else "linear"
    return ModelConfig(
        n_features=n_features, code_size=params["code_size"], hidden=params["hidden"],
        dropout=params.get("dropout", 0.0), batch_norm=bool(params.get("batch_norm", False)),
        output=output, arch=arch, channels=params.get("channels", ()), objective=objective,
        components=MIXTURE_COMPONENTS if masked else 1)
