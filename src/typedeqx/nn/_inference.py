"""`inference_mode`: the layer-facing spelling of `tree_inference`."""

from typing import TypeVar

from .._update import tree_inference

_T = TypeVar("_T")


def inference_mode(model: _T, value: bool = True) -> _T:
    """Set every `inference` flag in `model` (as used by dropout and normalisation
    layers) to `value`.

    **Arguments:**

    - `model`: any PyTree, typically a model.
    - `value`: the flag to set; `True` for evaluation, `False` for training.

    **Returns:**

    A copy of `model` with every `inference` attribute set to `value`.
    """
    updated: _T = tree_inference(model, value)
    return updated
