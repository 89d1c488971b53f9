"""Module state dicts: save (``state_dict``) and load (``load_state_dict``), torch's semantics.

Module's methods delegate here; subclasses may still override ``_save_to_state_dict`` and
``_load_from_state_dict``, which the recursion calls on every submodule.
"""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping
from typing import Any

import numpy as np

from ember.autograd.grad_mode import no_grad
from ember.nn.parameter import Parameter
from ember.tensor import Tensor

__all__ = ["load_from_state_dict", "load_state_dict", "save_to_state_dict", "state_dict"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def save_to_state_dict(module: Any, destination: dict, prefix: str, keep_vars: bool) -> None:
    for name, p in module._parameters.items():
        if p is not None:
            destination[prefix + name] = p if keep_vars else p.detach()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            destination[prefix + name] = b if keep_vars else b.detach()
    if type(module).get_extra_state is not _base().get_extra_state:
        destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = module.get_extra_state()


def state_dict(module: Any, args: tuple, destination: Any, prefix: str, keep_vars: bool) -> Any:
    """An OrderedDict of (detached) parameters and persistent buffers under torch's keys."""
    if args:  # torch's deprecated positional form (destination, prefix, keep_vars)
        warnings.warn(
            "Positional args are being deprecated, use kwargs instead.",
            FutureWarning,
            stacklevel=3,
        )
        destination = args[0] if destination is None else destination
        prefix = args[1] if len(args) > 1 and prefix == "" else prefix
        keep_vars = args[2] if len(args) > 2 and not keep_vars else keep_vars
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()  # type: ignore[attr-defined]
    local_metadata = dict(version=module._version)
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = local_metadata
    for hook in module._state_dict_pre_hooks.values():
        hook(module, prefix, keep_vars)
    module._save_to_state_dict(destination, prefix, keep_vars)
    for name, m in module._modules.items():
        if m is not None:
            m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
    for hook in module._state_dict_hooks.values():
        r = hook(module, destination, prefix, local_metadata)
        if r is not None:
            destination = r
    return destination


def load_from_state_dict(module: Any, state_dict: dict, prefix: str, local_metadata: dict,
                         strict: bool, missing_keys: list, unexpected_keys: list,
                         error_msgs: list) -> None:  # fmt: skip
    for hook in module._load_state_dict_pre_hooks.values():
        hook(
            state_dict,
            prefix,
            local_metadata,
            strict,
            missing_keys,
            unexpected_keys,
            error_msgs,
        )
    persistent = {
        k: v for k, v in module._buffers.items() if k not in module._non_persistent_buffers_set
    }
    local_state = {
        k: v
        for k, v in itertools.chain(module._parameters.items(), persistent.items())
        if v is not None
    }
    assign = local_metadata.get("assign_to_params_buffers", False)
    for name, param in local_state.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        value = _as_tensor(state_dict[key])
        if value is None:
            error_msgs.append(
                f'While copying the parameter named "{key}", expected torch.Tensor or '
                f"Tensor-like object from checkpoint but received {type(state_dict[key])}"
            )
            continue
        if param.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
            value = value.reshape(())
        if value.shape != param.shape:
            error_msgs.append(
                f"size mismatch for {key}: copying a param with shape {_size(value.shape)} "
                f"from checkpoint, the shape in current model is {_size(param.shape)}."
            )
            continue
        try:
            with no_grad():
                if assign:
                    if isinstance(param, Parameter) and not isinstance(value, Parameter):
                        value = Parameter(value, requires_grad=param.requires_grad)
                    setattr(module, name, value)
                else:
                    param.copy_(value)
        except Exception as ex:
            error_msgs.append(
                f'While copying the parameter named "{key}", whose dimensions in the model '
                f"are {_size(param.shape)} and whose dimensions in the checkpoint are "
                f"{_size(value.shape)}, an exception occurred : {ex.args}."
            )
    extra = prefix + _EXTRA_STATE_KEY_SUFFIX
    if type(module).set_extra_state is not _base().set_extra_state:
        if extra in state_dict:
            module.set_extra_state(state_dict[extra])
        elif strict:
            missing_keys.append(extra)
    elif strict and extra in state_dict:
        unexpected_keys.append(extra)
    if strict:
        for key in state_dict:
            if key.startswith(prefix) and key != extra:
                head = key[len(prefix) :].split(".", 1)
                if (
                    (head[0] not in module._modules)
                    if len(head) > 1
                    else (head[0] not in local_state)
                ):
                    unexpected_keys.append(key)


def load_state_dict(module: Any, state_dict: Mapping[str, Any], strict: bool,
                    assign: bool) -> _IncompatibleKeys:  # fmt: skip
    """Copy parameters and buffers from `state_dict` (ember tensors or NumPy-like arrays).

    Returns ``(missing_keys, unexpected_keys)``; with `strict`, any mismatch raises.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing: list[str] = []
    unexpected: list[str] = []
    errors: list[str] = []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)

    def load(mod: Any, local: dict, prefix: str = "") -> None:
        meta = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            meta["assign_to_params_buffers"] = assign
        mod._load_from_state_dict(local, prefix, meta, True, missing, unexpected, errors)
        for name, child in mod._modules.items():
            if child is not None:
                cp = prefix + name + "."
                load(child, {k: v for k, v in local.items() if k.startswith(cp)}, cp)
        keys = _IncompatibleKeys(missing, unexpected)
        for hook in mod._load_state_dict_post_hooks.values():
            if hook(mod, keys) is not None:
                raise AssertionError(
                    "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                    "expected to return new values, if incompatible_keys need to be modified, "
                    "it should be done inplace."
                )

    load(module, state_dict)
    if strict:
        if unexpected:
            errors.insert(
                0,
                "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)
                ),
            )
        if missing:
            errors.insert(
                0,
                "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)),
            )
    if errors:
        raise RuntimeError(
            "Error(s) in loading state_dict for {}:\n\t{}".format(
                type(module).__name__, "\n\t".join(errors)
            )
        )
    return _IncompatibleKeys(missing, unexpected)


def _base() -> Any:
    from ember.nn.modules.module import Module

    return Module


def _size(shape: Any) -> str:
    from ember.size import Size

    return repr(Size(shape))


def _as_tensor(value: Any) -> Tensor | None:
    """Checkpoint values: ember tensors, or (an ember extension) NumPy-like arrays."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray) or (hasattr(value, "__array__") and hasattr(value, "shape")):
        from ember.ops.creation import tensor

        return tensor(np.asarray(value))
    return None
