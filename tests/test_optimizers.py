"""aekit.nn.optimizers against torch.optim: the same updates to the bit, the same rates,
torch.optim's saved state resumed, and no torch._dynamo import."""

import subprocess
import sys

import pytest
import torch

from aekit.nn.optimizers import PlateauSchedule, make_optimizer

TORCH = {"adam": lambda ps, lr, m, wd: torch.optim.Adam(ps, lr=lr, weight_decay=wd, fused=True),
         "sgd": lambda ps, lr, m, wd: torch.optim.SGD(ps, lr=lr, momentum=m, weight_decay=wd,
                                                       foreach=True),
         "rmsprop": lambda ps, lr, m, wd: torch.optim.RMSprop(ps, lr=lr, momentum=m,
                                                               weight_decay=wd, foreach=True)}
CASES = [("adam", 0.0, 0.0), ("adam", 0.0, 1e-2), ("sgd", 0.9, 0.0), ("sgd", 0.0, 1e-3),
         ("rmsprop", 0.9, 1e-3), ("rmsprop", 0.0, 0.0)]
# the monitored loss after each epoch: a plateau, so that the rate is cut (patience 1)
LOSSES = [3.0, 2.0, 2.0, 1.9999, 2.1, 1.5, 1.5, 1.5, 1.5, 1.0]


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 6))


def _epochs(net, opt, schedule, epochs, start=0):
    """A few steps per epoch on fixed batches, the schedule stepped after each epoch."""
    for epoch in range(start, start + epochs):
        gen = torch.Generator().manual_seed(epoch)
        for _ in range(3):
            x = torch.randn(8, 6, generator=gen)
            opt.zero_grad(set_to_none=True)
            ((net(x) - x) ** 2).mean().backward()
            opt.step()
        schedule.step(LOSSES[epoch])


@pytest.mark.parametrize("name,momentum,decay", CASES)
def test_each_optimiser_takes_torch_optims_path_to_the_bit(name, momentum, decay):
    ours_net, theirs_net = _net(), _net()
    ours = make_optimizer(ours_net.parameters(), name, 0.01, momentum, decay)
    theirs = TORCH[name](list(theirs_net.parameters()), 0.01, momentum, decay)
    _epochs(ours_net, ours, PlateauSchedule(ours, 0.5, 1), len(LOSSES))
    _epochs(theirs_net, theirs,
            torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, factor=0.5, patience=1),
            len(LOSSES))
    assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"] < 0.01  # (cut)
    for a, b in zip(ours_net.parameters(), theirs_net.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name,momentum,decay", CASES)
def test_torch_optims_saved_state_resumes_here(name, momentum, decay):
    """Checkpoints written while aekit trained with torch.optim's classes continue as
    they would have."""
    theirs_net = _net()
    theirs = TORCH[name](list(theirs_net.parameters()), 0.01, momentum, decay)
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, factor=0.5, patience=1)
    _epochs(theirs_net, theirs, schedule, 4)
    ours_net = _net()
    ours_net.load_state_dict(theirs_net.state_dict())
    ours = make_optimizer(ours_net.parameters(), name, 0.01, momentum, decay)
    ours.load_state_dict(theirs.state_dict())
    ours_schedule = PlateauSchedule(ours, 0.5, 1)
    ours_schedule.load_state_dict(schedule.state_dict())
    _epochs(theirs_net, theirs, schedule, len(LOSSES) - 4, start=4)
    _epochs(ours_net, ours, ours_schedule, len(LOSSES) - 4, start=4)
    assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"]
    for a, b in zip(ours_net.parameters(), theirs_net.parameters()):
        assert torch.equal(a, b)


def test_state_saved_here_resumes_here():
    net = _net()
    opt = make_optimizer(net.parameters(), "adam", 0.01)
    schedule = PlateauSchedule(opt, 0.5, 1)
    _epochs(net, opt, schedule, 5)
    twin = _net()
    twin.load_state_dict(net.state_dict())
    twin_opt = make_optimizer(twin.parameters(), "adam", 0.5)  # (the saved rate wins)
    twin_opt.load_state_dict(opt.state_dict())
    twin_schedule = PlateauSchedule(twin_opt, 0.5, 1)
    twin_schedule.load_state_dict(schedule.state_dict())
    _epochs(net, opt, schedule, 5, start=5)
    _epochs(twin, twin_opt, twin_schedule, 5, start=5)
    assert twin_opt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), twin.parameters()))


def test_another_optimiser_name_or_other_parameters_are_refused():
    with pytest.raises(ValueError, match="optimizer must be"):
        make_optimizer(_net().parameters(), "lbfgs", 0.1)
    opt = make_optimizer(_net().parameters(), "adam", 0.1)
    with pytest.raises(ValueError, match="other parameters"):
        make_optimizer([torch.nn.Parameter(torch.zeros(2))], "adam", 0.1).load_state_dict(
            opt.state_dict())


def test_fitting_a_table_imports_no_torch_dynamo():
    """The point of the module: torch.optim's Optimizer would import torch._dynamo (and
    scipy.stats) on its first step, seconds of a small table's training."""
    code = ("import sys, numpy as np, aekit\n"
            "X = np.random.default_rng(0).normal(size=(60, 4))\n"
            "aekit.AnomalyDetector(epochs=2, random_state=0).fit(X)\n"
            "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo'))[:3])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
