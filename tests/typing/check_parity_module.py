"""Type-checked, never run: the names added for Equinox parity."""

from typing import Any, assert_type

import typedeqx as eqx


def _add(a: int, b: int) -> int:
    return a + b


partial = eqx.Partial(_add, 1)
assert_type(partial, eqx.Partial[int])
assert_type(partial(2), int)


class Wrapper(eqx.Module):
    fn: Any

    @property
    def __wrapped__(self) -> Any:
        return self.fn


wrapped = eqx.module_update_wrapper(Wrapper(_add), _add)
assert_type(wrapped(1, 2), int)


class Static(eqx.Module):
    size: int = eqx.static_field(default=3)


assert_type(eqx.tree_pformat([1], struct_as_array=True, truncate_leaf=callable), str)
assert_type(eqx.tree_pprint([1], width=40), None)
assert_type(eqx.tree_check([1]), None)
leaves, treedef = eqx.tree_flatten_one_level({"a": 1})
assert_type(leaves, list[Any])
