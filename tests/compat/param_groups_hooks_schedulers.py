import importlib
import sys

import numpy as np

torch = importlib.import_module(sys.argv[1])
nn = torch.nn
F = nn.functional


def det_init(m):
    if isinstance(m, (nn.Linear, nn.Conv1d)):
        with torch.no_grad():
            m.weight.copy_(
                torch.from_numpy(
                    np.cos(np.arange(m.weight.numel()) * 0.3)
                    .reshape(tuple(m.weight.shape))
                    .astype(np.float32)
                )
                * 0.2
            )
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.01)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(6, 6) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(6, 1), "b": nn.Linear(6, 2)})
        self.conv = nn.Conv1d(1, 2, 3, padding=1)
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        for layer in self.layers:
            x = torch.tanh(layer(x)) * self.scale
        c = self.conv(x.unsqueeze(1)).mean(1)
        return self.heads["a"](x + c), self.heads["b"](x)


m = Model()
m.apply(det_init)
print([n for n, _ in m.named_modules()])
print([n for n, p in m.named_parameters()], list(m.state_dict().keys())[-1])
for p in m.layers[0].parameters():
    p.requires_grad_(False)
opt = torch.optim.Adam(
    [
        {"params": m.heads.parameters(), "lr": 1e-2},
        {
            "params": [p for n, p in m.named_parameters() if n.startswith(("layers", "conv"))],
            "lr": 1e-3,
        },
    ]
)
sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
x = torch.from_numpy(np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6))
ya = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
yb = torch.tensor([0, 1, 1, 0])
acts = {}
h = m.layers[1].register_forward_hook(
    lambda mod, inp, out: acts.__setitem__("l1", out.detach().clone())
)
for step in range(6):
    opt.zero_grad()
    oa, ob = m(x)
    loss = (
        F.binary_cross_entropy_with_logits(oa, ya)
        + F.cross_entropy(ob, yb)
        + 0.1 * F.mse_loss(torch.sigmoid(oa), ya, reduction="sum")
    )
    loss.backward()
    opt.step()
    sched.step(1.0)
    print(step, round(loss.item(), 5), [g["lr"] for g in opt.param_groups])
h.remove()
print(
    acts["l1"].shape,
    m.layers[0].weight.grad is None,
    m.heads["a"].weight.grad.abs().sum().item() > 0,
)
vec = nn.utils.parameters_to_vector(m.parameters())
print(vec.shape)
sd = m.state_dict()
sd.pop("heads.b.bias")
r = m.load_state_dict(sd, strict=False)
print(r.missing_keys, r.unexpected_keys)
w = torch.tensor([1.0, 2.0], requires_grad=True)
y = (w * w).sum()
y.backward(retain_graph=True)
y.backward()
print(w.grad.tolist())
z = torch.ones(3, requires_grad=True)
out = (z * 3).sum()
(gz,) = torch.autograd.grad(out, z)
print(gz.tolist())
sch2 = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD([w], lr=0.1), max_lr=1.0, total_steps=10)
lrs = []
for _ in range(10):
    sch2.optimizer.step()
    lrs.append(round(sch2.get_last_lr()[0], 5))
    sch2.step()
print(lrs)
print(m.training, m.eval().training, sum(p.numel() for p in m.parameters() if p.requires_grad))
