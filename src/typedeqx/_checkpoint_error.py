"""The error a checkpoint that does not fit raises."""


class CheckpointError(RuntimeError, ValueError):
    """A checkpoint file could not be loaded into `like`, or a leaf could not be saved.

    Raised, before anything is returned, for a truncated, empty, corrupt or foreign
    file, for leaves whose key path, shape or dtype differ between the file and
    `like`, and for data after the last leaf. A `RuntimeError`, as Equinox raises in
    these cases, and a `ValueError`, since the argument is at fault.
    """


CheckpointError.__module__ = "typedeqx"
