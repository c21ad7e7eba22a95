"""The core: `Module`, `field`, abstract members and the shape-checking machinery.
See README.md in this folder for the design."""

from ._abstract import AbstractClassVar as AbstractClassVar
from ._abstract import AbstractVar as AbstractVar
from ._field import field as field
from ._method import BoundMethod as BoundMethod
from ._module import Module as Module
