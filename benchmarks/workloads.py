"""The benchmark workloads, written once against the shared torch/ember API (`lib` is the module).

A training step is zero_grad, forward, loss, backward, step, loss.item(), as in a user's loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Step = Callable[[], Any]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def w1_seed_mlp(lib: Any) -> Step:
    """Seed MLP: Linear(10,5)-ReLU-Linear(5,1), batch 4, MSE, SGD(0.01)."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Linear(5, 1))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    r = _rng()
    x = lib.tensor(r.standard_normal((4, 10), dtype=np.float32))
    y = lib.tensor(r.standard_normal((4, 1), dtype=np.float32))

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def w2_mlp_adam(lib: Any) -> Step:
    """MLP 784-512-512-10, batch 128, CrossEntropy, Adam."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)
    )
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    r = _rng()
    x = lib.tensor(r.standard_normal((128, 784), dtype=np.float32))
    y = lib.tensor(r.integers(0, 10, 128))

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def seed_cnn(lib: Any) -> Any:
    nn = lib.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1, padding=1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1, padding=1)
            self.fc1 = nn.Linear(64 * 7 * 7, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x: Any) -> Any:
            x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
            x = x.view(-1, 64 * 7 * 7)
            return self.fc2(F.relu(self.fc1(x)))

    lib.manual_seed(0)
    return Net()


def w3_seed_cnn(lib: Any) -> Step:
    """Seed CNN (padding 1), batch 64 of 1x28x28, CrossEntropy, SGD(0.01, momentum 0.9)."""
    model = seed_cnn(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    r = _rng()
    x = lib.tensor(r.standard_normal((64, 1, 28, 28), dtype=np.float32))
    y = lib.tensor(r.integers(0, 10, 64))

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def transformer_lm(
    lib: Any, d: int = 256, heads: int = 4, ff: int = 1024, vocab: int = 1000, seq: int = 128
) -> Any:
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tok = nn.Embedding(vocab, d)
            self.pos = nn.Embedding(seq, d)
            layer = nn.TransformerEncoderLayer(
                d, heads, ff, dropout=0.1, activation="gelu", batch_first=True, norm_first=True
            )
            self.blocks = nn.ModuleList(
                [
                    layer,
                    nn.TransformerEncoderLayer(
                        d,
                        heads,
                        ff,
                        dropout=0.1,
                        activation="gelu",
                        batch_first=True,
                        norm_first=True,
                    ),
                ]
            )
            self.norm = nn.LayerNorm(d)
            self.head = nn.Linear(d, vocab)

        def forward(self, idx: Any) -> Any:
            pos = lib.arange(idx.shape[1])
            h = self.tok(idx) + self.pos(pos)
            for b in self.blocks:
                h = b(h)
            return self.head(self.norm(h))

    lib.manual_seed(0)
    return LM()


def w4_transformer(lib: Any) -> Step:
    """Two pre-LN transformer blocks (d 256, 4 heads, FF 1024, GELU, dropout 0.1), vocab 1000,
    seq 128, batch 16, AdamW."""
    model = transformer_lm(lib)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    loss_fn = lib.nn.CrossEntropyLoss()
    r = _rng()
    x = lib.tensor(r.integers(0, 1000, (16, 128)))
    y = lib.tensor(r.integers(0, 1000, (16, 128)))

    def step() -> float:
        opt.zero_grad()
        logits = model(x)
        loss = loss_fn(logits.reshape(-1, 1000), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def w6_cnn_inference(lib: Any) -> Step:
    """W3's model, eval, no_grad, batch 256."""
    model = seed_cnn(lib).eval()
    x = lib.tensor(_rng().standard_normal((256, 1, 28, 28), dtype=np.float32))

    def step() -> Any:
        with lib.no_grad():
            return model(x).argmax(1)

    return step


def optimizer_step(
    lib: Any, name: str = "AdamW", n_tensors: int = 100, numel: int = 100_000
) -> Step:
    """One optimizer step over n_tensors parameters of numel each (10M total by default)."""
    r = _rng()
    params = []
    for _ in range(n_tensors):
        p = lib.nn.Parameter(lib.tensor(r.standard_normal(numel, dtype=np.float32)))
        p.grad = lib.tensor(r.standard_normal(numel, dtype=np.float32))
        params.append(p)
    if name == "AdamW":
        kw = {"foreach": False} if lib.__name__ == "torch" else {}
        opt = lib.optim.AdamW(params, lr=1e-3, **kw)
    else:
        kw = {"foreach": False} if lib.__name__ == "torch" else {}
        opt = lib.optim.SGD(params, lr=1e-3, momentum=0.9, **kw)
    return opt.step


def dataloader_epoch(lib: Any, n: int = 60000, batch: int = 256) -> Step:
    """Iterate a Fashion-MNIST-sized TensorDataset (float32 1x28x28) in shuffled batches."""
    r = _rng()
    x = lib.tensor(r.random((n, 1, 28, 28), dtype=np.float32))
    y = lib.tensor(r.integers(0, 10, n))
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=True
    )

    def step() -> int:
        k = 0
        for _xb, _yb in loader:
            k += 1
        return k

    return step
