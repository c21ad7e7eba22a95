"""The callables the filtered transformations return carry the wrapped function's
metadata, as Equinox's do (Equinox's `test_wrapper_attributes`): each wrapper is
built by both libraries from the same function and read inside `filter_jit`."""

import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])
WRAPPERS = (
    "filter_jit",
    "filter_grad",
    "filter_value_and_grad",
    "filter_vmap",
    "filter_pmap",
)


def f(x: int) -> str:
    """some doc"""
    return "hi"


@LIBS
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_a_wrapper_keeps_the_metadata(lib, wrapper):
    seen = {}

    @lib.filter_jit
    def read(k):
        seen.update(
            name=k.__name__,
            doc=k.__doc__,
            qualname=k.__qualname__,
            module=k.__module__,
            annotations=k.__annotations__,
        )

    read(getattr(lib, wrapper)(f))
    assert seen == {
        "name": "f",
        "doc": "some doc",
        "qualname": "f",
        "module": __name__,
        "annotations": {"x": int, "return": str},
    }


def test_a_wrapper_without_annotations_has_none_of_its_own():
    class NoAnnotations:
        def __call__(self, x):
            return x

    wrapped = eqx.filter_jit(NoAnnotations())
    assert "__annotations__" not in vars(wrapped)
