"""Masked training and scoring: which features a masked network is shown, and which it
must predict.

A network with ``objective="masked"`` (:class:`aekit.nn.config.ModelConfig`) reads a
row with some features hidden, together with the mask saying which, and predicts a
distribution for every feature (a mixture of Laplace distributions); it is trained
on the hidden ones only, so it learns to predict each feature from the others, as
BERT and masked autoencoders do (Devlin et al., NAACL 2019; He et al., CVPR 2022;
masking noise: Vincent et al., ICML 2008). Each training row hides a share of its
features drawn uniformly from :data:`MASK_RATES`, so the network learns to predict
from few features and from many.

A row's anomaly score averages, over ``score_masks`` fixed masks (the same for every
row and every run: :func:`scoring_masks`), how surprising each hidden feature is to
the network (its negative log-likelihood; :mod:`aekit.scores`). A normal row's
features are predictable from one another; an anomaly breaks that. The scoring masks
come in complementary pairs that cover the features evenly (:func:`scoring_masks`),
so that each feature is judged both from most of the others and from few of them by
a few masks (BENCHMARKS.md, "Scoring masks"). A network fitted with ``mask_spread``
(:class:`aekit.nn.config.ModelConfig`) weighs each mask's mean surprise by its spread
over the training rows (:func:`mask_spreads`, :func:`mask_weights`), so that every mask
counts alike: a mask whose hidden features are near-exactly predictable (a linear
relation) is not drowned by the noisier ones. A network fitted with ``two_valued``
scores a feature that takes two values alone in the training rows (a one-hot category,
a flag) by how likely the value's side of their midpoint is (:func:`two_values`), a
Bernoulli surprise, where the density at the value would be unbounded.

No torch at import: :mod:`aekit.nn.numpy_network` scores with these masks too.
"""

import numpy as np

from .config import SCORE_DESIGNS

MASK_RATES = (0.1, 0.9)  # the share of a training row's features hidden: uniform in here
MASK_SEED = 20221  # the scoring masks' seed: fixed, so every run scores alike
SPREAD_FLOOR = 0.1  # a mask's spread is at least this share of the masks' median spread
MEAN_DEVIATION_SHARE = 0.25  # and at least this share of its mean absolute deviation
MIN_SPREAD = 1e-6  # nats: and at least this (a table whose masks never vary)
ON_VALUE = 1e-4  # a value this share of a two-valued feature's gap from one of them is at it


def scoring_masks(n_features, count, design="pairs", held=()):
    """The fixed masks a masked model scores with: bool, shape (count, n_features), True
    where a feature is hidden; every feature is hidden by some mask and every mask hides
    some feature. Their hidden shares are spread evenly over :data:`MASK_RATES`. Drawn
    with numpy's legacy ``RandomState``, whose stream never changes, so a model file
    scores alike wherever it is read.

    ``held``: features hidden by every mask (a network's ``held_at_zero``: categorical
    columns' unseen slots, 0 in every training row); the masks are drawn over the others
    as they would be without them, so that the slots take no mask's place (drawn among
    the features, a mask that hid slots alone, or a few features and slots, made the
    scores of tables with categories worse: BENCHMARKS.md, "A category never seen in
    training").

    ``design="pairs"`` (the default): the masks come in complementary pairs (the k-th
    lowest share's mask and the k-th highest's hide opposite features), so every
    feature is hidden by exactly one mask of each pair; the pairs' low-share masks walk
    one random order of the features, each hiding the features after the last one's
    (round and round), so every feature is also hidden by some low-share mask, where
    most of the others are shown. ``"random"`` (model files of aekit 0.2.0 and
    earlier): each feature hidden at random at each mask's share.

    Raises
    ------
    ValueError
        An unknown ``design``.
    """
    if design not in SCORE_DESIGNS:
        raise ValueError(f"design must be one of {SCORE_DESIGNS}, got {design!r}")
    if len(held):
        others = np.setdiff1d(np.arange(n_features), held)
        masks = np.ones((count, n_features), dtype=bool)
        if len(others):
            masks[:, others] = scoring_masks(len(others), count, design)
        return masks
    rng = np.random.RandomState(MASK_SEED)
    low, high = MASK_RATES
    rates = np.linspace(low, high, count) if count > 1 else np.array([(low + high) / 2])
    if design == "pairs":  # shares low + high = 1: mask k's complement is mask -1-k's
        masks = np.zeros((count, n_features), dtype=bool)
        order, start = rng.permutation(n_features), 0
        for k in range(count // 2):
            size = max(1, int(round(rates[k] * n_features)))
            masks[k, order[np.arange(start, start + size) % n_features]] = True
            masks[count - 1 - k] = ~masks[k]
            start += size
        if count % 2:
            masks[count // 2] = rng.rand(n_features) < rates[count // 2]
    else:
        masks = rng.rand(count, n_features) < rates[:, None]
    for j in np.flatnonzero(~masks.any(axis=0)):
        masks[rng.randint(count), j] = True
    for k in np.flatnonzero(~masks.any(axis=1)):
        masks[k, rng.randint(n_features)] = True
    return masks


def draw_masks(n_rows, n_features, generator, device, held=()):
    """Training masks (torch bool, shape (n_rows, n_features), True = hidden): each row
    hides a share of its features drawn uniformly from :data:`MASK_RATES`, and the
    features ``held`` always (as :func:`scoring_masks` hides them)."""
    import torch

    low, high = MASK_RATES
    rates = low + (high - low) * torch.rand(n_rows, 1, generator=generator, device=device)
    masks = torch.rand(n_rows, n_features, generator=generator, device=device) < rates
    if len(held):
        masks[:, list(held)] = True
    return masks


def mask_spreads(Q):
    """Each scoring mask's spread (float32, shape (n_masks,)), in nats, from ``Q`` (n_rows,
    n_masks): training rows' mean surprise over the features each mask hides. The
    spread is the median absolute deviation (MAD) from the median, at least
    :data:`MEAN_DEVIATION_SHARE` times the mean absolute deviation from it, at least
    :data:`SPREAD_FLOOR` times the masks' median spread, and at least
    :data:`MIN_SPREAD`, so that no mask's weight is unbounded.

    The mean absolute deviation stands in where the MAD collapses: a mask hiding a
    category most rows share (a flag that is True in 9 rows of 10) surprises most rows
    alike, so their MAD is near 0 though the other rows' surprise varies, and the rare
    category alone would decide the score. Where the surprise is spread like a normal
    or exponential variable the MAD is 0.85 or 0.69 times the mean absolute deviation,
    so the MAD stands (BENCHMARKS.md, "Mask spreads where the MAD collapses").
    """
    Q = np.asarray(Q, dtype=np.float64)
    deviation = np.abs(Q - np.median(Q, axis=0))
    spread = np.maximum(np.median(deviation, axis=0),
                        MEAN_DEVIATION_SHARE * deviation.mean(axis=0))
    return np.maximum(spread, max(SPREAD_FLOOR * np.median(spread), MIN_SPREAD)).astype(
        np.float32)


def spreads_are_valid(spread):
    """Whether ``spread`` (a model file's, any float dtype) holds spreads that
    :func:`mask_spreads` can have given: finite and, in float32 as they are used, at
    least :data:`MIN_SPREAD` (a smaller one would make a mask's weight unbounded)."""
    v = np.asarray(spread, dtype=np.float64)
    if not np.isfinite(v).all():
        return False
    return bool((v.astype(np.float32) >= np.float32(MIN_SPREAD)).all())


def early_map(late, early, weight):
    """The affine map ``(a, b)`` (float32, shape (2,)) that puts an early network's scores
    on its late network's scale, ``a * early + b``, from both networks' scores of the
    same training rows (``late``, ``early``: (n_rows,)); None when either's spread is
    below :data:`MIN_SPREAD` (the scores of one never vary: nothing to weigh).

    Each score is read as a robust z-score among the training rows, (score - median) /
    (1.4826 MAD); the early network's is multiplied by ``weight``, and mapped back to the
    late network's units: ``a = weight * MAD_late / MAD_early``, ``b = median_late - a *
    median_early``. :func:`with_early` takes, row by row, the larger of the late score
    and the mapped early one: the larger of the two z-scores (the early network's
    weighed), in the late network's units.
    """
    stats = []
    for scores in (late, early):
        s = np.asarray(scores, dtype=np.float64)
        median = np.median(s)
        stats.append((median, np.median(np.abs(s - median))))
    (m_late, d_late), (m_early, d_early) = stats
    if not (d_late >= MIN_SPREAD and d_early >= MIN_SPREAD):  # (False for a NaN: min()
        return None  # of a NaN and a number gives the number when the NaN comes second)
    a = weight * d_late / d_early
    return np.array([a, m_late - a * m_early], dtype=np.float32)


def early_map_is_valid(mapping):
    """Whether ``mapping`` (a model file's) can be :func:`early_map`'s: two values, finite
    in float32 as they are used (a float64 1e300 is inf there), the first (the scale)
    positive."""
    v = np.asarray(mapping, dtype=np.float64)
    if v.shape != (2,) or not np.isfinite(v).all():
        return False
    with np.errstate(over="ignore"):
        v = v.astype(np.float32)
    return bool(np.isfinite(v).all()) and bool(v[0] > 0)


def with_early(late, early, mapping):
    """The parts of each row's score (shape of ``late``, (n, n_features)) of a network
    holding an early network: the late network's surprise at each feature (``late``),
    or, in a row whose early score mapped by ``mapping`` (:func:`early_map`) is the
    larger, the early network's (``early``), scaled so that the parts' mean is the
    mapped score (each part in proportion to the early network's surprise at the
    feature: an additive offset per part would give a categorical column's k one-hot
    slots k offsets in :meth:`explain`). numpy or torch arrays; ``late`` is overwritten.

    An early network is the same network after its first fit's first epoch: it has
    learned the normal rows' regularities but not yet the training rows' anomalies,
    which a network trained to the end predicts as normal (the memorisation effect of
    networks trained on noisy data: Arpit et al., "A closer look at memorization in deep
    networks", ICML 2017). Taking the larger score flags a row that either network finds
    surprising (BENCHMARKS.md, "An early network beside the trained one").
    """
    mean = early.mean(axis=1)
    use = mean * mapping[0] + mapping[1] > late.mean(axis=1)
    mean, parts = mean[use], early[use]
    zero = mean == 0  # (a row the early network finds no surprise in: the map's offset alone)
    score = mean * mapping[0] + mapping[1]
    # scaled, not shifted, so that a feature the early network is not surprised by (an
    # unseen slot held at 0) takes no part of the offset, and a column of many one-hot
    # slots (explain sums them) no share of it per slot
    late[use] = parts * (score / (mean + zero))[:, None] + (zero * score)[:, None]
    return late


def mask_weights(masks, spread=None):
    """What mask k's surprise at feature j is multiplied by in feature j's part of the
    score (float32, shape of ``masks``: (n_masks, n_features); 0 where the mask shows j).

    ``spread`` None: 1 / the number of masks hiding j, so each part is the feature's
    surprise averaged over those masks (in nats). With ``spread`` (n_masks,; see
    :func:`mask_spreads`): n_features / (n_masks * h_k * spread_k), h_k the features
    mask k hides, so the parts' mean, the score, is the mean over masks of each mask's
    mean surprise divided by its spread. A feature's parts then weigh with the masks
    that hide it: with equal spreads, a feature hidden by masks that hide few others
    takes a larger share of the score (explain) than one hidden by masks that hide many.
    """
    hidden = np.asarray(masks, dtype=np.float64)
    if spread is None:
        weights = hidden / hidden.sum(axis=0)
    else:
        n_masks, n_features = hidden.shape
        per_mask = n_features / (n_masks * hidden.sum(axis=1) * np.asarray(spread, np.float64))
        weights = hidden * per_mask[:, None]
    return weights.astype(np.float32)


def two_values(X):
    """Each feature's two values, where it takes exactly two in the rows ``X`` (n_rows,
    n_features; scaled, finite): float32, shape (2, n_features), the lower in row 0 and
    the higher in row 1; a feature with one value or more than two gets (0, 0).

    A masked network fitted with ``two_valued`` (:class:`aekit.nn.config.ModelConfig`)
    scores such a feature (a one-hot category, a flag: most rows share one value) by
    the surprise of the value's side of the midpoint under its predicted mixture, a
    Bernoulli surprise (:meth:`aekit.nn.network.AutoencoderNet.surprise_at`). The
    density at the value, the surprise of every other feature, is unbounded there: the
    network learns a near-certain prediction of the common value, and a row holding the
    rare one, normal as it is, scored hundreds of nats on that feature alone
    (BENCHMARKS.md, "Tables with categories: a Bernoulli surprise and a trim within each
    value").
    """
    X = np.asarray(X)
    out = np.zeros((2, X.shape[1]), dtype=np.float32)
    if not len(X):
        return out
    for j in range(X.shape[1]):
        column = np.asarray(X[:, j], dtype=np.float32)
        low, high = column.min(), column.max()
        if low < high and bool(((column == low) | (column == high)).all()):
            out[:, j] = low, high
    return out


def two_values_are_valid(values, n_features):
    """Whether ``values`` (a model file's) can be :func:`two_values`' for ``n_features``
    features: float32 or float64 (a half-precision copy no longer matches the training
    rows' values), shape (2, n_features), finite, the lower value never above the
    higher."""
    if np.asarray(values).dtype not in (np.float32, np.float64):
        return False
    v = np.asarray(values, dtype=np.float64)
    return v.shape == (2, n_features) and bool(np.isfinite(v).all()) \
        and bool((v[0] <= v[1]).all())


def on_two_values(target, low, high):
    """Where ``target`` (n, k) holds one of the two values ``low`` / ``high`` (k,) of a
    two-valued feature (within :data:`ON_VALUE` of their gap; False for a feature that
    is not two-valued, whose ``low`` equals its ``high``). numpy or torch arrays."""
    tolerance = ON_VALUE * (high - low)
    return (low < high) & ((abs(target - low) <= tolerance) | (abs(target - high) <= tolerance))
