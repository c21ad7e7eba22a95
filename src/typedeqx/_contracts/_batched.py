"""`Batched[SomeModule, "name"]`: a module whose every array leaf carries one extra
leading axis, as made by `filter_vmap` over a stack of keys (an ensemble).

Checking one needs the field contract of the module's class, and compiling that
contract may need this node again; so the node is given a way to find a class's
field contract (`FieldPlans`) by whoever compiles it, and imports no plan itself.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import jax.tree_util as jtu

from ._bindings import Bindings
from ._dims import Problem
from ._nodes import Node, array_key
from ._shape_error import describe, short_array

__all__ = ["Batched", "BatchedAxis", "BatchedNode", "FieldPlans", "StrippedCheck"]


class StrippedCheck(Protocol):
    """The field contract of a class, checked with leading axes dropped."""

    def check_stripped(self, obj: Any, strip: int) -> Problem | None: ...


FieldPlans = Callable[[type], StrippedCheck]


class BatchedAxis:
    """The metadata in `Annotated[SomeModule, BatchedAxis("name")]`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"BatchedAxis({self.name!r})"


if TYPE_CHECKING:
    from typing import Annotated as Batched
else:

    class Batched:
        """Annotation for a module with one extra leading axis on every array leaf.

        `Batched[Linear, "ensemble"]` accepts a `Linear` whose leaves each have a
        leading axis of the same size, bound to the dimension `ensemble`; without
        that axis, the leaves must satisfy `Linear`'s own field contracts. Static
        type checkers see plain `Linear`.

        ```python fragment
        @typedeqx.checked
        class Ensemble(typedeqx.Module):
            members: typedeqx.Batched[Linear, "ensemble"]

            def __call__(
                self, x: Float[Array, "in_features"]
            ) -> Float[Array, "ensemble out_features"]:
                return typedeqx.filter_vmap(lambda m: m(x))(self.members)
        ```
        """

        def __class_getitem__(cls, item: Any) -> Any:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise ValueError(
                    "Batched takes a module class and an axis name: "
                    'Batched[Linear, "ensemble"].'
                )
            module, name = item
            name = name.strip() if isinstance(name, str) else name
            if not isinstance(module, type):
                raise ValueError(f"Batched[...] needs a class first; got {module!r}.")
            if not (isinstance(name, str) and name.isidentifier()):
                raise ValueError(
                    f"Batched[{module.__name__}, name] needs an identifier as the axis"
                    f" name; got {name!r}."
                )
            return Annotated[module, BatchedAxis(name)]


class BatchedNode(Node):
    """Checks a `Batched[cls, name]` value."""

    binds = True

    def __init__(self, cls: type, name: str, fields: FieldPlans) -> None:
        self.cls = cls
        self.name = name
        self.fields = fields
        self.text = f'Batched[{cls.__name__}, "{name}"]'

        def key(value: Any) -> Any:
            leaves, treedef = jtu.tree_flatten(value)
            return (treedef, tuple(map(array_key, leaves)))

        self.key = key

    def check(self, value: Any, b: Bindings, strip: int = 0) -> Problem | None:
        if not isinstance(value, self.cls):
            return self.problem(value)
        for path, leaf in jtu.tree_flatten_with_path(value)[0]:
            shape = getattr(leaf, "shape", None)
            if not isinstance(shape, tuple) or not hasattr(leaf, "dtype"):
                continue
            shape = shape[strip:]
            got = short_array(shape, leaf.dtype)
            at = jtu.keystr(path)
            if not shape:
                detail = f"no leading {self.name} axis"
                return Problem(got, self.text, detail, score=2, at=at)
            bound = b.sizes.get(self.name)
            if bound is None:
                b.bind_size(self.name, shape[0], b.label.bound(got, at))
            elif bound != shape[0]:
                detail = f"leading axis has size {shape[0]}"
                return Problem(got, self.text, detail, (self.name,), score=3, at=at)
        problem = self.fields(type(value)).check_stripped(value, strip + 1)
        if problem is not None:
            slice_ = f"each {self.name} slice of {describe(value)}"
            problem.detail = slice_ + (f": {problem.detail}" if problem.detail else "")
        return problem
