"""Tools for debugging JAX programs: how often a function is traced
(`assert_max_traces`, `get_num_traces`), conditional breakpoints
(`breakpoint_if`), NaNs that only appear on the backward pass (`backward_nan`),
what the compiler removed (`store_dce`, `inspect_dce`), and which transformations
reach a value (`announce_transform`).

These are for one-off debugging; Equinox calls the same API unstable.
"""

from ._announce_transform import announce_transform as announce_transform
from ._backward_nan import backward_nan as backward_nan
from ._breakpoint_if import breakpoint_if as breakpoint_if
from ._dce import inspect_dce as inspect_dce
from ._dce import store_dce as store_dce
from ._max_traces import assert_max_traces as assert_max_traces
from ._max_traces import get_num_traces as get_num_traces
