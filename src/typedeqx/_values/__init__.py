"""Value checks: `typedeqx.checks(values=True)`.

The public face of the value-checking machinery (see README.md in this folder):
`ValueCheckError`, `check_indices` for layers that index with run-time values,
`last_model_call` for the pytest plugin, and the call that `@checked` runs when
value checks are on, which this package hands to the switch of `_contracts` (that
package is built below this one and does not import it).
"""

from .._contracts import VALUES
from ._error import ValueCheckError as ValueCheckError
from ._frames import call_with_values as call_with_values
from ._frames import forget_model_call as forget_model_call
from ._frames import last_model_call as last_model_call
from ._indices import check_indices as check_indices
from ._unchecked import call_checking_unchecked

VALUES.call = call_checking_unchecked
