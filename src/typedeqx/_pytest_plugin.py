"""The typedeqx pytest plugin (registered under the `pytest11` entry point, so
pytest loads it whenever typedeqx is installed; it does nothing unless asked).

`pytest --typedeqx-values` runs the test session with value checks on
(`typedeqx.checks(values=True)`), and a test that fails with a `ShapeError` or a
`ValueCheckError` gets a "typedeqx summary" section in its report: the
`typedeqx.summary` table of the model whose call failed, up to the failing call.

typedeqx (and so JAX) is imported only when the option is given.
"""

from collections.abc import Generator
from typing import Any

import pytest

_ACTIVE = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("typedeqx")
    group.addoption(
        "--typedeqx-values",
        action="store_true",
        default=False,
        help="run with typedeqx value checks on (NaN, infinity and index checks); "
        "a test failing with a ShapeError or ValueCheckError reports the model's "
        "summary up to the failing call",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("typedeqx_values"):
        return
    import typedeqx

    switch = typedeqx.checks(values=True)
    switch.__enter__()
    config.stash[_ACTIVE] = switch
    config.addinivalue_line("markers", "typedeqx: typedeqx value checks are on")


def pytest_unconfigure(config: pytest.Config) -> None:
    switch = config.stash.get(_ACTIVE, None)
    if switch is not None:
        switch.__exit__(None, None, None)
        del config.stash[_ACTIVE]


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _ACTIVE in item.config.stash:
        from typedeqx._values import forget_model_call

        forget_model_call()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    if _ACTIVE not in item.config.stash or call.excinfo is None:
        return
    text = _summary_for(call.excinfo.value)
    if text is not None:
        outcome.get_result().sections.append(("typedeqx summary", text))


def _summary_for(error: BaseException) -> str | None:
    """The summary table of the model whose checked call raised `error`."""
    import typedeqx
    from typedeqx._summary import summary
    from typedeqx._values import last_model_call

    if not isinstance(error, (typedeqx.ShapeError, typedeqx.ValueCheckError)):
        return None
    call = last_model_call()
    if call is None:
        return None
    model, args, kwargs = _abstract(call)
    try:
        table = summary(model, *args, **kwargs)
    except Exception as failure:  # the report must not fail on its account
        return f"(no summary: {type(failure).__name__}: {failure})"
    path = getattr(error, "path", None)
    if path is not None and table.error is None:
        last = next((i for i, r in enumerate(table.rows) if r.path == path), None)
        if last is not None:
            table.rows = table.rows[: last + 1]
    return f"The model's calls up to the failing one:\n{table}"


def _abstract(tree: Any) -> Any:
    """`tree` with every array (or traced value) replaced by its shape and dtype,
    so that a model seen while tracing can still be summarised."""
    import jax
    import jax.tree_util as jtu

    struct: Any = jax.ShapeDtypeStruct  # unannotated in JAX

    def leaf(x: Any) -> Any:
        if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type):
            return struct(x.shape, x.dtype)
        return x

    return jtu.tree_map(leaf, tree)
