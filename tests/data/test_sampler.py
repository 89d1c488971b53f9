"""Samplers: order and len vs torch, validation messages, randomness properties."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)  # fmt: skip
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")


def test_sampler_base():
    with pytest.raises(NotImplementedError):
        iter(Sampler())


@needs_torch
@pytest.mark.parametrize("n", [0, 1, 7, 10])
@pytest.mark.parametrize("bs", [1, 3, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_and_batch_sampler_match_torch(n, bs, drop_last):
    tu = torch.utils.data
    ours = BatchSampler(SequentialSampler(range(n)), bs, drop_last)
    theirs = tu.BatchSampler(tu.SequentialSampler(range(n)), bs, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    assert list(SequentialSampler(range(n))) == list(tu.SequentialSampler(range(n)))


def test_batch_sampler_over_plain_iterable():
    assert list(BatchSampler([5, 6, 7], 2, False)) == [[5, 6], [7]]
    assert len(BatchSampler([5, 6, 7], 2, True)) == 1


@needs_torch
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.BatchSampler(range(3), 0, False),
        lambda m: m.BatchSampler(range(3), True, False),
        lambda m: m.BatchSampler(range(3), 2.0, False),
        lambda m: m.BatchSampler(range(3), 2, 1),
        lambda m: m.RandomSampler(range(3), replacement=1),
        lambda m: m.RandomSampler(range(3), num_samples=0),
        lambda m: m.RandomSampler(range(0)),
        lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
        lambda m: m.WeightedRandomSampler([1.0, 2.0], True),
        lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
        lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
    ],
)
def test_validation_errors_match_torch(make):
    with pytest.raises(Exception) as theirs:
        make(torch.utils.data)
    with pytest.raises(type(theirs.value)) as ours:
        make(ember.utils.data)
    assert str(ours.value) == str(theirs.value)


def test_random_sampler_permutation_and_reproducibility():
    data = range(50)
    ember.manual_seed(5)
    a = list(RandomSampler(data))
    ember.manual_seed(5)
    b = list(RandomSampler(data))
    assert a == b and sorted(a) == list(range(50)) and a != list(range(50))
    s = RandomSampler(data)
    assert list(s) != list(s)  # a fresh permutation per iteration
    g = ember.Generator().manual_seed(9)
    c = list(RandomSampler(data, generator=g))
    d = list(RandomSampler(data, generator=ember.Generator().manual_seed(9)))
    assert c == d


@pytest.mark.parametrize("num_samples", [1, 7, 50, 73, 120])
def test_random_sampler_num_samples(num_samples):
    s = RandomSampler(range(50), num_samples=num_samples)
    out = list(s)
    assert len(out) == len(s) == num_samples
    assert len(set(out[: min(50, num_samples)])) == min(50, num_samples)  # no repeats per pass
    r = list(RandomSampler(range(5), replacement=True, num_samples=num_samples))
    assert len(r) == num_samples and all(0 <= i < 5 for i in r)


def test_random_sampler_num_samples_tracks_dataset_length():
    data = list(range(4))
    s = RandomSampler(data)
    data.append(4)
    assert len(s) == 5 and sorted(s) == list(range(5))


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    s = SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(0))
    out = list(s)
    assert sorted(out) == idx and len(s) == 4


def test_weighted_random_sampler():
    w = [0.0, 1.0, 3.0]
    ember.manual_seed(0)
    out = np.array(list(WeightedRandomSampler(w, 4000)))
    assert len(out) == 4000 and not (out == 0).any()
    assert 0.70 < (out == 2).mean() < 0.80
    s = WeightedRandomSampler(w, 2, replacement=False)
    assert sorted(s) == [1, 2] and len(s) == 2
    assert s.weights.dtype == ember.float64


@needs_torch
def test_random_sampler_lengths_match_torch():
    tu = torch.utils.data
    for kw in [{}, {"num_samples": 3}, {"replacement": True, "num_samples": 100}]:
        assert len(RandomSampler(range(10), **kw)) == len(tu.RandomSampler(range(10), **kw))
