"""Pictures of a run, written into a folder: a detection's score histogram and ROC curve,
a training's loss curves and reconstructions (drawn by :mod:`aekit.plots`)."""

import numpy as np


def write_report(folder, summary, labelled=None, score_type="mse"):
    """Pictures of a detection run in ``folder``: the score histogram with the threshold
    and, with ``labelled`` = ``(y, scores)`` of the labelled rows, the ROC curve; the
    scores are of ``score_type`` (:mod:`aekit.scores`). Returns the paths written."""
    from pathlib import Path

    from . import plots
    from .labels import auroc_percent
    from .scores import SCORE_WORDS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    y, scores = labelled if labelled is not None else (None, summary.scores)
    paths = [plots.score_histogram(scores, summary.threshold, summary.how,
                                   folder / "score_histogram.png", y,
                                   SCORE_WORDS[score_type])]
    if y is not None:
        paths.append(plots.roc_plot(y, scores, summary.threshold, folder / "roc.png",
                                    auroc_percent(y, scores)))
    return paths


def write_training_report(est, X, X_test, folder):
    """Loss curves and, for images, test inputs beside their reconstructions."""
    from pathlib import Path

    from . import plots

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)  # only now: a failed run leaves no empty folder
    paths = [plots.loss_curves(est.history_, folder / "loss_curves.png",
                               title=f"{type(est).__name__} training")]
    if est.n_features_in_ == 784:
        sample = np.asarray(X_test if X_test is not None else X)[:12]
        output = est.reconstruct(sample) if hasattr(est, "reconstruct") else \
            est.inverse_transform(est.transform(sample))  # a VAE: the decoded posterior mean
        paths.append(plots.image_rows([sample, output], ["input", "output"],
                                      folder / "reconstructions.png"))
    return paths
