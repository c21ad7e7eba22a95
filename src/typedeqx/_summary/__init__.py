"""`typedeqx.summary`: a shape-only dry run of a model, one row per module call.

`_record.py` intercepts the calls (a context-local recorder and, for the length of
the dry run, a recording `__call__` on the model's classes); `_table.py` holds the
result and renders it as text or as a `rich` table.
"""

from ._record import summary as summary
from ._table import Summary as Summary
