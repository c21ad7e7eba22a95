"""The public namespace: every name imports, is what it claims, and the errors
belong to the `typedeqx` module."""

import importlib

import pytest

import typedeqx

PUBLIC = {
    "typedeqx": [
        # module core
        "Module", "field", "AbstractVar", "AbstractClassVar",
        "static_field", "Partial", "module_update_wrapper",
        "StrictConfig",
        # filters
        "is_array", "is_array_like", "is_inexact_array", "is_inexact_array_like",
        "filter", "partition", "combine",
        # tree tools
        "tree_at", "tree_equal", "tree_pformat", "apply_updates", "tree_inference",
        "tree_pprint", "tree_flatten_one_level", "tree_check",
        # checks
        "checked", "checks", "ShapeError", "Batched",
        # transformations
        "filter_jit", "filter_grad", "filter_value_and_grad", "filter_jacfwd",
        "filter_jacrev", "filter_hessian", "filter_vmap", "if_array", "filter_pmap",
        "filter_jvp", "filter_vjp",
        "filter_eval_shape", "filter_checkpoint", "filter_custom_jvp",
        "filter_custom_vjp", "filter_closure_convert", "filter_pure_callback",
        "filter_make_jaxpr", "filter_shard",
        # errors
        "ModuleError", "FrozenFieldError", "TreeError", "TransformError",
        # checkpoints, runtime errors, caches
        "tree_serialise_leaves", "tree_deserialise_leaves",
        "default_serialise_filter_spec", "default_deserialise_filter_spec",
        "CheckpointError", "error_if", "branched_error_if", "EquinoxRuntimeError",
        "EquinoxTracetimeError", "clear_caches", "ValueCheckError",
        # layers
        "nn",
        # enumerations, debugging
        "Enumeration", "debug",
        # model summaries
        "summary", "Summary",
    ],
    "typedeqx.debug": [
        "assert_max_traces", "get_num_traces", "breakpoint_if", "backward_nan",
        "store_dce", "inspect_dce", "announce_transform",
    ],
    "typedeqx.nn": [
        "Linear", "Identity", "MLP", "Sequential", "Lambda", "inference_mode",
        "LayerNorm", "GroupNorm", "RMSNorm", "Dropout", "Embedding", "PReLU",
        "GRUCell", "LSTMCell",
        "Conv", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose", "ConvTranspose1d",
        "ConvTranspose2d", "ConvTranspose3d", "Pool", "MaxPool1d", "MaxPool2d",
        "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptivePool",
        "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
        "MultiheadAttention", "RotaryPositionalEmbedding", "Shared", "WeightNorm",
        "BatchNorm", "SpectralNorm", "State", "StateIndex", "StatefulLayer",
        "make_with_state", "delete_init_state",
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, names in PUBLIC.items() for n in names]
)
def test_public_name_imports(module, name):
    assert getattr(importlib.import_module(module), name) is not None


def test_no_unlisted_public_names():
    for module, names in PUBLIC.items():
        found = {
            n for n in vars(importlib.import_module(module)) if not n.startswith("_")
        }
        assert found == set(names), f"{module}: {sorted(found ^ set(names))}"


@pytest.mark.parametrize(
    "error",
    [
        typedeqx.ModuleError,
        typedeqx.FrozenFieldError,
        typedeqx.TreeError,
        typedeqx.TransformError,
        typedeqx.ShapeError,
    ],
)
def test_errors_belong_to_typedeqx(error):
    assert error.__module__ == "typedeqx"


def test_error_hierarchy():
    import jaxtyping

    assert issubclass(typedeqx.ShapeError, jaxtyping.TypeCheckError)
    assert issubclass(typedeqx.ShapeError, TypeError)
    assert issubclass(typedeqx.ShapeError, ValueError)  # as Equinox's layers raise
    assert issubclass(typedeqx.FrozenFieldError, AttributeError)
    assert issubclass(typedeqx.TreeError, ValueError)
    assert issubclass(typedeqx.ModuleError, TypeError)
