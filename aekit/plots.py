"""Pictures, made headless (matplotlib's Agg backend) and written atomically."""

import numpy as np

from .atomic import atomic_open


def figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(fig, path, dpi=110):
    """Write ``fig`` as a PNG (atomically for a regular file, in place for a pipe)."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()  # rendered in memory: the PNG writer seeks, which a pipe cannot
    fig.savefig(buf, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    with atomic_open(path, "wb") as f:
        f.write(buf.getvalue())
    return path


def loss_curves(history, path, title="Training"):
    """Training and validation loss per epoch, with the learning rate beside."""
    fig, ax = figure(figsize=(6, 3.6))
    train = history.get("train_loss") or []
    val = [v for v in (history.get("val_loss") or [])]
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, label="training loss", marker="o", ms=3)
    if val and not all(v is None or np.isnan(v) for v in val):
        ax.plot(epochs, [np.nan if v is None else v for v in val], label="validation loss",
                marker="o", ms=3)
        best = int(np.nanargmin([np.nan if v is None else v for v in val]))
        ax.axvline(best + 1, color="grey", ls=":", label=f"best epoch ({best + 1})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per sample")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def image_rows(rows, labels, path, side=28, title=None):
    """A grid of 28x28 images: one row per entry of ``rows`` (each (n, 784))."""
    n = min(len(r) for r in rows)
    fig, axes = figure(len(rows), n, figsize=(n * 0.9, len(rows) * 1.0 + 0.3), squeeze=False)
    for i, (imgs, label) in enumerate(zip(rows, labels)):
        for j in range(n):
            ax = axes[i][j]
            ax.imshow(np.clip(np.asarray(imgs[j]).reshape(side, side), 0, 1), cmap="gray",
                      vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def score_histogram(scores, limit, how, path, y=None, what="reconstruction error"):
    """Histogram of anomaly scores with the threshold (by label when ``y`` is given);
    ``what`` the scores are, in words (:data:`aekit.scores.SCORE_WORDS`)."""
    fig, ax = figure(figsize=(6, 3.6))
    hi = max(float(np.percentile(scores, 99.5)), limit) * 1.15 if len(scores) else 1.0
    bins = np.linspace(0, hi if np.isfinite(hi) and hi > 0 else 1.0, 60)
    clipped = np.minimum(scores, bins[-1])
    if y is not None:
        ax.hist(clipped[y == 0], bins=bins, alpha=0.6, label="normal (label)")
        ax.hist(clipped[y == 1], bins=bins, alpha=0.6, label="anomaly (label)")
    else:
        ax.hist(clipped, bins=bins, alpha=0.8, label="rows")
    ax.axvline(limit, color="C3", ls="--", label=f"threshold {limit:.3g} ({how})")
    ax.set_xlabel(f"anomaly_score ({what};\nthe last bin holds the larger ones)")
    ax.set_ylabel("rows")
    if y is not None:  # a few anomalies beside many normal rows: both visible
        ax.set_yscale("log")
        ax.set_ylabel("rows (log scale)")
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3,
              frameon=False)  # above the bars and the threshold, hiding neither
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def roc_plot(y, scores, limit, path, auroc):
    """The ROC curve of ``scores`` against 0/1 labels ``y``, with the threshold's point."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, scores)
    fig, ax = figure(figsize=(4.2, 4))
    ax.plot(fpr, tpr, lw=1.6, label=f"AUROC {auroc:.2f} %")
    at = float(np.mean(scores[y == 0] > limit)), float(np.mean(scores[y == 1] > limit))
    ax.plot(*at, "o", color="C3", label=f"threshold {limit:.3g}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls=":")
    ax.set_xlabel("false positive rate (normal rows flagged)")
    ax.set_ylabel("true positive rate (anomalies flagged)")
    ax.set_title("ROC of anomaly_score against the labels")
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)
