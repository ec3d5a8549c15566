"""aekit inside the scikit-learn workflows people already have."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from aekit import Autoencoder, DenoisingAutoencoder

TINY = dict(hidden=(32,), epochs=4, batch_size=64, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digits(mnist_small):
    X, y, Xt, yt = mnist_small
    return X[:1000], y[:1000], Xt, yt


@pytest.fixture(scope="module")
def fitted(digits):
    return Autoencoder(code_size=8, **TINY).fit(digits[0])


def test_pipeline_scaler_autoencoder_logistic(digits):
    X, y, Xt, yt = digits
    pipe = make_pipeline(StandardScaler(), Autoencoder(code_size=8, **TINY),
                         LogisticRegression(max_iter=1000))
    pipe.fit(X, y)
    # chance is 10%: even 4 epochs on 1000 images learn features that carry the digit
    # (0.38 to 0.46 over random_state 0..4; the bar is 3x chance)
    assert pipe.score(Xt, yt) > 0.3
    assert pipe.predict(Xt[:5]).shape == (5,)


def test_grid_search_selects_by_reconstruction_without_labels(digits):
    X = digits[0][:600]
    search = GridSearchCV(Autoencoder(**TINY), {"code_size": [1, 16], "hidden": [(16,), (64,)]},
                          cv=2)
    search.fit(X)  # no y: score() is minus the reconstruction error
    assert search.best_params_["code_size"] == 16
    assert np.all(search.cv_results_["mean_test_score"] < 0)
    assert search.best_estimator_.transform(X[:3]).shape == (3, 16)


def test_cross_val_score_in_a_pipeline(digits):
    X, y = digits[0][:600], digits[1][:600]
    pipe = make_pipeline(Autoencoder(code_size=8, **TINY), LogisticRegression(max_iter=500))
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.4)


def test_score_is_minus_mean_squared_reconstruction_error(digits, fitted):
    X = digits[2][:200]
    expected = -np.mean((fitted.reconstruct(X).astype(np.float64) - X) ** 2)
    assert fitted.score(X) == pytest.approx(expected, rel=1e-6)
    barely = Autoencoder(code_size=8, **{**TINY, "epochs": 1, "lr": 1e-5}).fit(digits[0])
    assert fitted.score(X) > barely.score(X)


def test_clone_keeps_params_and_drops_the_fit(fitted):
    c = clone(fitted)
    assert c.get_params() == fitted.get_params()
    assert not hasattr(c, "net_")


def test_pickled_fitted_model_gives_the_same_codes(digits, fitted):
    X = digits[2][:50]
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(again.reconstruct(X), fitted.reconstruct(X))


def test_dataframe_feature_names_in_and_out(rng):
    cols = [f"sensor_{i}" for i in range(6)]
    df = pd.DataFrame(rng.normal(size=(120, 6)), columns=cols)
    ae = Autoencoder(code_size=3, **TINY).fit(df)
    assert list(ae.feature_names_in_) == cols
    assert list(ae.get_feature_names_out()) == ["code_0", "code_1", "code_2"]
    out = make_pipeline(StandardScaler(), clone(ae)).set_output(transform="pandas").fit(df)
    codes = out.transform(df)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == ["code_0", "code_1", "code_2"]
    # columns are matched by name, as every entry point matches them (aekit.preprocessing)
    np.testing.assert_array_equal(ae.transform(df[cols[::-1]]), ae.transform(df))
    with pytest.raises(ValueError, match=r"lacks 1 of the model's features \(sensor_0\) and "
                                         r"has 1 column\(s\) the model was not trained on "
                                         r"\(other\)"):
        ae.transform(df.rename(columns={"sensor_0": "other"}))
    with pytest.raises(ValueError, match=r"lacks 1 of the model's features \(sensor_5\)"):
        ae.transform(df[cols[:5]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(digits, fitted, dtype):
    X = digits[2][:20].astype(dtype)
    Z = fitted.transform(X)
    assert Z.dtype == dtype
    assert fitted.inverse_transform(Z).dtype == dtype
    assert fitted.reconstruct(X).dtype == dtype
    np.testing.assert_allclose(Z, fitted.transform(X.astype(np.float32 if dtype is np.float64
                                                           else np.float64)), atol=1e-4)


def test_refits_with_a_seed_are_identical(digits):
    X = digits[0][:500]
    a = Autoencoder(code_size=4, **TINY).fit(X).transform(X)
    b = Autoencoder(code_size=4, **TINY).fit(X).transform(X)
    c = Autoencoder(code_size=4, **{**TINY, "random_state": 1}).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_denoising_autoencoder_in_a_pipeline(digits):
    X, y, Xt, yt = digits
    pipe = make_pipeline(DenoisingAutoencoder(code_size=8, noise="masking:0.3", **TINY),
                         LogisticRegression(max_iter=1000)).fit(X, y)
    assert pipe.score(Xt, yt) > 0.35  # chance: 0.1


def test_docstring_examples_run():
    import doctest

    import aekit.anomaly
    import aekit.autoencoder

    attempted = 0
    for module in (aekit.autoencoder, aekit.anomaly):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0
        attempted += result.attempted
    assert attempted >= 8
