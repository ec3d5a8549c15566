"""Adam, SGD with momentum and RMSprop, and the plateau schedule: torch.optim's update
kernels, without torch.optim's ``Optimizer`` class.

torch.optim's ``Optimizer`` imports ``torch._dynamo`` on its first use (its methods are
wrapped so that ``torch.compile`` skips them), and ``torch._dynamo`` imports
``scipy.stats``: 2-4 s on a 2-core machine, a quarter of `aekit train` on a 500-row table
(BENCHMARKS.md, "The 500-row training without torch._dynamo"). aekit compiles nothing.
The updates here are torch's own functional kernels (``torch.optim.adam.adam``,
``torch.optim.sgd.sgd``, ``torch.optim.rmsprop.rmsprop``), called with the arguments
torch.optim's classes give them (those past each kernel's defaults, which torch 2.4, the
oldest aekit supports, knows too), so training takes the same path to the bit (tests hold
these to torch.optim's classes). This module keeps only the state (each parameter's
moments and step count, the group's rate) in the layout of torch.optim's ``state_dict``,
so checkpoints written through torch.optim's classes resume here.

References: Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015;
Sutskever et al., "On the importance of initialization and momentum in deep learning",
ICML 2013; Tieleman & Hinton, "RMSprop", Coursera lecture 6.5, 2012.
"""

import math

import numpy as np
import torch

FUSED_DEVICES = ("cpu", "cuda")  # where torch's Adam runs as one fused kernel


class Optimizer:
    """One group of parameters and their optimiser state.

    ``param_groups[0]`` holds the hyperparameters (a schedule may set its ``"lr"``
    between steps); ``state`` maps each parameter to its tensors. Subclasses give
    ``_update(params)``, one step for the parameters that have gradients, and
    ``state_names(group)``, the tensors of a parameter's state after a step.
    """

    def __init__(self, params, **hyper):
        self.params = list(params)
        self.param_groups = [{**hyper, "params": self.params}]
        self.state = {p: {} for p in self.params}

    @property
    def hyper(self):
        return self.param_groups[0]

    def zero_grad(self, set_to_none=True):
        """Drop the gradients (``set_to_none=False``: zero them in place)."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self):
        """One update of every parameter that has a gradient."""
        self._update([p for p in self.params if p.grad is not None])

    def state_dict(self):
        """torch.optim's layout: ``{"state": {index: {name: tensor}}, "param_groups":
        [{hyperparameters..., "params": [indices]}]}``."""
        group = {k: v for k, v in self.hyper.items() if k != "params"}
        group["params"] = list(range(len(self.params)))
        return {"state": {i: dict(self.state[p]) for i, p in enumerate(self.params)
                          if self.state[p]},
                "param_groups": [group]}

    def load_state_dict(self, state_dict):
        """Continue from :meth:`state_dict`'s (or a torch.optim optimiser's) state: the
        saved rate and per-parameter tensors; the other hyperparameters stay this
        optimiser's. Raises ValueError as :func:`check_saved_state` does, or when the state
        is another optimiser's."""
        check_saved_state(state_dict, [p.shape for p in self.params])
        group = state_dict["param_groups"][0]
        kind = saved_by(group)
        if kind is not type(self):
            raise ValueError(f"the saved optimiser state is of {kind.__name__}, "
                             f"not {type(self).__name__}")
        self.hyper["lr"] = group["lr"]
        saved = state_dict["state"]
        for i, p in enumerate(self.params):
            self.state[p] = {k: self._placed(k, torch.as_tensor(v), p)
                             for k, v in saved.get(i, {}).items()}

    def _placed(self, name, value, p):
        """A copy of a saved tensor where this optimiser keeps it: a step count as a
        float32 scalar (on the parameter's device for a fused kernel, as torch's), the
        rest like ``p``."""
        if name == "step":
            device = p.device if self.hyper.get("fused") else "cpu"
            return value.to(device=device, dtype=torch.float32, copy=True)
        return value.to(device=p.device, dtype=p.dtype, copy=True)

    def _state(self, p, **init):
        """``p``'s state, made of ``init`` (name -> function of ``p``) on its first step."""
        state = self.state[p]
        if not state:
            state.update({k: make(p) for k, make in init.items()})
        return state


def _zeros(p):
    return torch.zeros_like(p, memory_format=torch.preserve_format)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), betas (0.9, 0.999), eps 1e-8, L2 ``weight_decay`` added
    to the gradient, as ``torch.optim.Adam``. ``fused``: torch's fused kernel (every
    parameter in one pass; CPUs and CUDA GPUs); else all parameters at once
    (``foreach``)."""

    @staticmethod
    def state_names(group):
        """The tensors a parameter's state holds after a step, for saved ``group``."""
        return {"step", "exp_avg", "exp_avg_sq"}

    def __init__(self, params, lr, weight_decay=0.0, fused=False):
        super().__init__(params, lr=lr, betas=(0.9, 0.999), eps=1e-8,
                         weight_decay=weight_decay,
                         foreach=None if fused else True, fused=True if fused else None)

    def _update(self, params):
        from torch.optim.adam import adam

        h, steps, means, squares = self.hyper, [], [], []
        device = (lambda p: p.device) if h["fused"] else (lambda p: "cpu")
        for p in params:
            s = self._state(p, step=lambda p: torch.zeros((), dtype=torch.float32,
                                                          device=device(p)),
                            exp_avg=_zeros, exp_avg_sq=_zeros)
            steps.append(s["step"])
            means.append(s["exp_avg"])
            squares.append(s["exp_avg_sq"])
        adam(params, [p.grad for p in params], means, squares, [], steps,
             foreach=h["foreach"], fused=h["fused"], amsgrad=False, beta1=h["betas"][0],
             beta2=h["betas"][1], lr=h["lr"], weight_decay=h["weight_decay"],
             eps=h["eps"], maximize=False)


class SGD(Optimizer):
    """Stochastic gradient descent with heavy-ball ``momentum`` (no dampening, not
    Nesterov) and L2 ``weight_decay``, as ``torch.optim.SGD``; all parameters at once."""

    @staticmethod
    def state_names(group):
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, dampening=0,
                         weight_decay=weight_decay, nesterov=False, foreach=True, fused=None)

    def _update(self, params):
        from torch.optim.sgd import sgd

        h = self.hyper
        buffers = [self.state[p].get("momentum_buffer") for p in params] \
            if h["momentum"] != 0 else []
        sgd(params, [p.grad for p in params], buffers, foreach=h["foreach"],
            weight_decay=h["weight_decay"], momentum=h["momentum"], lr=h["lr"],
            dampening=h["dampening"], nesterov=h["nesterov"], maximize=False)
        for p, buffer in zip(params, buffers):  # (made on the first step)
            self.state[p]["momentum_buffer"] = buffer


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), alpha 0.99, eps 1e-8, not centred, with
    ``momentum`` and L2 ``weight_decay``, as ``torch.optim.RMSprop``; all parameters at
    once."""

    @staticmethod
    def state_names(group):
        return {"step", "square_avg"} | ({"momentum_buffer"} if group["momentum"] > 0 else set())

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr=lr, alpha=0.99, eps=1e-8, weight_decay=weight_decay,
                         momentum=momentum, centered=False, foreach=True)

    def _update(self, params):
        from torch.optim.rmsprop import rmsprop

        h, init = self.hyper, {"step": lambda p: torch.zeros((), dtype=torch.float32),
                               "square_avg": _zeros}
        if h["momentum"] > 0:
            init["momentum_buffer"] = _zeros
        states = [self._state(p, **init) for p in params]
        rmsprop(params, [p.grad for p in params], [s["square_avg"] for s in states], [],
                [s["momentum_buffer"] for s in states] if h["momentum"] > 0 else [],
                [s["step"] for s in states], foreach=h["foreach"], lr=h["lr"],
                alpha=h["alpha"], eps=h["eps"], weight_decay=h["weight_decay"],
                momentum=h["momentum"], centered=False)


def make_optimizer(params, optimizer, lr, momentum=0.9, weight_decay=0.0):
    """The optimiser ``optimizer`` names ("adam", "sgd" or "rmsprop") over ``params``.

    Adam runs torch's fused kernel on a CPU or a CUDA GPU (every parameter's update in
    one pass), elsewhere all its parameters at once (``foreach``), as SGD and RMSprop
    always do (torch's default on a GPU, not on a CPU). The small networks of tables
    spent a tenth of their fit in Adam's per-tensor loop, and with ``foreach`` still
    about a sixth of each step: the fused kernel fits a table's masked network 13-19%
    faster (BENCHMARKS.md, "Adam's fused kernel"). Raises ValueError for another name."""
    params = list(params)
    if optimizer == "adam":
        return Adam(params, lr, weight_decay,
                    fused=all(p.device.type in FUSED_DEVICES for p in params))
    if optimizer in ("sgd", "rmsprop"):
        return (SGD if optimizer == "sgd" else RMSprop)(params, lr, momentum, weight_decay)
    raise ValueError(f"optimizer must be 'adam', 'sgd' or 'rmsprop', got {optimizer!r}")


def saved_by(group):
    """The optimiser class whose saved parameter group ``group`` is (torch.optim's classes
    save the same hyperparameters). Raises ValueError for none of them."""
    for kind, mark in ((Adam, "betas"), (RMSprop, "alpha"), (SGD, "dampening")):
        if mark in group:
            if kind is not Adam and not _is_number(group.get("momentum")):
                raise ValueError("the saved optimiser's momentum")
            return kind
    raise ValueError("the saved optimiser is none of Adam, SGD and RMSprop")


def check_saved_state(state_dict, shapes):
    """Raises ValueError naming the first fault of a saved optimiser state
    (:meth:`Optimizer.state_dict`'s layout, or torch.optim's) for parameters of ``shapes``.

    Wanted: one parameter group, of Adam, SGD or RMSprop (:func:`saved_by`), whose rate is
    a positive finite number and which lists the parameters; for every parameter, or for
    none (before the first step), exactly the tensors its optimiser keeps: of the
    parameter's shape, floating and finite (a square average not below 0), and a step
    count a whole number of at least 0 in one value."""
    groups = state_dict["param_groups"]
    if len(groups) != 1 or not isinstance(groups[0], dict):
        raise ValueError("the saved optimiser state holds another number of groups")
    group = groups[0]
    if not _is_number(group.get("lr")) or not 0 < group["lr"] < math.inf:
        raise ValueError("the saved optimiser's rate")
    if not isinstance(group.get("params"), list) or len(group["params"]) != len(shapes):
        raise ValueError("the saved optimiser state is of other parameters")
    names, state = saved_by(group).state_names(group), state_dict["state"]
    if set(state) - set(range(len(shapes))) or state and len(state) != len(shapes):
        raise ValueError("the saved optimiser state is not of every parameter")
    for i, tensors in state.items():
        if set(tensors) != names:
            raise ValueError(f"the saved optimiser state of parameter {i}: "
                             f"{sorted(tensors)}, not {sorted(names)}")
        for name, t in tensors.items():
            a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
            _check_saved_tensor(f"{i}.{name}", name, a, shapes[i])


def _check_saved_tensor(where, name, a, shape):
    if name == "step":
        ok = a.size == 1 and a.ndim <= 1 and np.issubdtype(a.dtype, np.number) \
            and not np.issubdtype(a.dtype, np.bool_) and np.isfinite(a).all() \
            and float(a.reshape(-1)[0]) >= 0 and float(a.reshape(-1)[0]).is_integer()
    else:
        ok = tuple(a.shape) == tuple(shape) and np.issubdtype(a.dtype, np.floating) \
            and np.isfinite(a).all() and not (name in ("exp_avg_sq", "square_avg")
                                              and (a < 0).any())
    if not ok:
        raise ValueError(f"the saved optimiser tensor {where} (its shape, kind or values)")


def _is_number(v):
    """An int or float (from JSON), not a bool or NaN."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


class PlateauSchedule:
    """The rate times ``factor`` once more than ``patience`` epochs in a row bring no
    loss below ``best * (1 - 1e-4)``: ``torch.optim.lr_scheduler.ReduceLROnPlateau``'s
    rule in mode "min" with its defaults (relative threshold 1e-4, no cooldown, no
    floor, a change under 1e-8 skipped), over an :class:`Optimizer`."""

    threshold, eps = 1e-4, 1e-8

    def __init__(self, optimizer, factor, patience):
        self.optimizer, self.factor, self.patience = optimizer, factor, patience
        self.best, self.num_bad_epochs, self.last_epoch = math.inf, 0, 0

    def step(self, loss):
        """After an epoch whose monitored loss was ``loss``."""
        current = float(loss)
        self.last_epoch += 1
        if current < self.best * (1 - self.threshold):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.num_bad_epochs > self.patience:
            for group in self.optimizer.param_groups:
                old = float(group["lr"])
                new = max(old * self.factor, 0.0)
                if old - new > self.eps:
                    group["lr"] = new
            self.num_bad_epochs = 0

    def state_dict(self):
        """The schedule's state, with ReduceLROnPlateau's names."""
        return {"factor": self.factor, "patience": self.patience,
                "threshold": self.threshold, "best": self.best,
                "num_bad_epochs": self.num_bad_epochs, "last_epoch": self.last_epoch,
                "_last_lr": [float(g["lr"]) for g in self.optimizer.param_groups]}

    @staticmethod
    def check_saved(state):
        """Raises ValueError unless ``state`` (:meth:`state_dict`'s, or ReduceLROnPlateau's)
        holds a best loss (a number, or +inf before the first epoch; not -inf or NaN) and the
        epochs counted (whole numbers of at least 0, the bad ones among all)."""
        if not isinstance(state, dict) or not _is_number(state.get("best")) \
                or state["best"] == -math.inf or not all(
                    isinstance(state.get(k), int) and not isinstance(state[k], bool)
                    and state[k] >= 0 for k in ("num_bad_epochs", "last_epoch")) \
                or state["num_bad_epochs"] > state["last_epoch"]:
            raise ValueError("the saved schedule's state")

    def load_state_dict(self, state):
        """Continue from :meth:`state_dict`'s (or ReduceLROnPlateau's) state: the best
        loss and the epochs counted; ``factor`` and ``patience`` stay this schedule's.
        Raises ValueError as :meth:`check_saved` does."""
        self.check_saved(state)
        self.best = float(state["best"])
        self.num_bad_epochs = int(state["num_bad_epochs"])
        self.last_epoch = int(state["last_epoch"])
