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
from ._module_path import locate_module as locate_module
from ._module_path import located as located
from ._module_path import module_location as module_location
from ._paths import copy_path as copy_path
from ._paths import module_paths as module_paths
from ._paths import reroot as reroot
from ._paths import stand_in as stand_in
from ._recheck import recheck_fields as recheck_fields
from ._rules import AtLeast as AtLeast
from ._rules import Divisible as Divisible
from ._rules import Promotes as Promotes
from ._rules import Rank as Rank
from ._rules import SameDtype as SameDtype
from ._rules import Unless as Unless
from ._rules import When as When
from ._shape_error import ShapeError as ShapeError
from ._shape_error import describe as describe
from ._switch import VALUES as VALUES
from ._switch import checks as checks
from ._switch import checks_enabled as checks_enabled
