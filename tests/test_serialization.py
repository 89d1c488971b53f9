"""Checkpoints: PyTorch's zip format both ways, a loader that never runs code, atomic writes,
corruption handling (hypothesis fuzzing), safetensors compatibility."""

from __future__ import annotations

import collections
import io
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ember
from ember import serialization as ser
from ember.utils import safetensors as es
from tests.oracle import torch

needs_torch = pytest.mark.skipif(torch is None, reason="torch is the oracle")


def _sample():
    m = ember.nn.Linear(3, 2)
    return {
        "model": m.state_dict(),
        "optim": {
            "state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.zeros(2, 3)}},
            "param_groups": [{"lr": 0.1, "params": [0, 1]}],
        },
        "epoch": 7,
        "dt": ember.float32,
        "sz": ember.Size([1, 2]),
        "ints": ember.arange(5),
        "flags": ember.tensor([True, False]),
        "half": ember.ones(2, dtype=ember.float16),
        "nested": [1, 2.5, "x", None, (1, 2), b"raw"],
    }


def test_round_trip_ember(tmp_path):
    obj = _sample()
    ser.save(obj, tmp_path / "c.pt")
    back = ser.load(tmp_path / "c.pt")
    assert back["epoch"] == 7 and back["dt"] is ember.float32 and back["sz"] == (1, 2)
    assert back["nested"] == [1, 2.5, "x", None, (1, 2), b"raw"]
    for k in ("weight", "bias"):
        np.testing.assert_array_equal(back["model"][k].numpy(), obj["model"][k].numpy())
    assert list(back["model"].keys()) == ["weight", "bias"]
    assert (
        back["ints"].dtype == ember.int64
        and back["flags"].dtype == ember.bool
        and back["half"].dtype == ember.float16
    )


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    ser.save({"x": ember.ones(3)}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(ser.load(buf)["x"].numpy(), np.ones(3, np.float32))


@needs_torch
def test_torch_reads_ember_checkpoint(tmp_path):
    obj = _sample()
    obj["p"] = ember.nn.Parameter(ember.randn(2))
    ser.save(obj, tmp_path / "e.pt")
    t = torch.load(tmp_path / "e.pt", weights_only=True)
    assert t["epoch"] == 7 and t["dt"] == torch.float32 and t["sz"] == torch.Size([1, 2])
    assert isinstance(t["p"], torch.nn.Parameter)
    lin = torch.nn.Linear(3, 2)
    lin.load_state_dict(t["model"])
    np.testing.assert_array_equal(lin.weight.detach().numpy(), obj["model"]["weight"].numpy())
    assert t["optim"]["state"][0]["step"].item() == 3.0


@needs_torch
def test_ember_reads_torch_checkpoint_with_views(tmp_path):
    w = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    sd = collections.OrderedDict(w=w, col=w[:, 1], t=w.t(), b=torch.tensor([1, 2]))
    torch.save(
        {
            "sd": sd,
            "p": torch.nn.Parameter(torch.ones(2)),
            "lin": torch.nn.Linear(4, 3).state_dict(),
            "dev": torch.device("cpu"),
        },
        tmp_path / "t.pt",
    )
    e = ser.load(tmp_path / "t.pt")
    np.testing.assert_array_equal(e["sd"]["col"].numpy(), w[:, 1].numpy())
    np.testing.assert_array_equal(e["sd"]["t"].numpy(), w.t().numpy())
    assert e["p"].requires_grad and type(e["p"]).__name__ == "Parameter"
    assert hasattr(e["lin"], "_metadata")
    m = ember.nn.Linear(4, 3)
    m.load_state_dict(e["lin"])


@needs_torch
def test_bit_identical_both_ways(tmp_path):
    x = torch.randn(5, 4, dtype=torch.float64)
    torch.save({"x": x}, tmp_path / "a.pt")
    ex = ser.load(tmp_path / "a.pt")["x"]
    ser.save({"x": ex}, tmp_path / "b.pt")
    assert torch.equal(torch.load(tmp_path / "b.pt", weights_only=True)["x"], x)


def test_malicious_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    ser.save({"a": 1}, tmp_path / "ok.pt")
    zin = zipfile.ZipFile(tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "evil.pt", "w") as zout:
        for n in zin.namelist():
            zout.writestr(
                n, pickle.dumps(Evil(), protocol=2) if n.endswith("data.pkl") else zin.read(n)
            )
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os)\.system"):
        ser.load(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_add_safe_globals(tmp_path):
    Point = collections.namedtuple("Point", "x y")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"pt": (1, 2)}, protocol=2))
    buf.seek(0)
    assert ser.load(buf) == {"pt": (1, 2)}
    _ = Point


def test_saving_a_module_explains(tmp_path):
    with pytest.raises(TypeError, match="state_dict"):
        ser.save(ember.nn.Linear(2, 2), tmp_path / "m.pt")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"hello world")
    with pytest.raises(RuntimeError, match="not a PyTorch/ember checkpoint"):
        ser.load(tmp_path / "x.pt")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_fuzzed_corruptions_raise_cleanly(data):
    buf = io.BytesIO()
    ser.save(_sample(), buf)
    raw = bytearray(buf.getvalue())
    kind = data.draw(st.sampled_from(["truncate", "flip", "splice"]))
    if kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
    else:
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=64))
    try:
        ser.load(io.BytesIO(bytes(raw)))
    except (RuntimeError, pickle.UnpicklingError):
        pass  # a clear error; anything else (or a hang/crash) fails the test


def test_atomic_write_survives_killed_writer(tmp_path):
    path = tmp_path / "ckpt.pt"
    ser.save({"version": 1, "w": ember.ones(4)}, path)
    script = textwrap.dedent(
        f"""
        import os, signal, ember
        from ember import serialization as ser
        real = ser._write_zip
        def dying(f, *a, **k):
            f.write(b"PK partial garbage")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        ser._write_zip = dying
        ser.save({{"version": 2, "w": ember.zeros(4)}}, {str(path)!r})
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert r.returncode == -9
    back = ser.load(path)
    assert back["version"] == 1
    np.testing.assert_array_equal(back["w"].numpy(), np.ones(4, np.float32))


def test_safetensors_round_trip(tmp_path):
    t = {
        "a": ember.randn(3, 4),
        "b": ember.arange(5),
        "c": ember.tensor([True, False]),
        "h": ember.ones(2, dtype=ember.float16),
    }
    es.save_file(t, tmp_path / "x.safetensors", metadata={"format": "pt"})
    back = es.load_file(tmp_path / "x.safetensors")
    for k in t:
        np.testing.assert_array_equal(back[k].numpy(), t[k].numpy())
    with es.safe_open(tmp_path / "x.safetensors", framework="pt") as f:
        assert f.keys() == sorted(t) and f.metadata() == {"format": "pt"}
        np.testing.assert_array_equal(f.get_tensor("a").numpy(), t["a"].numpy())
    m = ember.nn.Linear(3, 2)
    es.save_file(m.state_dict(), tmp_path / "m.safetensors")
    m2 = ember.nn.Linear(3, 2)
    m2.load_state_dict(es.load_file(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(m2.weight.detach().numpy(), m.weight.detach().numpy())


def test_safetensors_corruption(tmp_path):
    data = es.save({"x": ember.ones(3, 2)})
    for cut in (3, 12, len(data) - 3):
        with pytest.raises(es.SafetensorError):
            es.load(data[:cut])


def test_safetensors_interop_with_the_package(tmp_path):
    sn = pytest.importorskip("safetensors.numpy")
    t = {"a": ember.randn(3, 4), "b": ember.arange(5)}
    es.save_file(t, tmp_path / "e.safetensors")
    r = sn.load_file(str(tmp_path / "e.safetensors"))
    for k in t:
        np.testing.assert_array_equal(r[k], t[k].numpy())
    sn.save_file(
        {"x": np.arange(6, dtype=np.float32).reshape(2, 3)},
        str(tmp_path / "n.safetensors"),
        metadata={"k": "v"},
    )
    np.testing.assert_array_equal(
        es.load_file(tmp_path / "n.safetensors")["x"].numpy(), np.arange(6).reshape(2, 3)
    )


def test_consume_ddp_prefix():
    from ember.nn.modules.utils import consume_prefix_in_state_dict_if_present

    m = ember.nn.Linear(2, 2)
    sd = collections.OrderedDict(("module." + k, v) for k, v in m.state_dict().items())
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert list(sd) == ["weight", "bias"]
    ember.nn.Linear(2, 2).load_state_dict(sd)
