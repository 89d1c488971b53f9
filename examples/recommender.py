"""Neural collaborative filtering on implicit feedback with BPR, run on ember.

Data (synthetic, planted low-rank preferences): ``--users`` users and ``--items`` items get latent
factors ``u, v ~ N(0, I_rank)`` (``--rank`` 8) and each item a popularity bias
``b ~ N(0, pop_std^2)`` (``--pop-std`` 0.5); the preference score is
``s(u, i) = u.v_i / sqrt(rank) + b_i``. Each user interacts with 10 to 30 distinct items drawn
without replacement with probability ``softmax(s(u, .) / temperature)`` (``--temperature``
0.5), i.e. mostly items of high score. One of each user's items, chosen uniformly, is held out
for testing; the rest is the user's history (the training interactions).

Model (SVD++-like): a user is ``user_emb[u] + mean(item_ctx[history])`` (``nn.Embedding`` plus
``nn.EmbeddingBag(mode="mean")`` over the history items); an item is ``item_emb[i]`` plus a
bias; the score is their dot product plus the bias. Training: each interaction ``(u, i)`` is a
positive, scored with the bag of the user's *other* items (so training matches the test, where
the held-out item is not in the bag), against a uniformly sampled negative item, with the BPR
loss ``-log sigmoid(s_pos - s_neg)`` and Adam with weight decay.

Metric: recall@10 of the held-out item (the user's history excluded from the ranking), compared
with the popularity baseline (items ranked by their number of training interactions) and with
the planted scores themselves (the best any model can expect: held-out items are random draws).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, TensorDataset


def make_data(n_users: int, n_items: int, rank: int, temperature: float, pop_std: float, seed: int):
    """Planted preferences: (history per user, held-out item per user, the true scores)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((n_users, rank))
    v = rng.standard_normal((n_items, rank))
    b = pop_std * rng.standard_normal(n_items)
    scores = (u @ v.T / np.sqrt(rank) + b) / temperature
    histories, held_out = [], np.empty(n_users, dtype=np.int64)
    for user in range(n_users):
        p = np.exp(scores[user] - scores[user].max())
        items = rng.choice(n_items, size=rng.integers(10, 31), replace=False, p=p / p.sum())
        k = rng.integers(len(items))  # a uniformly random one of the user's items
        held_out[user] = items[k]
        histories.append(np.sort(np.delete(items, k)))
    return histories, held_out, scores


class NCF(nn.Module):
    """Score(u, i) = (user_emb[u] + mean(item_ctx[bag])) . item_emb[i] + item_bias[i]."""

    def __init__(self, n_users: int, n_items: int, dim: int) -> None:
        super().__init__()
        self.user_emb = nn.Embedding(n_users, dim)
        self.item_ctx = nn.EmbeddingBag(n_items, dim, mode="mean")
        self.item_emb = nn.Embedding(n_items, dim)
        self.item_bias = nn.Embedding(n_items, 1)
        for emb in (self.user_emb, self.item_ctx, self.item_emb):
            nn.init.normal_(emb.weight, std=0.1)
        nn.init.zeros_(self.item_bias.weight)

    def user_vector(self, users: torch.Tensor, bags: torch.Tensor, offsets: torch.Tensor):
        return self.user_emb(users) + self.item_ctx(bags, offsets)

    def forward(self, users, bags, offsets, items):
        """Scores of ``items`` (B,) or (B, k) for each user of the batch."""
        uvec = self.user_vector(users, bags, offsets)
        if items.dim() == 1:
            return (uvec * self.item_emb(items)).sum(-1) + self.item_bias(items).squeeze(-1)
        return (uvec.unsqueeze(1) * self.item_emb(items)).sum(-1) + self.item_bias(items)[..., 0]

    def all_scores(self, users, bags, offsets):
        """(B, n_items) scores of every item."""
        uvec = self.user_vector(users, bags, offsets)
        return uvec @ self.item_emb.weight.T + self.item_bias.weight.T


def bags_of(histories: list[np.ndarray], users: np.ndarray, leave_out: np.ndarray | None = None):
    """Flat EmbeddingBag input and offsets: each user's history (minus ``leave_out`` items)."""
    rows = []
    for k, user in enumerate(users):
        h = histories[user]
        rows.append(h if leave_out is None else h[h != leave_out[k]])
    offsets = np.cumsum([0] + [len(r) for r in rows[:-1]])
    return torch.from_numpy(np.concatenate(rows)), torch.from_numpy(offsets)


def recall_at_k(
    scores: torch.Tensor, histories: list[np.ndarray], held_out: np.ndarray, k: int = 10
) -> float:
    """Fraction of users whose held-out item is in the top k (history items excluded)."""
    scores = scores.clone()
    for user, h in enumerate(histories):
        scores[user, torch.from_numpy(h)] = float("-inf")
    top = scores.topk(k, dim=1).indices
    return (top == torch.from_numpy(held_out).unsqueeze(1)).any(dim=1).float().mean().item()


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description="BPR collaborative filtering on planted preferences.")
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--rank", type=int, default=8, help="rank of the planted preferences")
    p.add_argument("--temperature", type=float, default=0.5, help="sampling temperature")
    p.add_argument("--pop-std", type=float, default=0.5, help="std of the item popularity bias")
    p.add_argument("--dim", type=int, default=32, help="embedding size")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)

    histories, held_out, true_scores = make_data(
        args.users, args.items, args.rank, args.temperature, args.pop_std, args.seed
    )
    pairs = np.array([(u, i) for u, h in enumerate(histories) for i in h], dtype=np.int64)
    print(
        f"{args.users} users, {args.items} items, {len(pairs):,} training interactions, "
        f"1 held-out item per user"
    )

    all_users = np.arange(args.users)
    popularity = torch.from_numpy(np.bincount(pairs[:, 1], minlength=args.items).astype(np.float32))
    pop_recall = recall_at_k(popularity.expand(args.users, -1), histories, held_out)
    oracle_recall = recall_at_k(torch.from_numpy(true_scores), histories, held_out)
    print(
        f"recall@10 of the popularity baseline {pop_recall:.4f}; of the planted scores "
        f"{oracle_recall:.4f} (the ceiling: held-out items are random draws)"
    )

    def collate(batch):
        """(user, item) pairs -> users, bag of the user's other items, positive, negative."""
        users = np.array([int(u) for u, _ in batch])
        pos = np.array([int(i) for _, i in batch])
        bags, offsets = bags_of(histories, users, leave_out=pos)
        neg = torch.randint(args.items, (len(batch),))
        return torch.from_numpy(users), bags, offsets, torch.from_numpy(pos), neg

    loader = DataLoader(
        TensorDataset(torch.from_numpy(pairs[:, 0]), torch.from_numpy(pairs[:, 1])),
        batch_size=args.batch_size,
        shuffle=True,
        collate_fn=collate,
    )
    model = NCF(args.users, args.items, args.dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            bags, offsets = bags_of(histories, all_users)
            scores = model.all_scores(torch.from_numpy(all_users), bags, offsets)
        model.train()
        return recall_at_k(scores, histories, held_out)

    t0 = time.perf_counter()
    recall = 0.0
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for users, bags, offsets, pos, neg in loader:
            scores = model(users, bags, offsets, torch.stack([pos, neg], dim=1))
            loss = -F.logsigmoid(scores[:, 0] - scores[:, 1]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(users)
        recall = evaluate()
        print(
            f"epoch {epoch:2d}  BPR loss {total / len(pairs):.4f}  recall@10 {recall:.4f}  "
            f"(popularity {pop_recall:.4f}, {time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
    print(f"recall@10 {recall:.4f} vs popularity baseline {pop_recall:.4f}")
    return {
        "recall@10": recall,
        "popularity_recall@10": pop_recall,
        "oracle_recall@10": oracle_recall,
        "train_time": time.perf_counter() - t0,
    }


if __name__ == "__main__":
    main()
