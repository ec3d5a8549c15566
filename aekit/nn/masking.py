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
features are predictable from one another; an anomaly breaks that.

No torch at import: :mod:`aekit.nn.numpy_network` scores with these masks too.
"""

import numpy as np

MASK_RATES = (0.1, 0.9)  # the share of a training row's features hidden: uniform in here
MASK_SEED = 20221  # the scoring masks' seed: fixed, so every run scores alike


def scoring_masks(n_features, count):
    """The fixed masks a masked model scores with: bool, shape (count, n_features), True
    where a feature is hidden. Their hidden shares are spread evenly over
    :data:`MASK_RATES`; every feature is hidden by some mask and every mask hides
    some feature. Drawn with numpy's legacy ``RandomState``, whose stream never
    changes, so a model file scores alike wherever it is read."""
    rng = np.random.RandomState(MASK_SEED)
    low, high = MASK_RATES
    rates = np.linspace(low, high, count) if count > 1 else np.array([(low + high) / 2])
    masks = rng.rand(count, n_features) < rates[:, None]
    for j in np.flatnonzero(~masks.any(axis=0)):
        masks[rng.randint(count), j] = True
    for k in np.flatnonzero(~masks.any(axis=1)):
        masks[k, rng.randint(n_features)] = True
    return masks


def draw_masks(n_rows, n_features, generator, device):
    """Training masks (torch bool, shape (n_rows, n_features), True = hidden): each row
    hides a share of its features drawn uniformly from :data:`MASK_RATES`."""
    import torch

    low, high = MASK_RATES
    rates = low + (high - low) * torch.rand(n_rows, 1, generator=generator, device=device)
    return torch.rand(n_rows, n_features, generator=generator, device=device) < rates
