import importlib
import sys

torch = importlib.import_module(sys.argv[1])
nn = torch.nn
lin = nn.Linear(3, 2)
lin.weight.data.fill_(0.5)
lin.bias.data.zero_()
with torch.no_grad():
    lin.weight[:, 0] += 1
    lin.bias.copy_(torch.tensor([0.1, -0.1]))
lin.weight.data = lin.weight.data * 2
print(lin.weight, lin.bias)
x = torch.ones(4, 3)
opt = torch.optim.SGD(lin.parameters(), lr=0.1)
loss = lin(x).pow(2).mean()
loss.backward()
for p in lin.parameters():
    p.grad.data.clamp_(-1, 1)
opt.param_groups[0]["lr"] = 0.5
opt.step()
print(lin.weight.detach(), opt.param_groups[0]["lr"])
t = torch.arange(6.0).view(2, 3)
v = t[0]
v.mul_(10)
print(t, t._version if hasattr(t, "_version") else "")
u = t.t()
u[0, 1] = -1
print(t)
a = torch.zeros(3)
a.add_(torch.ones(3), alpha=2)
a.sub_(1).mul_(3).div_(2)
print(a)
b = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
c = b * 1
c[1] = 0
c.sum().backward()
print(b.grad)
d = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
d.masked_fill_(d > 2, 0)
d.clamp_(min=1.5)
print(d)
e = torch.zeros(2, 3)
e.index_add_(1, torch.tensor([0, 2]), torch.ones(2, 2))
e.scatter_add_(0, torch.tensor([[1, 0, 1]]), torch.ones(1, 3))
print(e)
f = torch.randn(2, 2)
f.uniform_(-0.1, 0.1)
print(f.abs().max().item() <= 0.1, f.dtype)
g = torch.empty(3).fill_(7)
print(g, g.sum().item())
