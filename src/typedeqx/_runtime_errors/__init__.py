"""Run-time errors: `error_if` and `branched_error_if`, the errors they raise, and
the host-callback plumbing that value checks share with them.

The public face of this package; see README.md in this folder for what a check
compiles to and how a failure reaches the user.
"""

from ._error_if import EQX_ON_ERROR as EQX_ON_ERROR
from ._error_if import OnError as OnError
from ._error_if import branched_error_if as branched_error_if
from ._error_if import error_if as error_if
from ._error_if import read_on_error as read_on_error
from ._host import EquinoxRuntimeError as EquinoxRuntimeError
from ._host import EquinoxTracetimeError as EquinoxTracetimeError
from ._host import HostError as HostError
from ._host import batch_note as batch_note
from ._host import hand_over as hand_over
from ._host import reraise as reraise
from ._unbatched import unbatched_any as unbatched_any
from ._unbatched import unbatched_max as unbatched_max
