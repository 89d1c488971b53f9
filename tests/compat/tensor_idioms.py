import importlib
import sys

torch = importlib.import_module(sys.argv[1])
nn = torch.nn
F = torch.nn.functional
torch.manual_seed(0)
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
x = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
print(x.size(0), x.shape[1:], x.dtype, x.device.type)
print(x.max(dim=1)[0].tolist(), x.max(dim=1).indices.tolist())
print(torch.argmax(x, dim=-1).tolist(), x.argmax().item())
print(x.mean(dim=(0, 2)).tolist(), x.std().item(), x.var(1).tolist())
print(
    torch.cat([x, x], dim=1).shape,
    torch.stack([x, x]).shape,
    x.permute(2, 0, 1).contiguous().view(4, -1).shape,
)
m = torch.triu(torch.ones(4, 4), diagonal=1).bool()
print(m.tolist(), x[0].masked_fill(m[:3], float("-inf")).tolist())
print(F.one_hot(torch.tensor([0, 2, 1]), num_classes=3).tolist())
print(torch.where(x > 10, x, torch.zeros_like(x)).sum().item())
y = x.clone()
y[:, 0, :] = 0
y[y > 20] = -1
print(y.sum().item())
print(
    x.unsqueeze(0).squeeze().shape,
    x.flatten(1).shape,
    x.t().shape if x.dim() == 2 else x.transpose(1, 2).shape,
)
print((x @ x.transpose(-1, -2)).shape, torch.bmm(x, x.transpose(1, 2)).sum().item())
print(
    x.sum(1, keepdim=True).shape,
    x.float().mean().item(),
    x.long().dtype,
    x.int().dtype,
    x.half().dtype,
)
print(torch.tensor([1, 2, 3]) / 2, torch.tensor([1, 2, 3]) // 2, torch.tensor([1.0, 2.0]) ** 2)
print(
    torch.clamp(x, min=3, max=10).sum().item(),
    torch.sort(torch.tensor([3, 1, 2]), descending=True).values.tolist(),
)
print(
    torch.topk(torch.tensor([1.0, 5.0, 3.0, 4.0]), 2).indices.tolist(),
    torch.linspace(0, 1, 5).tolist(),
)
print(
    x.new_zeros(2).dtype,
    torch.zeros_like(x, dtype=torch.long).dtype,
    torch.full((2,), 3.5).tolist(),
)
print(
    torch.isnan(torch.tensor([1.0, float("nan")])).tolist(),
    torch.tensor(3.7).item(),
    int(torch.tensor(3)),
)
print(
    torch.einsum("bij,bjk->bik", x, x.transpose(1, 2)).shape,
    torch.numel(x),
    x.numel(),
    x.nelement(),
)
print(torch.allclose(x, x + 1e-9), torch.equal(x, x), x.eq(x).all().item(), (x == x).all())
print(
    x.split(2, dim=2)[1].shape,
    x.chunk(3, dim=1)[0].shape,
    torch.flip(x, [0]).shape,
    x.expand(3, 2, 3, 4).shape,
)
print(
    x.repeat(2, 1, 1).shape,
    x.gather(2, torch.zeros(2, 3, 1, dtype=torch.long)).squeeze(-1).tolist(),
)
print(
    torch.nn.functional.softmax(x[0], dim=-1).sum(-1).tolist(),
    F.log_softmax(x[0], 1).exp().sum(1).tolist(),
)
print(
    torch.randn(3, generator=torch.Generator().manual_seed(1)).shape,
    torch.randint(0, 10, (5,)).dtype,
)
lin = nn.Linear(4, 2)
print(
    [n for n, _ in lin.named_parameters()],
    lin.weight.shape,
    sum(p.numel() for p in lin.parameters()),
)
print(type(lin.state_dict()).__name__, list(lin.state_dict().keys()))
