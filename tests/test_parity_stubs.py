"""What the stubs reject fails at run time too, in typedeqx as in Equinox, and what
they accept runs (the typing side is tests/typing/check_parity_last_mile.py,
check_enum_misuse.py and check_transforms.py)."""

import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import pytest

import typedeqx as eqx

eqx_ref = pytest.importorskip("equinox")
LIBS = pytest.mark.parametrize("lib", [eqx, eqx_ref], ids=["typedeqx", "equinox"])


@LIBS
def test_an_embedding_needs_a_key_or_a_table(lib):
    with pytest.raises(ValueError):
        lib.nn.Embedding(65, 64)
    with pytest.raises(ValueError):
        lib.nn.Embedding(65, key=jr.PRNGKey(0))
    assert lib.nn.Embedding(65, 64, key=jr.PRNGKey(0)).weight.shape == (65, 64)
    assert lib.nn.Embedding(weight=jnp.ones((65, 64))).embedding_size == 64
    assert lib.nn.Embedding(None, None, jnp.ones((65, 64))).num_embeddings == 65


@LIBS
def test_static_field_takes_fields_keywords(lib):
    # (Equinox warns that `static_field` is deprecated before failing; typedeqx's
    # explicit keywords fail first.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(TypeError):
            lib.static_field(defualt=32)


def test_eval_shape_of_a_model_on_abstract_inputs():
    structs = []
    for lib in (eqx, eqx_ref):
        model = lib.nn.MLP(3, 2, 4, 1, key=jr.PRNGKey(0))
        structs.append(
            lib.filter_eval_shape(model, jax.ShapeDtypeStruct((3,), jnp.float32))
        )
    assert structs[0] == structs[1] == jax.ShapeDtypeStruct((2,), jnp.float32)
