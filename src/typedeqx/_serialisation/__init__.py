"""Checkpoints: saving and loading the leaves of a PyTree, byte-compatible with
Equinox, with checksums and a manifest that loading checks against `like`.

The public face of the checkpoint files; see README.md in this folder for the file
format and the threat model.
"""

from ._error import CheckpointError as CheckpointError
from ._load import default_deserialise_filter_spec as default_deserialise_filter_spec
from ._load import tree_deserialise_leaves as tree_deserialise_leaves
from ._save import default_serialise_filter_spec as default_serialise_filter_spec
from ._save import tree_serialise_leaves as tree_serialise_leaves
