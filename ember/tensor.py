"""The Tensor: an array (NumPy or CuPy) plus autograd metadata. No math lives here.

Arithmetic dunders delegate to ``ember.ops``; named methods (``exp``, ``sum``, ``view`` ...) are
attached by the ops modules with ``@tensor_method``, next to their definition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ember import dtypes
from ember.autograd import grad_mode, node
from ember.backends import device, device_of, xp_of
from ember.size import Size
from ember.size import _from_shape as _size

__all__ = [
    "Tensor", "tensor_method", "layout", "memory_format", "strided", "contiguous_format",
    "preserve_format", "channels_last", "channels_last_3d",
]  # fmt: skip


class _Named:
    """A named singleton option (``ember.strided``, ``ember.contiguous_format`` ...)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


class layout(_Named):
    """A tensor layout (ember only has ``ember.strided``)."""

    __slots__ = ()


class memory_format(_Named):
    """A memory format (accepted for compatibility: NumPy arrays are C-ordered)."""

    __slots__ = ()


strided = layout("strided")
contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")

_new = object.__new__
_gm = grad_mode.state


class Tensor:
    """A multi-dimensional array that can record the operations applied to it (torch.Tensor)."""

    __slots__ = (
        "__weakref__", "_acc", "_base", "_data", "_grad", "_hooks", "_out_nr", "_post_hooks",
        "_rg", "_vc", "grad_fn",
    )  # fmt: skip
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __new__(cls, *args: Any, device: Any = None, **kwargs: Any) -> Tensor:
        # torch's legacy constructor: Tensor([1, 2]) -> default-dtype data; Tensor(2, 3) -> shape
        from ember.ops import creation

        t = _legacy_new(creation, args, kwargs, device, None)
        if cls is not Tensor:
            t = t.as_subclass(cls)
        return t

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return _size(self._data.shape)

    def size(self, dim: Any = None) -> Any:
        if dim is None:
            return _size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_np(self._data.dtype)

    @property
    def device(self) -> device:
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self._data.__class__ is not np.ndarray

    @property
    def is_cpu(self) -> bool:
        return self._data.__class__ is np.ndarray

    @property
    def xp(self) -> Any:
        """The array module (numpy or cupy) of this tensor's device."""
        return xp_of(self._data)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return int(self._data.itemsize)

    @property
    def itemsize(self) -> int:
        return int(self._data.itemsize)

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"  # "V": bfloat16 (ml_dtypes)

    def is_complex(self) -> bool:
        return False

    def get_device(self) -> int:
        """-1 on the CPU, else the CUDA device index."""
        return -1 if self._data.__class__ is np.ndarray else int(self.device.index or 0)

    is_meta = is_sparse = is_quantized = is_nested = is_mkldnn = False
    layout = strided

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(_leaf_error(value))
        if value and not self.is_floating_point():
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._rg = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (a non-leaf may only keep requiring grad); returns self."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(_leaf_error(False))
            return self
        if requires_grad and not self.is_floating_point():
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains():
            import warnings

            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor.",
                UserWarning,
                stacklevel=2,
            )
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    "assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size"
                )
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_cname(value.dtype)}' to a "
                    f"tensor with grad_dtype '{_tname(self.dtype)}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype)."
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def _version(self) -> int:
        return self._vc[0]

    @property
    def data(self) -> Tensor:
        """The same storage, detached from the graph (torch's ``.data``; changes are untracked)."""
        t = _make(self._data)
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._rg and not value.is_floating_point():
            raise RuntimeError(
                "data set to a tensor that requires gradients must be floating point or complex "
                "dtype"
            )
        self._data = value._data

    @property
    def output_nr(self) -> int:
        return self._out_nr

    @property
    def _base_tensor(self) -> Tensor | None:
        return getattr(self, "_base", None)

    # ---------------------------------------------------------------- conversions
    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item() if self.is_cpu else self._data.item()

    def tolist(self) -> Any:
        return self._host().tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if not self.is_cpu:
            if force:
                return self._host()
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy "
                "the tensor to host memory first."
            )
        return self._data

    def _host(self) -> np.ndarray:
        return self._data if self.is_cpu else self._data.get()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if self._rg:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        a = self._host()
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self) -> Tensor:
        return self.flip(0) if self._data.ndim else self

    def __contains__(self, element: Any) -> bool:
        if not isinstance(element, Tensor | int | float | bool | np.number | np.bool_):
            raise RuntimeError(
                "Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                f"{type(element)}."
            )
        return bool((self == element).any().item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size
                else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self._host().reshape(()))

    def _scalar(self) -> Any:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ember._tensor_str import tensor_repr

        return tensor_repr(self, tensor_contents)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol: int) -> Any:
        # pickling (DataLoader workers, multiprocessing): data and requires_grad, not the graph
        return (_rebuild, (self._host(), self._rg, self.device.type))

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        t = _make(self._data.copy(), self._rg)
        if type(self) is not Tensor:
            t = t.as_subclass(type(self))
            d = getattr(self, "__dict__", None)
            if d:  # a subclass's own attributes are deep-copied too, as torch does
                import copy

                t.__dict__.update(copy.deepcopy(d, memo))
        if self._grad is not None:
            t._grad = _make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    def as_subclass(self, cls: type) -> Any:
        t = _new(cls)
        t._data, t._rg, t.grad_fn, t._out_nr, t._vc, t._grad = (
            self._data, self._rg, self.grad_fn, self._out_nr, self._vc, None,
        )  # fmt: skip
        return t

    # ---------------------------------------------------------------- autograd
    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (``ember.autograd.backward``)."""
        from ember.autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains():
            return
        import weakref

        fn = self.grad_fn
        if getattr(fn, "_pre_hooks", None) is None:
            fn._pre_hooks = {}
        from ember.autograd.hooks import add_hook

        add_hook(fn._pre_hooks, ("retain", self._out_nr, weakref.ref(self)))

    def _retains(self) -> bool:
        pre = getattr(self.grad_fn, "_pre_hooks", None)
        if not pre:
            return False
        return any(h[0] == "retain" and h[2]() is self for h in pre.values())

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self._retains()

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """hook(grad) -> new grad or None, called when this tensor's gradient is computed."""
        from ember.autograd.hooks import add_hook

        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            fn = self.grad_fn
            if getattr(fn, "_pre_hooks", None) is None:
                fn._pre_hooks = {}
            return add_hook(fn._pre_hooks, ("tensor", self._out_nr, hook))
        if getattr(self, "_hooks", None) is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """hook(tensor) runs after the leaf's ``.grad`` was accumulated in a backward pass."""
        from ember.autograd.hooks import add_hook

        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if getattr(self, "_post_hooks", None) is None:
            self._post_hooks = {}
        return add_hook(self._post_hooks, hook)

    def detach(self) -> Tensor:
        """A tensor sharing storage and version counter, cut from the graph."""
        t = _make(self._data)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        if getattr(self, "_base", None) is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        self._out_nr = 0
        return self


def _wrap_dim(dim: Any, ndim: int) -> int:
    if dim.__class__ is not int:
        if isinstance(dim, bool) or not hasattr(dim, "__index__"):
            raise TypeError(
                f"size(): argument 'dim' (position 1) must be int, not {type(dim).__name__}"
            )
        dim = dim.__index__()
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
            f"{dim})"
        )
    return dim % ndim


def _leaf_error(value: bool) -> str:
    msg = "you can only change requires_grad flags of leaf variables."
    if not value:
        msg += (
            " If you want to use a computed variable in a subgraph that doesn't require "
            "differentiation use var_no_grad = var.detach()."
        )
    return msg


_TNAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
    "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
    "bool": "Bool",
}  # fmt: skip
_CNAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
    "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
    "uint8": "unsigned char", "bool": "bool",
}  # fmt: skip


def _tname(d: dtypes.dtype) -> str:
    """torch's ScalarType name of a dtype ('Float', 'Long' ...), as its error messages use."""
    return _TNAMES[d.name]


def _cname(d: dtypes.dtype) -> str:
    """The C++ type name of a dtype ('float', 'double' ...), as torch's error messages use."""
    return _CNAMES[d.name]


def _legacy_new(creation: Any, args: tuple, kwargs: dict, device: Any, typed: Any) -> Tensor:
    """``torch.Tensor(...)`` / ``torch.FloatTensor(...)`` (`typed`): data, a shape, or nothing."""
    dt = typed or dtypes.get_default_dtype()
    if kwargs:
        raise TypeError(
            f"new() received an invalid combination of arguments - got unexpected keyword "
            f"arguments {', '.join(map(repr, kwargs))}"
        )
    if not args:
        return creation.empty(0, dtype=dt, device=device)
    a0 = args[0]
    if len(args) == 1 and isinstance(a0, Tensor):
        if typed is not None and a0.dtype is not typed:
            raise TypeError(f"expected {typed} (got {a0.dtype})")
        t = _make(a0._data)  # an alias sharing storage, as torch
        t._vc = a0._vc
        return t
    if len(args) == 1 and isinstance(a0, Size):
        return creation.empty(a0, dtype=dt, device=device)
    if all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in args):
        return creation.empty(*args, dtype=dt, device=device)
    if len(args) == 1 and isinstance(a0, list | tuple | np.ndarray | range):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return creation.tensor(a0, dtype=dt, device=device)
    raise TypeError(f"new(): data must be a sequence (got {type(a0).__name__})")


def _make(arr: Any, rg: bool = False, fn: Any = None) -> Tensor:
    """Wrap an array without copying (the hot path of every op)."""
    t = _new(Tensor)
    t._data = arr
    t._rg = rg
    t.grad_fn = fn
    t._out_nr = 0
    t._vc = [0, None]
    t._grad = None
    return t


def _rebuild(arr: np.ndarray, rg: bool, dev: str = "cpu") -> Tensor:
    t = _make(arr, rg)
    return t if dev == "cpu" else t.to(dev)


class _LegacyTensorType(type):
    """``ember.FloatTensor`` & co: call to create (legacy constructor), isinstance checks dtype."""

    dtype: dtypes.dtype

    def __instancecheck__(cls, obj: Any) -> bool:
        return (
            isinstance(obj, Tensor) and obj._data.__class__ is np.ndarray
            and obj._data.dtype == cls.dtype.np
        )  # fmt: skip

    def __call__(cls, *args: Any, device: Any = None, **kwargs: Any) -> Any:
        from ember.ops import creation

        return _legacy_new(creation, args, kwargs, device, cls.dtype)


def _legacy_types() -> dict[str, type]:
    out = {}
    for name, short in _TNAMES.items():
        d = getattr(dtypes, name)
        out[f"{short}Tensor"] = _LegacyTensorType(
            f"{short}Tensor", (), {"dtype": d, "is_cuda": False, "__module__": "ember"}
        )
    return out


LEGACY_TYPES = _legacy_types()


def tensor_method(fn: Callable | None = None, *, name: str | None = None) -> Any:
    """Decorator: also expose a function as a Tensor method (``x.exp()`` for ``exp(x)``)."""

    def deco(f: Callable) -> Callable:
        setattr(Tensor, name or f.__name__, f)
        return f

    return deco(fn) if fn is not None else deco


node._Tensor = Tensor
