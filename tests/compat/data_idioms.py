import importlib
import sys

import numpy as np

torch = importlib.import_module(sys.argv[1])
from_np = torch.from_numpy


class DictDS(torch.utils.data.Dataset):
    def __init__(self, n):
        self.x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"x": from_np(self.x[i]), "y": int(i % 2), "name": f"s{i}"}


ds = DictDS(10)
dl = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False, num_workers=2)
for b in dl:
    print(b["x"].shape, b["y"].tolist(), b["y"].dtype, b["name"])
g = torch.Generator().manual_seed(0)
tr, va = torch.utils.data.random_split(ds, [0.8, 0.2], generator=g)
print(len(tr), len(va), type(tr).__name__)
td = torch.utils.data.TensorDataset(torch.arange(6).float().view(6, 1), torch.arange(6))
print(
    [
        (x.tolist(), y.tolist())
        for x, y in torch.utils.data.DataLoader(td, batch_size=4, drop_last=True)
    ]
)
print(
    len(torch.utils.data.DataLoader(td, batch_size=4)),
    len(torch.utils.data.DataLoader(td, batch_size=4, drop_last=True)),
)
bs = torch.utils.data.BatchSampler(
    torch.utils.data.SequentialSampler(range(5)), batch_size=2, drop_last=False
)
print(list(bs))
cd = torch.utils.data.ConcatDataset([td, td])
print(len(cd), cd[7][1].item())
print(torch.utils.data.default_collate([(1, 2.0, "a"), (3, 4.0, "b")]))
sub = torch.utils.data.Subset(td, [5, 0])
print([s[1].item() for s in sub])
