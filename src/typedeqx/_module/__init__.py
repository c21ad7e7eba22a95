"""Models as PyTrees: `Module`, `field`, abstract members and bound methods.

The public face of the Module machinery; see README.md in this folder for the
design. It depends on nothing else in typedeqx but `_errors` and `_filters`; the
contract machinery (`_contracts`) is built on it.
"""

from ._abstract import AbstractClassVar as AbstractClassVar
from ._abstract import AbstractVar as AbstractVar
from ._abstract import StrictConfig as StrictConfig
from ._bind import binds_as_pytree as binds_as_pytree
from ._bind import is_method as is_method
from ._bind import transformed as transformed
from ._field import field as field
from ._field import static_field as static_field
from ._method import BoundMethod as BoundMethod
from ._module import Module as Module
from ._module import instance_dict as instance_dict
from ._module import under_construction as under_construction
from ._wrapper import Partial as Partial
from ._wrapper import module_update_wrapper as module_update_wrapper
