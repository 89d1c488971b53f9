"""Switches ordinary torch scripts set at the top: they must be accepted and behave as documented."""

from __future__ import annotations

import sys

import ember


def test_compile_runs_the_model_as_written():
    m = ember.nn.Linear(3, 2)
    x = ember.randn(4, 3)
    assert ember.compile(m) is m
    assert ember.equal(ember.compile(m)(x), m(x))

    @ember.compile
    def f(t):
        return t * 2

    @ember.compile(mode="max-autotune")
    def g(t):
        return t + 1

    assert f(ember.ones(2)).tolist() == [2.0, 2.0] and g(ember.ones(2)).tolist() == [2.0, 2.0]


def test_backend_flags_are_recorded_without_importing_cupy():
    ember.backends.cudnn.benchmark = True
    ember.backends.cudnn.deterministic = True
    ember.backends.cuda.matmul.allow_tf32 = True
    assert ember.backends.cudnn.benchmark and ember.backends.cuda.matmul.allow_tf32
    assert ember.backends.mps.is_available() is False
    assert "cupy" not in sys.modules or ember.cuda.is_available()


def test_precision_and_determinism_switches():
    ember.set_float32_matmul_precision("high")
    assert ember.get_float32_matmul_precision() == "high"
    ember.set_float32_matmul_precision("highest")
    ember.use_deterministic_algorithms(True)
    assert ember.are_deterministic_algorithms_enabled()
    ember.use_deterministic_algorithms(False)


def test_threads():
    n = ember.get_num_threads()
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(n)
