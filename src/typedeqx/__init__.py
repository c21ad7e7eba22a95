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
from ._core import AbstractClassVar as AbstractClassVar
from ._core import AbstractVar as AbstractVar
from ._core import Module as Module
from ._core import field as field

# --- tree tools ---

# --- checked ---

# --- transformations ---

# --- nn (imported last: layers are built on everything above) ---
from . import nn as nn

__version__ = "0.1.0"
