"""scikit-learn's own estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from aekit import AnomalyDetector, Autoencoder, DenoisingAutoencoder, VariationalAutoencoder

SMALL = dict(hidden=(8,), code_size=2, epochs=3, batch_size=32, device="cpu")

ESTIMATORS = [
    Autoencoder(**SMALL),
    DenoisingAutoencoder(**SMALL),
    AnomalyDetector(**SMALL),
    AnomalyDetector(method="pca"),
    VariationalAutoencoder(hidden=(8,), code_size=2, epochs=3, batch_size=32, device="cpu"),
]

EXPECTED_FAILURES = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
