"""The error a checkpoint that does not fit, or cannot be saved, raises."""


class CheckpointError(RuntimeError, ValueError):
    """A checkpoint could not be loaded into `like`, or a leaf could not be saved.

    Raised, before anything is returned, for a truncated, empty, damaged or foreign
    file (naming the byte offset and the leaf), for a file whose leaves or static
    configuration differ from `like` (listing every difference by path), for data
    after the last leaf, and for a leaf that cannot be saved. A `RuntimeError`, as
    Equinox raises in these cases, and a `ValueError`, since the argument is at
    fault.
    """


CheckpointError.__module__ = "typedeqx"
