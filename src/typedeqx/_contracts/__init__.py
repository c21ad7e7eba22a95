"""Shape contracts: `@checked`, its switch, `Batched`, `ShapeError` and `BoundBy`;
and, for summaries and renderings, `module_paths`, `call_dimensions` and
`field_dimensions`.

The public face of the contract machinery; the rest of typedeqx (the top-level
namespace and every layer in `nn/`) imports from here, never from the private files.
See README.md in this folder for the design.
"""

from ._batched import Batched as Batched
from ._bindings import BoundBy as BoundBy
from ._checked import checked as checked
from ._introspect import call_dimensions as call_dimensions
from ._introspect import field_dimensions as field_dimensions
from ._layer_error import argument_error as argument_error
from ._paths import module_paths as module_paths
from ._shape_error import ShapeError as ShapeError
from ._shape_error import describe as describe
from ._switch import checks as checks
from ._switch import checks_enabled as checks_enabled
