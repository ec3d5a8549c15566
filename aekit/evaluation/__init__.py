"""The evaluation protocols of docs/protocols.md as functions usable from scripts.

>>> from aekit.evaluation import one_class_auroc          # doctest: +SKIP
>>> result = one_class_auroc(digits=[0, 1])                # doctest: +SKIP
>>> print(result.table())                                  # doctest: +SKIP
"""

from .oneclass import OneClassResult, one_class_auroc

__all__ = ["OneClassResult", "one_class_auroc"]
