import importlib
import sys

torch = importlib.import_module(sys.argv[1])


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


x = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
y = Square.apply(x)
print(y, y.grad_fn.__class__.__name__)
y.sum().backward()
print(x.grad)
x.grad.zero_()
h = x.register_hook(lambda g: g * 10)
z = (x * 2).sum()
z.backward()
print(x.grad)
h.remove()
a = torch.tensor(2.0, requires_grad=True)
b = a * a
b.retain_grad()
c = b * 3
c.backward()
print(a.grad, b.grad)
u = torch.tensor([0.5, 1.5], requires_grad=True)
f = (u**3).sum()
(g1,) = torch.autograd.grad(f, u, create_graph=True)
(g2,) = torch.autograd.grad(g1.sum(), u)
print(g1, g2)
with torch.no_grad():
    v = u * 2
print(v.requires_grad, u.detach().requires_grad, (u + 1).grad_fn.name())
w = torch.randn(3, requires_grad=True)
print(w.is_leaf, (w * 2).is_leaf, w.grad)
m = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
out = m.clone()
out[1] = 0
out.sum().backward()
print(m.grad)
n = torch.tensor([1.0, 2.0], requires_grad=True)
k = n.exp()
k.backward(torch.tensor([1.0, 0.5]))
print(n.grad)
print(torch.autograd.grad((n**2).sum(), n, retain_graph=True)[0])
p = torch.tensor([3.0], requires_grad=True)
q = p.sigmoid() * p.tanh()
q.backward()
print(p.grad)
s = torch.tensor([1.0, 2.0], requires_grad=True)
t = s.unsqueeze(0).expand(3, 2)
t.sum().backward()
print(s.grad)
print(
    torch.autograd.functional.jacobian(lambda x: x**2, torch.tensor([1.0, 2.0]))
    if hasattr(torch.autograd, "functional")
    else "nofunc"
)
