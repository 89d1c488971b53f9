import importlib
import sys

import numpy as np

torch = importlib.import_module(sys.argv[1])
nn = torch.nn


def init(m):
    with torch.no_grad():
        for i, p in enumerate(m.parameters()):
            p.copy_(
                torch.from_numpy(
                    (np.sin(np.arange(p.numel()) * 0.37 + i) * 0.2)
                    .reshape(tuple(p.shape))
                    .astype(np.float32)
                )
            )


D = nn.Sequential(
    nn.Conv2d(1, 4, 3, 2, 1),
    nn.LeakyReLU(0.2),
    nn.Conv2d(4, 8, 3, 2, 1),
    nn.LeakyReLU(0.2),
    nn.Flatten(),
    nn.Linear(8 * 2 * 2, 1),
)
G = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 64), nn.Tanh())
init(D)
init(G)
optD = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9))
optG = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9))
rng = np.random.default_rng(0)
for it in range(3):
    real = torch.from_numpy(rng.standard_normal((6, 1, 8, 8)).astype(np.float32))
    z = torch.from_numpy(rng.standard_normal((6, 4)).astype(np.float32))
    fake = G(z).view(6, 1, 8, 8)
    eps = torch.from_numpy(rng.random((6, 1, 1, 1)).astype(np.float32))
    xhat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
    d_hat = D(xhat)
    grads = torch.autograd.grad(
        outputs=d_hat,
        inputs=xhat,
        grad_outputs=torch.ones_like(d_hat),
        create_graph=True,
        retain_graph=True,
    )[0]
    gp = ((grads.view(6, -1).norm(2, dim=1) - 1) ** 2).mean()
    lossD = D(fake.detach()).mean() - D(real).mean() + 10 * gp
    optD.zero_grad()
    lossD.backward()
    optD.step()
    lossG = -D(G(z).view(6, 1, 8, 8)).mean()
    optG.zero_grad()
    lossG.backward()
    optG.step()
    print(it, round(lossD.item(), 4), round(gp.item(), 5), round(lossG.item(), 4))
print([round(p.detach().sum().item(), 4) for p in D.parameters()])
