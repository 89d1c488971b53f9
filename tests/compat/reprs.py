import importlib
import sys

import numpy as np

torch = importlib.import_module(sys.argv[1])
nn = torch.nn


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d, d * 2), nn.ReLU(inplace=True), nn.Dropout(0.1), nn.Linear(d * 2, d)
        )
        self.norm = nn.LayerNorm(d)

    def forward(self, x):
        return self.norm(x + self.net(x))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 8)
        self.blocks = nn.ModuleList([Block(8) for _ in range(2)])
        self.lstm = nn.LSTM(8, 8, num_layers=2, batch_first=True, dropout=0.1)
        self.conv = nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.head = nn.Linear(8, 4)


m = Model()
print(m)
print(sum(p.numel() for p in m.parameters()))
opt = torch.optim.AdamW(m.parameters(), lr=3e-4, weight_decay=0.01)
print(opt)
print(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9, nesterov=True))
torch.set_printoptions(precision=2)
print(torch.from_numpy(np.linspace(0, 1, 7, dtype=np.float32)))
torch.set_printoptions(profile="default")
print(torch.from_numpy(np.arange(2000, dtype=np.float32).reshape(40, 50)))
print(
    torch.tensor([1e-5, 1.0, 1e5]),
    torch.tensor([[1, -2], [300, 4]]),
    torch.tensor([True, False]),
    torch.tensor([]),
    torch.zeros(0, 3),
)
print(
    torch.tensor([1.5, float("nan"), float("inf")]),
    torch.tensor(1e20),
    torch.tensor([0.1, 0.25], dtype=torch.float64),
)
