"""DataLoader in the main process: validation, len rules, collate, ordering, fast path (vs torch)."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import ember
from ember.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
)  # fmt: skip
from tests.data.helpers import assert_same_structure
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is an optional oracle")

Point = collections.namedtuple("Point", ["x", "y"])


class Items(Dataset):
    """A map-style dataset returning a fixed list of samples (works with torch too)."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class Stream(IterableDataset):
    def __init__(self, n, reported=None):
        self.n, self.reported = n, reported

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n if self.reported is None else self.reported


class TStream(torch.utils.data.IterableDataset if torch is not None else object):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# ------------------------------------------------------------------------------- validation
def _both(fn):
    """Run fn(module, dataset_factory) on torch and ember; return (torch exc, ember exc)."""
    out = []
    for mod in (torch.utils.data, ember.utils.data):
        try:
            fn(mod)
        except Exception as e:
            out.append(e)
        else:
            out.append(None)
    return out


def _map(mod):
    return Items(list(range(10)))


def _iterable(mod):
    if mod is torch.utils.data:
        return TStream(10)
    return Stream(10)


CASES = {
    "num_workers<0": lambda m: m.DataLoader(_map(m), num_workers=-1),
    "timeout<0": lambda m: m.DataLoader(_map(m), timeout=-1),
    "prefetch without workers": lambda m: m.DataLoader(_map(m), prefetch_factor=2),
    "prefetch<0": lambda m: m.DataLoader(_map(m), num_workers=1, prefetch_factor=-1),
    "persistent without workers": lambda m: m.DataLoader(_map(m), persistent_workers=True),
    "sampler and shuffle": lambda m: m.DataLoader(
        _map(m), sampler=m.SequentialSampler(range(10)), shuffle=True
    ),
    "batch_sampler and batch_size": lambda m: m.DataLoader(
        _map(m), batch_sampler=[[0, 1]], batch_size=2
    ),
    "batch_sampler and shuffle": lambda m: m.DataLoader(_map(m), batch_sampler=[[0]], shuffle=True),
    "batch_sampler and drop_last": lambda m: m.DataLoader(
        _map(m), batch_sampler=[[0]], drop_last=True
    ),
    "batch_sampler and sampler": lambda m: m.DataLoader(_map(m), batch_sampler=[[0]], sampler=[0]),
    "batch_size None and drop_last": lambda m: m.DataLoader(
        _map(m), batch_size=None, drop_last=True
    ),
    "iterable and shuffle": lambda m: m.DataLoader(_iterable(m), shuffle=True),
    "iterable and batch_sampler": lambda m: m.DataLoader(_iterable(m), batch_sampler=[[0]]),
    "context without workers": lambda m: m.DataLoader(_map(m), multiprocessing_context="fork"),
    "bad context name": lambda m: m.DataLoader(
        _map(m), num_workers=1, multiprocessing_context="nope"
    ),
    "bad context type": lambda m: m.DataLoader(_map(m), num_workers=1, multiprocessing_context=3),
    "bad batch_size": lambda m: m.DataLoader(_map(m), batch_size=0),
    "setattr after init": lambda m: setattr(m.DataLoader(_map(m)), "batch_size", 3),
}


@needs_torch
@pytest.mark.parametrize("case", sorted(CASES))
def test_validation_errors_match_torch(case):
    theirs, ours = _both(CASES[case])
    assert theirs is not None, "torch accepted it"
    assert type(ours) is type(theirs), (ours, theirs)
    assert str(ours) == str(theirs)


def test_validation_messages_are_torchs_text():
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(Items([1]), sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with "
                       "batch_size, shuffle, sampler, and drop_last"):  # fmt: skip
        DataLoader(Items([1]), batch_sampler=[[0]], drop_last=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in "
                       "multiprocessing"):  # fmt: skip
        DataLoader(Items([1]), prefetch_factor=2)


def test_iterable_dataset_with_sampler_is_rejected():
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0])


def test_defaults_and_attributes():
    dl = DataLoader(Items([1, 2]))
    assert dl.batch_size == 1 and dl.num_workers == 0 and dl.prefetch_factor is None
    assert isinstance(dl.sampler, SequentialSampler) and isinstance(dl.batch_sampler, BatchSampler)
    assert dl.collate_fn is default_collate
    assert DataLoader(Items([1]), batch_size=None).collate_fn is default_convert
    assert DataLoader(Items([1]), num_workers=1).prefetch_factor == 2
    dl.timeout = 3  # not a frozen attribute


# ------------------------------------------------------------------------------- len rules
@needs_torch
@pytest.mark.parametrize("n", [0, 1, 9, 10])
@pytest.mark.parametrize("bs", [None, 1, 3, 10])
@pytest.mark.parametrize("drop_last", [False, True])
def test_len_matches_torch(n, bs, drop_last):
    if bs is None and drop_last:
        return
    kw = {"batch_size": bs, "drop_last": drop_last}
    assert len(DataLoader(Items(list(range(n))), **kw)) == len(
        torch.utils.data.DataLoader(Items(list(range(n))), **kw)
    )
    assert len(DataLoader(Stream(n), **kw)) == len(torch.utils.data.DataLoader(TStream(n), **kw))


def test_len_with_batch_sampler_and_sampler():
    assert len(DataLoader(Items(list(range(10))), batch_sampler=[[0, 1], [2]])) == 2
    assert len(DataLoader(Items(list(range(10))), sampler=[1, 2, 3], batch_size=2)) == 2


def test_iterable_len_warning_when_more_samples_than_reported():
    dl = DataLoader(Stream(5, reported=3), batch_size=None)
    assert len(dl) == 3
    with pytest.warns(UserWarning, match="was reported to be 3"):
        out = list(dl)
    assert out == [0, 1, 2, 3, 4]


def test_iterable_len_without_len_raises_typeerror():
    class NoLen(IterableDataset):
        def __iter__(self):
            return iter([1])

    with pytest.raises(TypeError):
        len(DataLoader(NoLen()))


# ------------------------------------------------------------------------------- collate
SAMPLES = {
    "ints": [1, 2, 3],
    "bools": [True, False],
    "floats": [0.5, 1.5],
    "int then float": [1, 2.5],
    "float then int": [1.5, 2],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "np int32 scalars": [np.int32(1), np.int32(2)],
    "np float32 scalars": [np.float32(1.5), np.float32(2)],
    "np bool scalars": [np.bool_(True), np.bool_(False)],
    "np float64 scalars": [np.float64(1.5), np.float64(2)],
    "np arrays uint8": [np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)],
    "np arrays float64": [np.arange(3.0), np.arange(3.0) + 1],
    "np 0-d arrays": [np.array(1.5), np.array(2.5)],
    "tuples": [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [{"x": (np.zeros(2, np.float32), 1)}, {"x": (np.ones(2, np.float32), 2)}],
    "ordered dict": [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_default_collate_matches_torch(name):
    batch = SAMPLES[name]
    assert_same_structure(default_collate(batch), torch.utils.data.default_collate(batch))


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_default_collate_tensors_match_torch(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    ours = default_collate([ember.from_numpy(a), ember.from_numpy(a[::-1].copy())])
    theirs = torch.utils.data.default_collate(
        [torch.from_numpy(a), torch.from_numpy(a[::-1].copy())]
    )
    assert_same_structure(ours, theirs)


@needs_torch
def test_default_collate_mixed_tensor_dtypes_promote_like_torch():
    ours = default_collate([ember.tensor([1], dtype=ember.int64), ember.tensor([1.5])])
    theirs = torch.utils.data.default_collate([torch.tensor([1]), torch.tensor([1.5])])
    assert_same_structure(ours, theirs)


@needs_torch
@pytest.mark.parametrize(
    "batch",
    [
        {"x": np.zeros(2, np.float32), "y": [1, 2]},
        (np.array([1, 2]), "s"),
        [np.zeros(3), np.array(["a"])],
        Point(np.float32(1), 2),
        3.5,
        "str",
    ],
    ids=["dict", "tuple", "list with str array", "namedtuple", "float", "str"],
)
def test_default_convert_matches_torch(batch):
    assert_same_structure(default_convert(batch), torch.utils.data.default_convert(batch))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ember.zeros(3), ember.zeros(2)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([np.zeros(3), np.zeros(2)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_collate_keeps_autograd():
    w = ember.ones(2, requires_grad=True)
    out = default_collate([w * 2, w * 3])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0])


# ------------------------------------------------------------------------------- iteration
@needs_torch
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"batch_size": 4},
        {"batch_size": 4, "drop_last": True},
        {"batch_size": None},
        {"batch_sampler": [[3, 1], [0], [9, 8, 7]]},
        {"sampler": [5, 2, 2], "batch_size": 2},
        {"batch_size": 3, "collate_fn": lambda b: b},
    ],
    ids=["default", "bs4", "drop_last", "no batching", "batch_sampler", "sampler", "collate_fn"],
)
def test_iteration_matches_torch(kw):
    items = [(i, float(i) / 2, {"k": np.full(2, i, np.int32)}) for i in range(10)]
    ours = list(DataLoader(Items(items), **kw))
    theirs = list(torch.utils.data.DataLoader(Items(items), **kw))
    assert_same_structure(ours, theirs)


@needs_torch
@pytest.mark.parametrize("bs", [1, 4, None])
def test_iterable_dataset_batches_match_torch(bs):
    ours = list(DataLoader(Stream(10), batch_size=bs))
    theirs = list(torch.utils.data.DataLoader(TStream(10), batch_size=bs))
    assert_same_structure(ours, theirs)
    ours = list(DataLoader(Stream(10), batch_size=4, drop_last=True))
    theirs = list(torch.utils.data.DataLoader(TStream(10), batch_size=4, drop_last=True))
    assert_same_structure(ours, theirs)


@needs_torch
def test_tensor_dataset_batches_match_torch():
    x = np.random.rand(10, 1, 2, 2).astype(np.float32)
    y = np.arange(10)
    ours = list(DataLoader(TensorDataset(ember.from_numpy(x), ember.from_numpy(y)), batch_size=4))
    theirs = list(
        torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4
        )
    )
    assert_same_structure(ours, theirs)


def test_fast_path_equals_per_sample_path_and_is_used():
    x = ember.randn(50, 3)
    y = ember.arange(50)
    ds = TensorDataset(x, y)
    calls = []

    def spy(batch):
        calls.append(len(batch))
        return default_collate(batch)

    kw = {"batch_size": 8, "shuffle": True}
    ember.manual_seed(3)
    fast = list(DataLoader(ds, **kw))
    ember.manual_seed(3)
    slow = list(DataLoader(ds, collate_fn=spy, **kw))
    assert calls and len(fast) == len(slow) == 7
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    # batches are fresh, writable arrays (not views of the dataset)
    fast[0][0].add_(1.0)
    assert not np.shares_memory(fast[0][0].numpy(), x.numpy())
    # a Subset (random_split) keeps the fast path and the same values
    sub = Subset(ds, [4, 2, 0, 49])
    ((sx, sy),) = list(DataLoader(sub, batch_size=4))
    np.testing.assert_array_equal(sy.numpy(), [4, 2, 0, 49])


def test_out_of_range_sampler_raises_like_per_sample_indexing():
    ds = TensorDataset(ember.arange(5))
    with pytest.raises(IndexError):
        list(DataLoader(ds, sampler=[0, 7], batch_size=2))


def test_shuffle_is_reproducible_and_uses_the_generator():
    ds = Items(list(range(20)))
    ember.manual_seed(0)
    a = [b.tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)]
    ember.manual_seed(0)
    b = [b.tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)]
    assert a == b and sorted(sum(a, [])) == list(range(20))
    g1, g2 = ember.Generator().manual_seed(4), ember.Generator().manual_seed(4)
    c = [b.tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g1)]
    d = [b.tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, generator=g2)]
    assert c == d
    dl = DataLoader(ds, batch_size=20, shuffle=True)
    assert list(dl)[0].tolist() != list(dl)[0].tolist()  # reshuffled every epoch


def test_pin_memory_without_accelerator_warns_like_torch():
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator"):
        out = list(DataLoader(Items([1, 2]), pin_memory=True, batch_size=2))
    assert out[0].tolist() == [1, 2]


def test_worker_count_warning():
    import os

    n = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning, match=f"This DataLoader will create {n} worker processes"):
        DataLoader(Items([1]), num_workers=n)


def test_iterator_cannot_be_pickled():
    import pickle

    with pytest.raises(NotImplementedError):
        pickle.dumps(iter(DataLoader(Items([1]))))


def test_no_warnings_in_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(DataLoader(TensorDataset(ember.zeros(4, 2)), batch_size=2, shuffle=True))
