import importlib
import io
import sys

import numpy as np

torch = importlib.import_module(sys.argv[1])
nn = torch.nn
F = nn.functional
from_np = torch.from_numpy
rng = np.random.default_rng(0)
X = from_np(rng.standard_normal((64, 1, 8, 8)).astype(np.float32))
Y = from_np(rng.integers(0, 3, 64))
ds = torch.utils.data.TensorDataset(X, Y)
dl = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.0)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(4 * 4 * 4, 16), nn.GELU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.fc(self.drop(self.pool(F.relu(self.bn(self.conv(x))))))


net = Net()
with torch.no_grad():
    for i, p in enumerate(net.parameters()):
        p.copy_(
            from_np(
                np.cos(np.arange(p.numel()) * 0.37 + i).reshape(tuple(p.shape)).astype(np.float32)
            )
            * 0.3
        )
print(net)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
crit = nn.CrossEntropyLoss(label_smoothing=0.1)
for epoch in range(3):
    net.train()
    total = 0.0
    for xb, yb in dl:
        opt.zero_grad()
        out = net(xb)
        loss = crit(out, yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        total += loss.item() * xb.size(0)
    sched.step()
    net.eval()
    with torch.no_grad():
        acc = (net(X).argmax(dim=1) == Y).float().mean().item()
    print(
        f"epoch {epoch} loss {total / len(ds):.5f} acc {acc:.4f} lr {opt.param_groups[0]['lr']:.4f} {sched.get_last_lr()}"
    )
print(net.bn.running_mean, net.bn.num_batches_tracked)
buf = io.BytesIO()
torch.save(net.state_dict(), buf)
buf.seek(0)
sd = torch.load(buf, weights_only=True)
print(list(sd.keys())[:4], sd["fc.1.weight"].shape)
out = net(X[:2])
print(out.shape, out.grad_fn is not None, out.requires_grad)
print(torch.softmax(out, dim=1).detach().numpy().round(4).tolist())
p = next(net.parameters())
print(p.grad is not None, p.grad.shape, p.is_leaf)
print(torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 2)
