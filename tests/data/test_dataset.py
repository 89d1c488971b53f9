"""Datasets (TensorDataset, Subset, Concat/Chain/StackDataset) and random_split vs torch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)  # fmt: skip
from tests.data.helpers import assert_same_structure
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Count(IterableDataset):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def __iter__(self):
        return iter(range(self.lo, self.hi))

    def __len__(self):
        return self.hi - self.lo


def test_module_path_and_names_match_torch():
    import ember.utils.data as eud

    names = [
        "Dataset",
        "IterableDataset",
        "TensorDataset",
        "Subset",
        "ConcatDataset",
        "ChainDataset",
        "StackDataset",
        "random_split",
        "get_worker_info",
        "Sampler",
        "SequentialSampler",
        "RandomSampler",
        "SubsetRandomSampler",
        "WeightedRandomSampler",
        "BatchSampler",
        "DataLoader",
        "default_collate",
        "default_convert",
    ]
    for n in names:
        assert hasattr(eud, n), n
        if torch is not None:
            assert hasattr(torch.utils.data, n), n
    assert ember.utils.data.DataLoader is eud.DataLoader
    from ember.utils.data._utils.collate import default_collate_fn_map  # torch's private path

    assert ember.Tensor in default_collate_fn_map


def test_dataset_base_and_generic_subscription():
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
        Dataset()[0]
    assert Dataset[int] is not None  # typing-style subclassing works as in torch

    class D(Dataset[tuple]):
        def __getitem__(self, i):
            return (i,)

    assert D()[3] == (3,)


def test_tensor_dataset():
    x, y = ember.arange(12.0).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[2]
    np.testing.assert_array_equal(a.numpy(), [4.0, 5.0])
    assert b.item() == 2 and b.dtype == ember.int64
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, ember.arange(5))


def test_tensor_dataset_fast_gather_equals_per_sample_collate():
    from ember.utils.data import default_collate

    x = ember.randn(10, 1, 3, 3)
    y = ember.randint(0, 5, (10,))
    ds = TensorDataset(x, y)
    idx = [7, 0, 3, 3, -1]
    fast = ds._ember_getbatch(idx)
    slow = default_collate([ds[i] for i in idx])
    assert isinstance(fast, list) and len(fast) == 2
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype and f.shape == s.shape
        np.testing.assert_array_equal(f.numpy(), s.numpy())
    assert ds._ember_getbatch([10]) is NotImplemented  # out of range: per-sample path raises
    assert ds._ember_getbatch([True, False]) is NotImplemented  # bools would mask

    class Sub(TensorDataset):
        def __getitem__(self, i):
            return (self.tensors[0][i] * 2,)

    assert Sub(x)._ember_getbatch([0]) is NotImplemented  # overridden __getitem__ is honoured


def test_subset_and_getitems():
    ds = Squares(10)
    sub = Subset(ds, [9, 1, 4])
    assert len(sub) == 3 and sub[0] == 81 and sub[2] == 16
    assert sub.__getitems__([0, 1]) == [81, 1]

    class Bad(Subset):
        def __getitem__(self, i):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(ds, [0])


def test_concat_dataset():
    a, b = Squares(3), Squares(2)
    cat = a + b
    assert isinstance(cat, ConcatDataset)
    assert len(cat) == 5 and cat.cumulative_sizes == [3, 5]
    assert [cat[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert cat[-1] == 1
    with pytest.raises(
        ValueError, match="absolute value of index should not exceed dataset length"
    ):
        cat[-6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Count(0, 2)])
    with pytest.warns(FutureWarning, match="renamed to `cumulative_sizes`"):
        assert cat.cummulative_sizes == [3, 5]


def test_chain_dataset():
    ch = Count(0, 3) + Count(10, 12)
    assert isinstance(ch, ChainDataset)
    assert list(ch) == [0, 1, 2, 10, 11] and len(ch) == 5
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(ChainDataset([Squares(2)]))


def test_stack_dataset():
    t = StackDataset(Squares(3), Squares(3))
    assert t[2] == (4, 4) and len(t) == 3
    assert t.__getitems__([0, 2]) == [(0, 0), (4, 4)]
    d = StackDataset(a=Squares(3), b=Subset(Squares(5), [4, 3, 2]))
    assert d[0] == {"a": 0, "b": 16}
    assert d.__getitems__([1]) == [{"a": 1, "b": 9}]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(3), Squares(4))
    with pytest.raises(ValueError, match="At least one dataset should be passed"):
        StackDataset()
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset(Squares(1), b=Squares(1))


@needs_torch
@pytest.mark.parametrize("n", [10, 11, 7, 100, 3])
@pytest.mark.parametrize("fracs", [[0.8, 0.2], [0.5, 0.3, 0.2], [1 / 3] * 3, [0.7, 0.1, 0.1, 0.1]])
def test_random_split_fraction_rounding_matches_torch(n, fracs):
    import warnings

    with warnings.catch_warnings(record=True) as we:
        warnings.simplefilter("always")
        ours = [len(s) for s in random_split(Squares(n), fracs)]
    with warnings.catch_warnings(record=True) as wt:
        warnings.simplefilter("always")
        theirs = [len(s) for s in torch.utils.data.random_split(range(n), fracs)]
    assert ours == theirs
    assert [str(w.message) for w in we] == [str(w.message) for w in wt]  # zero-length splits


def test_random_split_partitions_and_is_reproducible():
    ds = Squares(20)
    g = ember.Generator().manual_seed(3)
    parts = random_split(ds, [5, 15], generator=g)
    idx = sorted(parts[0].indices + parts[1].indices)
    assert idx == list(range(20))
    again = random_split(ds, [5, 15], generator=ember.Generator().manual_seed(3))
    assert again[0].indices == parts[0].indices
    ember.manual_seed(1)
    a = random_split(ds, [0.5, 0.5])[0].indices
    ember.manual_seed(1)
    assert random_split(ds, [0.5, 0.5])[0].indices == a  # the default generator is ember's


def test_random_split_errors_match_torch():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(Squares(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Squares(5), [0.5, 1.5, -1.0])


@needs_torch
def test_tensor_dataset_sample_matches_torch():
    xe = ember.arange(6).reshape(3, 2)
    xt = torch.arange(6).reshape(3, 2)
    assert_same_structure(TensorDataset(xe, xe)[1], torch.utils.data.TensorDataset(xt, xt)[1])
