"""The sections every estimator's saved state shares (see :mod:`aekit.model_file`).

Each estimator writes its own document (``get_state``) and rebuilds itself from one
(``from_state``); these functions are the parts they have in common: parameters,
the input schema, the networks and the training summary.
"""

import numpy as np

from .params import check_params


def params_document(est):
    """An estimator's parameters as JSON-able values (tuples become lists). A
    ``random_state`` given as a numpy generator is stored as None: its state is not a
    parameter a model file can hold (the seed the fit drew from it is in the file's
    training summary, ``training_summary_["seed"]``)."""
    doc = {k: (list(v) if isinstance(v, tuple) else v)
           for k, v in est.get_params(deep=False).items()}
    if isinstance(doc.get("random_state"), (np.random.RandomState, np.random.Generator)):
        doc["random_state"] = None
    return doc


def estimator_with_params(cls, params):
    """``cls(**params)`` for the names ``cls`` knows (lists read as tuples), the values
    checked by the class's rules (ValueError naming the first bad one)."""
    known = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()}
    est = cls()
    known = {k: v for k, v in known.items() if k in est.get_params(deep=False)}
    try:
        check_params(known, cls)
    except (ValueError, TypeError, OverflowError) as e:
        raise ValueError(f"invalid estimator parameters ({e})") from None
    return est.set_params(**known)


def unfinished_fit_error(doc, path):
    """For a model file's document ``doc`` that fails to load as a model: a
    ModelFileError saying that ``path`` is the checkpoint of an unfinished fit (whose
    detector has no threshold yet) when it is one, else None."""
    from .errors import ModelFileError, literal

    if not doc.get("training_state"):
        return None
    return ModelFileError(f"{literal(str(path))} is the checkpoint of an unfinished fit, whose "
                          "detector has no threshold yet: finish the fit from it ({resume}), "
                          "or use the finished model", params=("resume",))


def trained_as_detector(doc):
    """Whether a document's autoencoder was trained by `aekit train` to be a detector: on a
    table (``--data``) or on some MNIST digits (``--digits``), without input noise."""
    data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
    if doc.get("estimator") != "Autoencoder" or doc.get("training_state"):
        return False
    return data.get("source") in ("table", "csv") or (
        data.get("source") == "mnist" and bool(data.get("digits")))


def set_schema(est, schema):
    """Give a fitted estimator its input schema and the scikit-learn attributes it implies."""
    est.schema_ = schema
    est.n_features_in_ = schema.n_features
    if schema.feature_names is not None:
        est.feature_names_in_ = np.asarray(schema.feature_names, dtype=object)
    elif hasattr(est, "feature_names_in_"):
        del est.feature_names_in_


def networks_document(nets, first=0):
    """``(configs, tensors)`` of trained networks: their configs as dicts and their
    tensors named ``net.I.NAME`` (numpy, on the CPU), I counting from ``first``."""
    configs, tensors = [], {}
    for i, net in enumerate(nets, start=first):
        configs.append(net.config.to_dict())
        for k, v in net.state_dict().items():
            tensors[f"net.{i}.{k}"] = v.detach().cpu().numpy()
    return configs, tensors


def networks_from(doc, tensors, n_features, device):
    """The document's networks, checked against their tensors, on ``device``.

    Raises
    ------
    ValueError
        A config that is malformed or too large, or tensors that do not match it.
    """
    from .model_file import check_network_config, network_tensors
    from .nn.network import build_network
    from .nn.vae import KIND, VAEConfig, VAENet

    nets = []
    for i, entry in enumerate(doc.get("networks") or []):
        vae = isinstance(entry, dict) and entry.get("kind") == KIND
        try:
            config = VAEConfig.from_dict(entry) if vae else check_network_config(entry)
        except (ValueError, TypeError) as e:
            raise ValueError(f"invalid network config ({e})") from None
        if config.n_features != n_features:
            raise ValueError("the network's config does not match the input schema "
                             f"({config.n_features} features, not {n_features})")
        nets.append(build_network(config, network_tensors(tensors, i),
                                  VAENet if vae else None).to(device))
    return nets


def summary_document(summary, history):
    return {**(summary or {}), "history": history}


def set_summary(est, doc):
    """``history_``, ``training_summary_`` and ``n_epochs_`` from a document's summary."""
    summary = doc.get("summary") or {}
    est.history_ = summary.get("history") or {}
    est.training_summary_ = {k: v for k, v in summary.items() if k != "history"}
    est.n_epochs_ = int(summary.get("epochs") or 0)


class SavesState:
    """``save``: an estimator's ``get_state()`` as one model file."""

    def save(self, path, weights_dtype=None, metadata=None):
        """Write the fitted estimator to one safetensors file (atomically); returns ``path``.

        ``weights_dtype=numpy.float16`` halves the file; ``metadata`` adds sections to
        the document (``"data"``, ``"evaluation"``: what `aekit train` records). Read
        it back with :func:`aekit.load`.
        """
        from .model_file import write_model_file

        doc, tensors = self.get_state()
        return write_model_file(path, {**doc, **(metadata or {})}, tensors,
                                weights_dtype=weights_dtype)


class HoldsNetwork:
    """What an estimator with one trained torch network in ``net_`` (on ``device_``) has in
    common: its batch runner, its codes' names, and a pickle that opens on any machine."""

    def engine(self):
        """The fitted network's batch runner (:class:`aekit.nn.engine.TorchEngine`)."""
        from sklearn.utils.validation import check_is_fitted

        from .nn.engine import TorchEngine

        check_is_fitted(self, "net_")
        return TorchEngine(self.net_, self.device_)

    def get_feature_names_out(self, input_features=None):
        """The codes' names, ``code_0``, ``code_1``, ... (as `aekit encode` writes them)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "net_")
        return np.asarray([f"code_{i}" for i in range(self.net_.config.code_size)],
                          dtype=object)

    def network_state(self, net=None, summary=None, history=None, scoring=None):
        """``(document, tensors)`` of the fitted model: parameters, input schema, the one
        network (``net`` standing in for ``net_``, and ``summary``/``history`` for
        ``training_summary_``/``history_``, while a fit is under way) and ``scoring`` (a
        JSON-able dict, or None)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "schema_")
        configs, tensors = networks_document([self.net_ if net is None else net])
        doc = {
            "estimator": type(self).__name__,
            "params": params_document(self),
            "schema": self.schema_.to_json(),
            "networks": configs,
            "scoring": scoring,
            "summary": summary_document(
                self.training_summary_ if summary is None else summary,
                self.history_ if history is None else history),
        }
        return doc, tensors

    @classmethod
    def restored(cls, document, tensors, device="auto"):
        """An estimator of ``cls`` with a model file's parameters, input schema, training
        summary and one network (``net_`` on ``device_``); what is its own (scoring, a
        network's kind) the caller sets and checks.

        Raises
        ------
        ValueError
            Any part of the document or the tensors is malformed, or the file holds other
            than one network (the message names it).
        """
        from .device import resolve_device
        from .preprocessing import InputSchema

        est = estimator_with_params(cls, document["params"])
        schema = InputSchema.from_json(document["schema"])
        dev = resolve_device(device)
        nets = networks_from(document, tensors, schema.n_encoded, dev)
        if len(nets) != 1:
            raise ValueError(f"a {cls.__name__} file holds one network, not {len(nets)}")
        set_schema(est, schema)
        est.net_, est.device_ = nets[0], dev
        set_summary(est, document)
        return est

    def __getstate__(self):
        state = self.__dict__.copy()
        if "net_" in state:  # move to CPU so a pickle opens on any machine
            state["net_"] = state["net_"].to("cpu")
            state["device_"] = "cpu"
        return state
