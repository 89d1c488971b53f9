"""repr(tensor) must be torch's text, with ``ember.`` where torch prints ``torch.``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from tests.oracle import torch

pytestmark = pytest.mark.skipif(torch is None, reason="needs torch as the oracle")

nan, inf = math.nan, math.inf
rng = np.random.default_rng(0)
R = rng.standard_normal((4, 5)).astype(np.float32)
BIG = (rng.standard_normal(2000) * 10).astype(np.float32)

CASES = {
    "float_int_valued": lambda T: T.tensor([1.0, 2.0, -3.0]),
    "float_mixed": lambda T: T.tensor([1.5, -2.25, 3.0]),
    "float_precision": lambda T: T.tensor([1.123456789, 2.0]),
    "sci_small": lambda T: T.tensor([1e-5, 1.0]),
    "sci_large": lambda T: T.tensor([1e9, 1.0]),
    "sci_ratio": lambda T: T.tensor([1.0, 2000.5]),
    "sci_int_mode": lambda T: T.tensor([1e10, 2.0]),
    "nan_inf": lambda T: T.tensor([nan, inf, -inf, 1.5]),
    "nan_only": lambda T: T.tensor([nan, nan]),
    "inf_int_mode": lambda T: T.tensor([inf, 1.0, -2.0]),
    "neg_zero": lambda T: T.tensor([-0.0, 0.0, 1.0]),
    "neg_zero_mixed": lambda T: T.tensor([-0.0, 0.5]),
    "zeros": lambda T: T.zeros(3),
    "zeros_2d": lambda T: T.zeros(2, 3),
    "int": lambda T: T.tensor([1, -20, 300]),
    "int_neg_width": lambda T: T.tensor([[-1, 2], [3, 40]]),
    "int32": lambda T: T.tensor([1, 2], dtype=T.int32),
    "int8": lambda T: T.tensor([-1, 2], dtype=T.int8),
    "uint8": lambda T: T.tensor([1, 255], dtype=T.uint8),
    "int16": lambda T: T.tensor([7], dtype=T.int16),
    "bool": lambda T: T.tensor([True, False, True]),
    "bool_all_true": lambda T: T.tensor([True, True]),
    "bool_2d": lambda T: T.tensor([[True], [False]]),
    "scalar_float": lambda T: T.tensor(3.5),
    "scalar_int_valued": lambda T: T.tensor(3.0),
    "scalar_int": lambda T: T.tensor(7),
    "scalar_bool": lambda T: T.tensor(False),
    "scalar_nan": lambda T: T.tensor(nan),
    "scalar_neg_zero": lambda T: T.tensor(-0.0),
    "scalar_f64": lambda T: T.tensor(2.5, dtype=T.float64),
    "scalar_small": lambda T: T.tensor(1e-7),
    "empty": lambda T: T.tensor([]),
    "empty_2d": lambda T: T.zeros(0, 3),
    "empty_int": lambda T: T.tensor([], dtype=T.int64),
    "empty_bool": lambda T: T.zeros(2, 0, dtype=T.bool),
    "empty_f64": lambda T: T.zeros(0, dtype=T.float64),
    "float64": lambda T: T.tensor([1.5, 2.0], dtype=T.float64),
    "float64_int_valued": lambda T: T.tensor([1.0, 2.0], dtype=T.float64),
    "float16": lambda T: T.tensor([1.5, 2.0, 0.1], dtype=T.float16),
    "float16_sci": lambda T: T.tensor([60000.0, 0.001], dtype=T.float16),
    "matrix": lambda T: T.tensor(R),
    "3d": lambda T: T.tensor(R[:4, :4].reshape(2, 2, 4)),
    "4d": lambda T: T.arange(24.0).reshape(2, 3, 2, 2),
    "large_1d": lambda T: T.tensor(BIG),
    "large_2d": lambda T: T.tensor(BIG.reshape(40, 50)),
    "large_3d": lambda T: T.tensor(BIG.reshape(10, 10, 20)),
    "large_int": lambda T: T.arange(5000),
    "large_bool": lambda T: T.tensor(BIG > 0),
    "long_row_wraps": lambda T: T.tensor(np.linspace(-1, 1, 30, dtype=np.float32)),
    "long_int_row": lambda T: T.arange(100) * 1234,
    "long_2d_rows": lambda T: T.tensor(np.linspace(0, 1, 60, dtype=np.float32).reshape(2, 30)),
    "requires_grad": lambda T: T.tensor([1.5, 2.0], requires_grad=True),
    "requires_grad_f64": lambda T: T.tensor([1.5, 2.0], dtype=T.float64, requires_grad=True),
    "grad_fn": lambda T: T.tensor([1.5, 2.0], requires_grad=True) * 2,
    "grad_fn_add": lambda T: T.tensor([1.5, 2.0], requires_grad=True) + 1,
    "grad_fn_sum": lambda T: T.tensor([1.5, 2.0], requires_grad=True).sum(),
    "grad_fn_f16": lambda T: T.tensor([1.5], requires_grad=True).half(),
    "suffix_wraps": lambda T: T.tensor(np.linspace(0, 1, 11, dtype=np.float64) + 0.123),
    "suffix_wraps_grad": lambda T: T.tensor(
        np.linspace(0, 1, 11, dtype=np.float64) + 0.123, requires_grad=True
    ),
    "detached": lambda T: (T.tensor([1.5], requires_grad=True) * 2).detach(),
    "negative_mixed": lambda T: T.tensor([[-1.5, 22.25], [3.0, -400.125]]),
    "small_values": lambda T: T.tensor([0.001, 0.01]),
    "rounding": lambda T: T.tensor([0.00005, 0.99999]),
    "huge_f64": lambda T: T.tensor([1e300, -1e-300], dtype=T.float64),
    "column": lambda T: T.tensor([[1.5], [2.0], [3.25]]),
    "view_slice": lambda T: T.arange(12.0).reshape(3, 4)[:, 1],
}


def _same(fn):
    e = repr(fn(ember)).replace("ember.", "torch.")
    t = repr(fn(torch))
    assert e == t, f"\nember:\n{e}\ntorch:\n{t}"


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    _same(CASES[name])


def test_str_and_format_match_torch():
    for fn in (lambda T: T.tensor([1.5, 2.0]), lambda T: T.tensor(3.25)):
        assert str(fn(ember)) == str(fn(torch))
        assert f"{fn(ember)}" == f"{fn(torch)}"


@pytest.mark.parametrize(
    "opts",
    [
        dict(precision=2),
        dict(precision=8),
        dict(threshold=5),
        dict(threshold=5, edgeitems=1),
        dict(linewidth=40),
        dict(sci_mode=True),
        dict(sci_mode=False),
        dict(profile="short"),
        dict(profile="full"),
        dict(edgeitems=0, threshold=3),
    ],
)
def test_printoptions_match_torch(opts):
    cases = [
        lambda T: T.tensor([1.123456789, 22.5, -0.001]),
        lambda T: T.arange(20),
        lambda T: T.tensor(R),
        lambda T: T.tensor([1e-5, 1.0]),
        lambda T: T.tensor(BIG[:30].reshape(5, 6)),
    ]
    ember.set_printoptions(**opts)
    torch.set_printoptions(**opts)
    try:
        for fn in cases:
            _same(fn)
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(ember.tensor([1.123456789])) == "tensor([1.1235])"


def test_printoptions_context_and_get():
    with ember.printoptions(precision=2):
        assert repr(ember.tensor([1.23456])) == "tensor([1.23])"
        assert ember.get_printoptions()["precision"] == 2
    assert repr(ember.tensor([1.23456])) == "tensor([1.2346])"


def test_default_dtype_suffix_follows_default():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for fn in (
            lambda T: T.tensor([1.5]),
            lambda T: T.tensor([1.5], dtype=T.float32),
            lambda T: T.tensor([]),
            lambda T: T.tensor([], dtype=T.float32),
        ):
            _same(fn)
    finally:
        ember.set_default_dtype(ember.float32)
        torch.set_default_dtype(torch.float32)


def test_subclass_prefix():
    class MyTensor(ember.Tensor):
        pass

    t = ember.tensor([1.0, 2.0]).as_subclass(MyTensor)
    assert repr(t) == "MyTensor([1., 2.])"


def test_size_and_device_repr():
    assert repr(ember.zeros(2, 3).shape) == "torch.Size([2, 3])"
    assert str(ember.Size([])) == "torch.Size([])"
    assert repr(ember.device("cpu")) == repr(torch.device("cpu"))
    assert repr(ember.device("cuda", 1)) == repr(torch.device("cuda", 1))
    assert str(ember.device("cuda:1")) == str(torch.device("cuda:1"))
