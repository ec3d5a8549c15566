"""A label column read beside the scores: which rows are anomalies, and the AUROC.

:class:`AnomalyLabels` turns a carried label column into 1 = anomaly / 0 = normal (not
scikit-learn's ``LabelBinarizer``: it knows aekit's conventions: 0/1, true/false,
"anomaly"/"normal", a detector's digits, or the normal values given), and
:func:`auroc_report` words the AUROC of the scores against them.
"""

import numpy as np

from .errors import as_parameter, is_number, word


class AnomalyLabels:
    """Turns a carried label column into 1 = anomaly / 0 = normal, for the AUROC.

    ``normal_labels``: the label values of normal rows; by default 0 of a 0/1 label,
    or, for a model trained on some MNIST digits (``digits``), those digits. Rows whose
    label is missing (an empty cell, or a missing-value word: NA, nan, null...) are left
    out of the AUROC. ``wording`` names the parameters in ``why`` (:mod:`aekit.errors`;
    the CLI gives its flags').
    """

    def __init__(self, normal_labels=(), digits=None, wording=as_parameter):
        self.wording = wording
        self.normal = {str(v).strip() for v in normal_labels} if normal_labels else None
        # a normal label that is a number matches the same number however written (0, 0.0)
        self.normal_numbers = {float(v) for v in self.normal or () if is_number(v)}
        self.normal_seen = False
        self.digits = {str(int(d)) for d in digits} if digits and not normal_labels else None
        self.parts = []  # per chunk: 1 anomaly, 0 normal, -1 no label
        self.seen = set()
        self.why = None

    def add(self, labels):
        import pandas as pd

        from .tables.dialect import MISSING_WORDS

        cells = labels.astype(object)
        missing = pd.isna(cells).to_numpy()  # empty, null, and a float label's NaN
        s = cells.where(~missing, "").map(str).str.strip()
        # the words a table's missing cells are written as (NA, nan, null...), as for features
        unlabelled = missing | s.isin(MISSING_WORDS).to_numpy()
        if len(self.seen) < 50:
            self.seen.update(s[~unlabelled].unique()[:50])
        if self.normal is not None:
            normal = s.isin(self.normal).to_numpy().copy()
            if self.normal_numbers:
                normal |= pd.to_numeric(s, errors="coerce").isin(self.normal_numbers).to_numpy()
            self.normal_seen = self.normal_seen or bool((normal & ~unlabelled).any())
            y = (~normal).astype(np.int8)
        elif self.digits is not None:
            y = (~s.str.replace(r"\.0$", "", regex=True).isin(self.digits)).to_numpy(np.int8)
        else:
            low = s.str.lower()
            ones = low.isin({"1", "1.0", "true", "anomaly"})
            zeros = low.isin({"0", "0.0", "false", "normal"})
            if not (ones | zeros | unlabelled).all():
                self.why = word("the label column is not 0/1: name the normal value(s) with "
                                "{normal_labels} for the AUROC", None, self.wording)
            y = ones.to_numpy(np.int8)
        y[unlabelled] = -1
        self.parts.append(y)

    def result(self):
        """``(y, labelled)``: 0/1 labels of the labelled rows and the mask of those rows, or
        None (with ``why`` set) when they cannot give an AUROC."""
        if self.why is not None or not self.parts:
            return None
        y = np.concatenate(self.parts)
        labelled = y >= 0
        if self.normal is not None and not self.normal_seen:
            shown = ", ".join(sorted(self.seen)[:10])
            self.why = (f"no row has the normal label {', '.join(sorted(self.normal))}; the "
                        f"labels seen: {shown}")
            return None
        if not labelled.any():
            self.why = "the label column holds no labels (every cell is empty): no AUROC"
            return None
        if y[labelled].min() == y[labelled].max():
            self.why = "the labels hold one class only: no AUROC"
            if self.digits is not None:  # every label was read against the model's digits
                digits = ", ".join(sorted(self.digits))
                shown = ", ".join(sorted(self.seen)[:10]).replace("{", "{{").replace("}", "}}")
                self.why = word(
                    f"the labels hold one class only when read against the digits the model "
                    f"was trained on ({digits}), the normal labels by default (labels seen: "
                    f"{shown}): name the normal value(s) with {{normal_labels}} for the AUROC",
                    None, self.wording)
            return None
        return y[labelled], labelled


def auroc_percent(y, scores):
    """The AUROC (%) of ``scores`` against 0/1 labels ``y`` (scikit-learn's)."""
    from sklearn.metrics import roc_auc_score

    return 100.0 * float(roc_auc_score(y, scores))


def auroc_report(labels, scores):
    """``(labelled, line)``: ``(y, scores)`` of the labelled rows and the AUROC line for
    people, or ``(None, note)`` when the labels give no AUROC (``note`` may be None)."""
    found = labels.result() if labels is not None else None
    if found is None:
        return None, (labels.why if labels is not None else None)
    y, mask = found
    left = int(len(mask) - mask.sum())
    s = np.asarray(scores)[mask]
    line = (f"AUROC of anomaly_score against the labels: {auroc_percent(y, s):.2f} % "
            f"({int(y.sum())} anomalies, {int(len(y) - y.sum())} normal rows"
            + (f"; {left} rows without a label left out" if left else "") + ")")
    return (y, s), line
