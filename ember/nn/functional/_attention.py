"""Attention: ``scaled_dot_product_attention`` and the functional multi-head attention forward.

    attn = softmax(q @ k^T * scale + mask) ; out = dropout(attn) @ v
Boolean masks mean "True = may attend" (torch's convention); float masks are added to scores.
"""

from __future__ import annotations

import math

import numpy as np

from ember.backends import xp_of
from ember.ops._core import _make
from ember.tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "attention_weights"]


def _dropout(x: Tensor, p: float) -> Tensor:
    if p <= 0.0:
        return x
    from ember.random import _gen

    keep = (_gen(None).random(x._data.shape) >= p).astype(x._data.dtype) / (1.0 - p)
    return x * _make(xp_of(x._data).asarray(keep))


def attention_weights(
    query: Tensor,
    key: Tensor,
    attn_mask: Tensor | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(q @ k^T * scale + mask) over the key axis."""
    L, S = query.shape[-2], key.shape[-2]
    e = query.shape[-1]
    if enable_gqa and key.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key = key.repeat_interleave(rep, -3)
    s = 1.0 / math.sqrt(e) if scale is None else scale
    scores = (query * s) @ key.transpose(-2, -1)
    xp = xp_of(scores._data)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        causal = xp.tril(xp.ones((L, S), dtype=bool))
        scores = scores.masked_fill(_make(~causal), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    return scores.softmax(-1)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """torch.nn.functional.scaled_dot_product_attention on (..., L, E) query and (..., S, E) key."""
    attn = attention_weights(query, key, attn_mask, is_causal, scale, enable_gqa)
    if enable_gqa and value.ndim >= 3 and value.shape[-3] != query.shape[-3]:
        value = value.repeat_interleave(query.shape[-3] // value.shape[-3], -3)
    attn = _dropout(attn, dropout_p)
    return attn @ value


def _in_projection(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    w: Tensor | None,
    b: Tensor | None,
    qw: Tensor | None,
    kw: Tensor | None,
    vw: Tensor | None,
    E: int,
) -> tuple:
    linear = _linear
    if w is not None:
        bq = bk = bv = None
        if b is not None:
            bq, bk, bv = b[:E], b[E : 2 * E], b[2 * E :]
        if q is k and k is v:
            out = linear(q, w, b)
            return out[..., :E], out[..., E : 2 * E], out[..., 2 * E :]
        return linear(q, w[:E], bq), linear(k, w[E : 2 * E], bk), linear(v, w[2 * E :], bv)
    bq = bk = bv = None
    if b is not None:
        bq, bk, bv = b[:E], b[E : 2 * E], b[2 * E :]
    return linear(q, qw, bq), linear(k, kw, bk), linear(v, vw, bv)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """torch.nn.functional.multi_head_attention_forward on (L, N, E) inputs (or unbatched (L, E))."""
    from ember.ops import cat

    linear = _linear
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    if embed_dim_to_check != E:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}"
        )
    H = num_heads
    hd = E // H
    if hd * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    q, k, v = _in_projection(
        query,
        key,
        value,
        None if use_separate_proj_weight else in_proj_weight,
        in_proj_bias,
        q_proj_weight,
        k_proj_weight,
        v_proj_weight,
        E,
    )
    if attn_mask is not None and attn_mask.ndim == 2:
        attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, N, E)])
        v = cat([v, bias_v.expand(1, N, E)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    # (L, N, E) -> (N, H, L, hd)
    q = q.reshape(L, N * H, hd).transpose(0, 1)
    k = (
        (k if static_k is None else static_k)
        .reshape(k.shape[0] if static_k is None else static_k.shape[1], N * H, hd)
        .transpose(0, 1)
        if static_k is None
        else static_k
    )
    v = v.reshape(v.shape[0], N * H, hd).transpose(0, 1) if static_v is None else static_v
    if add_zero_attn:
        from ember.ops import zeros

        k = cat([k, zeros(N * H, 1, hd, dtype=k.dtype)], 1)
        v = cat([v, zeros(N * H, 1, hd, dtype=v.dtype)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    S = k.shape[1]
    mask = _merge_masks(attn_mask, key_padding_mask, N, H, L, S, q)
    if is_causal and mask is None:
        from ember.ops import ones

        mask = ones(L, S, dtype="bool").tril().logical_not()
        mask = _make(np.where(mask._data, -np.inf, 0.0).astype(q._data.dtype))
    q4, k4, v4 = q.reshape(N, H, L, hd), k.reshape(N, H, S, hd), v.reshape(N, H, S, hd)
    m4 = mask
    if mask is not None and mask.ndim == 3:
        m4 = mask.reshape(N, H, mask.shape[1], S) if mask.shape[0] == N * H else mask.unsqueeze(0)
    attn = attention_weights(q4, k4, m4)
    attn_d = _dropout(attn, dropout_p if training else 0.0)
    out = (attn_d @ v4).permute(2, 0, 1, 3).reshape(L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, E)
    weights = None
    if need_weights:
        weights = attn.mean(1) if average_attn_weights else attn
    if unbatched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    from ember.nn.functional._basic import linear

    return linear(x, w, b)


def _pad_last(m: Tensor) -> Tensor:
    """Append one zero (False) column on the last axis (for bias_k/v and add_zero_attn)."""
    from ember.ops import cat, zeros

    return cat([m, zeros(*m.shape[:-1], 1, dtype=m.dtype)], -1)


def _merge_masks(
    attn_mask: Tensor | None, kpm: Tensor | None, N: int, H: int, L: int, S: int, like: Tensor
) -> Tensor | None:
    """One float mask of shape (N*H, L, S) or (1, L, S): bool masks become -inf where True."""
    dt = like._data.dtype
    res = None
    if attn_mask is not None:
        a = attn_mask._data
        f = np.where(a, -np.inf, 0.0).astype(dt) if a.dtype == np.bool_ else a.astype(dt)
        res = f
    if kpm is not None:
        k = kpm._data
        f = np.where(k, -np.inf, 0.0).astype(dt) if k.dtype == np.bool_ else k.astype(dt)
        f = np.broadcast_to(f.reshape(N, 1, 1, S), (N, H, 1, S)).reshape(N * H, 1, S)
        res = f if res is None else res + f
    if res is None:
        return None
    if attn_mask is not None and attn_mask._data.dtype != np.bool_ and attn_mask._rg:
        return attn_mask if kpm is None else attn_mask + _make(res - attn_mask._data)
    return _make(res)
