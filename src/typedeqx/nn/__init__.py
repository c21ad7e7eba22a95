"""Prebuilt layers, each a checked `Module`."""

from ._inference import inference_mode as inference_mode
from ._linear import Identity as Identity
from ._linear import Linear as Linear
from ._mlp import MLP as MLP
from ._sequential import Lambda as Lambda
from ._sequential import Sequential as Sequential
