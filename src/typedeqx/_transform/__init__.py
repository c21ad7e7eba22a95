"""Filtered transformations: JAX transformations where arrays are traced (or
vectorised, or differentiated) and every other leaf passes through untouched.
One transformation per module; `README.md` says which file holds what they share."""

from ._axes import if_array as if_array
from ._callback import filter_pure_callback as filter_pure_callback
from ._checkpoint import filter_checkpoint as filter_checkpoint
from ._closure import filter_closure_convert as filter_closure_convert
from ._custom_ad import filter_custom_jvp as filter_custom_jvp
from ._custom_ad import filter_custom_vjp as filter_custom_vjp
from ._eval_shape import filter_eval_shape as filter_eval_shape
from ._grad import filter_grad as filter_grad
from ._grad import filter_hessian as filter_hessian
from ._grad import filter_jacfwd as filter_jacfwd
from ._grad import filter_jacrev as filter_jacrev
from ._grad import filter_value_and_grad as filter_value_and_grad
from ._jit import filter_jit as filter_jit
from ._jvp import filter_jvp as filter_jvp
from ._jvp import filter_vjp as filter_vjp
from ._make_jaxpr import filter_make_jaxpr as filter_make_jaxpr
from ._pmap import filter_pmap as filter_pmap
from ._shard import filter_shard as filter_shard
from ._vmap import filter_vmap as filter_vmap
