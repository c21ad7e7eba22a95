"""typedeqx: Equinox-compatible neural networks for JAX with checked shape contracts.

The public API is flat: everything a user needs is importable from `typedeqx`
(conventionally `import typedeqx as eqx`), and layers from `typedeqx.nn`.
"""

# --- errors ---
from ._errors import FrozenFieldError as FrozenFieldError
from ._errors import ModuleError as ModuleError
from ._errors import TreeError as TreeError

# --- filters ---
from ._filters import combine as combine
from ._filters import filter as filter
from ._filters import is_array as is_array
from ._filters import is_array_like as is_array_like
from ._filters import is_inexact_array as is_inexact_array
from ._filters import is_inexact_array_like as is_inexact_array_like
from ._filters import partition as partition

# --- module core ---
from ._module import AbstractClassVar as AbstractClassVar
from ._module import AbstractVar as AbstractVar
from ._module import Module as Module
from ._module import Partial as Partial
from ._module import StrictConfig as StrictConfig
from ._module import field as field
from ._module import module_update_wrapper as module_update_wrapper
from ._module import static_field as static_field

# --- tree tools ---
from ._pretty import tree_pformat as tree_pformat
from ._pretty import tree_pprint as tree_pprint
from ._tree import tree_at as tree_at
from ._tree import tree_equal as tree_equal
from ._tree_check import tree_check as tree_check
from ._tree_check import tree_flatten_one_level as tree_flatten_one_level
from ._update import apply_updates as apply_updates
from ._update import tree_inference as tree_inference

# --- checked ---
from ._contracts import Batched as Batched
from ._contracts import checked as checked
from ._contracts import ShapeError as ShapeError
from ._contracts import checks as checks

# --- transformations ---
from ._errors import TransformError as TransformError
from ._transform import filter_checkpoint as filter_checkpoint
from ._transform import filter_closure_convert as filter_closure_convert
from ._transform import filter_custom_jvp as filter_custom_jvp
from ._transform import filter_custom_vjp as filter_custom_vjp
from ._transform import filter_eval_shape as filter_eval_shape
from ._transform import filter_grad as filter_grad
from ._transform import filter_hessian as filter_hessian
from ._transform import filter_jacfwd as filter_jacfwd
from ._transform import filter_jacrev as filter_jacrev
from ._transform import filter_jit as filter_jit
from ._transform import filter_jvp as filter_jvp
from ._transform import filter_make_jaxpr as filter_make_jaxpr
from ._transform import filter_pmap as filter_pmap
from ._transform import filter_pure_callback as filter_pure_callback
from ._transform import filter_shard as filter_shard
from ._transform import filter_value_and_grad as filter_value_and_grad
from ._transform import filter_vjp as filter_vjp
from ._transform import filter_vmap as filter_vmap
from ._transform import if_array as if_array

# --- runtime errors, caches ---
from ._caches import clear_caches as clear_caches
from ._runtime_errors import EquinoxRuntimeError as EquinoxRuntimeError
from ._runtime_errors import EquinoxTracetimeError as EquinoxTracetimeError
from ._runtime_errors import branched_error_if as branched_error_if
from ._runtime_errors import error_if as error_if
from ._values import ValueCheckError as ValueCheckError

# --- rendering in treescope ---
from ._treescope import install as _install_treescope

# --- nn (imported last: layers are built on everything above) ---
from . import nn as nn

_install_treescope()  # Module.__treescope_repr__; imports treescope only to render

__version__ = "0.1.0"

# --- loaded on first use: a training script rarely needs them, and `import
# typedeqx` should cost no more than `import equinox` (benchmarks/bench_import.py).
# `from typedeqx import summary` and `typedeqx.summary` work as for any other name.
_LAZY = {
    "CheckpointError": "._serialisation",
    "default_deserialise_filter_spec": "._serialisation",
    "default_serialise_filter_spec": "._serialisation",
    "tree_deserialise_leaves": "._serialisation",
    "tree_serialise_leaves": "._serialisation",
    "Enumeration": "._enum",
    "Summary": "._summary",
    "summary": "._summary",
    "debug": None,  # the subpackage `typedeqx.debug` itself
}


def __getattr__(name: str) -> object:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'typedeqx' has no attribute {name!r}")
    source = _LAZY[name]
    module = importlib.import_module(f".{name}" if source is None else source, __name__)
    value = module if source is None else getattr(module, name)
    globals()[name] = value  # later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
