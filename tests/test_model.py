import torch
from torch import nn

from aekit.nn.config import ModelConfig
from aekit.nn.network import AutoencoderNet
from aekit.nn.noise import Noise, parse_noise
import pytest


def test_architecture_is_mirrored_and_xavier_initialised():
    torch.manual_seed(0)
    net = AutoencoderNet(ModelConfig(n_features=20, code_size=3, hidden=(16, 8),
                                     dropout=0.1, batch_norm=True))
    enc = [m for m in net.encoder if isinstance(m, nn.Linear)]
    dec = [m for m in net.decoder if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in enc] == [(20, 16), (16, 8), (8, 3)]
    assert [(m.in_features, m.out_features) for m in dec] == [(3, 8), (8, 16), (16, 20)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net.modules()) == 4
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == 4
    # the code layer is linear (no ReLU after the last encoder layer)
    assert isinstance(net.encoder[-1], nn.Linear)
    # Xavier-uniform bound: sqrt(6 / (fan_in + fan_out)), biases zero
    bound = (6 / (20 + 16)) ** 0.5
    assert enc[0].weight.abs().max() <= bound and enc[0].weight.abs().max() > 0.8 * bound
    assert torch.all(enc[0].bias == 0)


def test_output_activation_matches_loss():
    x = torch.rand(5, 10)
    sig = AutoencoderNet(ModelConfig(n_features=10, code_size=2, hidden=(4,), output="sigmoid"))
    out = sig.decode(sig.encode(x))
    assert out.min() >= 0 and out.max() <= 1
    expected = nn.functional.binary_cross_entropy(out, x, reduction="sum") / 5
    assert torch.allclose(sig.loss(sig(x), x), expected, rtol=1e-4)
    lin = AutoencoderNet(ModelConfig(n_features=10, code_size=2, hidden=(4,), output="linear"))
    assert torch.allclose(lin.loss(lin(x), x), ((lin(x) - x) ** 2).sum(1).mean())


@pytest.mark.parametrize("spec,kind,level", [("gaussian:0.5", "gaussian", 0.5),
                                             ("masking:0.25", "masking", 0.25),
                                             ("dropout:0.9", "dropout", 0.9),
                                             ("saltpepper:0.1", "saltpepper", 0.1)])
def test_parse_noise(spec, kind, level):
    assert parse_noise(spec) == Noise(kind, level)


@pytest.mark.parametrize("bad", ["gauss:1", "masking", "masking:2", "gaussian:-1", "saltpepper:x",
                                 "dropout:1"])
def test_parse_noise_rejects(bad):
    with pytest.raises(ValueError):
        parse_noise(bad)


def test_noise_statistics():
    g = torch.Generator().manual_seed(0)
    x = torch.full((200, 500), 0.5)
    masked = Noise("masking", 0.25).apply(x, g)
    assert abs((masked == 0).float().mean().item() - 0.25) < 0.01
    sp = Noise("saltpepper", 0.1).apply(x, g)
    assert abs((sp == 0).float().mean().item() - 0.05) < 0.005
    assert abs((sp == 1).float().mean().item() - 0.05) < 0.005
    gauss = Noise("gaussian", 0.1).apply(x, g)
    assert abs((gauss - x).std().item() - 0.1) < 0.005
    assert Noise("gaussian", 5).apply(x, g).max() <= 1  # clipped for [0, 1] data
    dropped = Noise("dropout", 0.75).apply(x, g)
    assert abs((dropped == 0).float().mean().item() - 0.75) < 0.01
    assert set(dropped.unique().tolist()) == {0.0, 2.0}  # the kept inputs are x / (1 - P)
    assert abs(dropped.mean().item() - 0.5) < 0.01  # so the mean input is unchanged


def test_mixed_noise_draws_one_kind_per_sample():
    noise = parse_noise("masking:0.5+gaussian:0.2")
    assert str(noise) == "masking:0.5+gaussian:0.2"
    x = torch.full((400, 300), 0.5)
    y = noise.apply(x, torch.Generator().manual_seed(0))
    masked_rows = (y == 0).float().mean(1) > 0.3
    gaussian_rows = ((y - 0.5).abs() > 0.01).float().mean(1) > 0.9
    assert torch.all(masked_rows ^ gaussian_rows)  # each row got exactly one kind
    assert 150 < int(masked_rows.sum()) < 250
    with pytest.raises(ValueError):
        parse_noise("masking:0.5+")


def test_conv_architecture_halves_then_mirrors_the_image():
    torch.manual_seed(0)
    cfg = ModelConfig(n_features=784, code_size=10, arch="conv", channels=(4, 8), batch_norm=True)
    net = AutoencoderNet(cfg)
    convs = [m for m in net.encoder if isinstance(m, nn.Conv2d)]
    ups = [m for m in net.decoder if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.stride) for m in convs] == [(1, 4, (2, 2)), (4, 8, (2, 2))]
    assert [(m.in_channels, m.out_channels) for m in ups] == [(8, 4), (4, 2)]
    assert isinstance(net.encoder[-1], nn.Linear) and net.encoder[-1].in_features == 8 * 7 * 7
    x = torch.rand(3, 784)
    assert net.encode(x).shape == (3, 10)
    assert net(x).shape == (3, 784)
    bound = (6 / (1 * 9 + 4 * 9)) ** 0.5  # Glorot for a 3x3 conv: fans are channels x 9
    assert 0.8 * bound < convs[0].weight.abs().max() <= bound
    assert "28x28 image - conv 4-8 - 10" in cfg.layers_text()


@pytest.mark.parametrize("n_features,channels", [(20, (4,)), (36, (4, 8))])
def test_conv_needs_square_images_of_a_divisible_side(n_features, channels):
    with pytest.raises(ValueError, match="square image"):
        ModelConfig(n_features=n_features, code_size=8, arch="conv", channels=channels)
    with pytest.raises(ValueError, match="arch"):
        ModelConfig(n_features=784, code_size=8, arch="recurrent")
