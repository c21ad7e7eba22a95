"""The result of `typedeqx.summary`: rows, totals, and their renderings."""

import dataclasses
import importlib
from typing import Any, ClassVar

_HEADERS = ("Path", "Module", "Note", "Inputs", "Output", "Params", "Bytes")
_RIGHT = frozenset({"Params", "Bytes"})


@dataclasses.dataclass
class SummaryRow:
    """One module call of a summary.

    - `path`: where the module sits in the model, e.g. `"Net.blocks[1].mlp"`.
    - `module`: its class name.
    - `inputs`: each array argument as `name f32[16,64] (seq, d_model)`: shape and
        dtype (per example under `vmap`), and the dimension names its contract
        binds when the module is checked.
    - `output`: the return value, written the same way (`"-"` if it never
        returned).
    - `params`, `bytes`: the size of the module's own arrays (not its
        sub-modules'), or `None` on a repeated call of the same module.
    - `vmapped`: called inside `vmap`. `count`: how many stacked copies the
        module stands for (a layer run by `lax.scan`), or `None`.
    - `failed`: this call broke a contract (see `Summary.error`).
    """

    path: str
    module: str
    inputs: list[str]
    output: str = "-"
    params: int | None = None
    bytes: int | None = None
    vmapped: bool = False
    count: int | None = None
    failed: bool = False

    @property
    def note(self) -> str:
        """`vmap`, `×4` (scanned or stacked), `failed`, joined by spaces."""
        parts = ["vmap"] if self.vmapped else []
        if self.count is not None:
            parts.append(f"×{self.count}")
        if self.failed:
            parts.append("failed")
        return " ".join(parts)

    def cells(self) -> tuple[str, ...]:
        return (
            self.path,
            self.module,
            self.note,
            ", ".join(self.inputs),
            self.output,
            "" if self.params is None else f"{self.params:,}",
            "" if self.bytes is None else human_bytes(self.bytes),
        )


def human_bytes(n: int) -> str:
    """`512` -> `512 B`, `17_000` -> `17.0 kB` (powers of 1000)."""
    if n < 1000:
        return f"{n} B"
    units = ("kB", "MB", "GB", "TB")
    value, index = n / 1000, 0
    while value >= 1000 and index < len(units) - 1:
        value, index = value / 1000, index + 1
    return f"{value:.1f} {units[index]}"


@dataclasses.dataclass
class Summary:
    """What `typedeqx.summary` found: one `Row` per module call, in call order, and
    totals over the model's arrays (each counted once).

    `str(summary)` is the table as plain text; in a `rich` console it renders as a
    `rich` table (`rich_table()`).

    - `rows`: the calls, outermost first within each call.
    - `total_params`, `total_bytes`: over every array in the model.
    - `output`: the model's output as `jax.ShapeDtypeStruct`s, or `None` on failure.
    - `error`: the `ShapeError` that stopped the dry run, or `None`. Then `rows` end
        at the failing call, which is marked `failed`.
    """

    Row: ClassVar[type[SummaryRow]] = SummaryRow

    rows: list[SummaryRow]
    total_params: int
    total_bytes: int
    output: Any = None
    error: Exception | None = None

    def _columns(self) -> list[int]:
        return [i for i, h in enumerate(_HEADERS) if h != "Note" or self._has_notes()]

    def _has_notes(self) -> bool:
        return any(row.note for row in self.rows)

    def totals(self) -> str:
        """`Total: 4,810 parameters (19.2 kB) in 3 modules`."""
        modules = len([row for row in self.rows if row.params is not None])
        return (
            f"Total: {self.total_params:,} parameters "
            f"({human_bytes(self.total_bytes)}) in {modules} called modules"
        )

    def footer(self) -> str:
        """The totals, and the error when the dry run failed."""
        text = self.totals()
        if self.error is not None:
            text += f"\nShapeError: {self.error}"
        return text

    def __str__(self) -> str:
        columns = self._columns()
        table = [[_HEADERS[i] for i in columns]]
        table += [[row.cells()[i] for i in columns] for row in self.rows]
        widths = [max(len(line[c]) for line in table) for c in range(len(columns))]
        lines = []
        for number, line in enumerate(table):
            cells = []
            for c, cell in enumerate(line):
                right = _HEADERS[columns[c]] in _RIGHT
                cells.append(cell.rjust(widths[c]) if right else cell.ljust(widths[c]))
            lines.append("  ".join(cells).rstrip())
            if number == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n" + self.footer()

    def __repr__(self) -> str:
        return str(self)

    def rich_table(self) -> Any:
        """The summary as a `rich.table.Table` (needs `rich`: `pip install rich`).

        **Returns:**

        A `rich.table.Table` with the same columns as the text, and the totals (and
        error) as its caption.
        """
        try:
            Table = importlib.import_module("rich.table").Table
        except ImportError:
            raise ImportError(
                "Summary.rich_table needs the optional package rich, which is not "
                "installed. Install it (pip install rich), or print the summary as "
                "plain text: print(summary)."
            ) from None
        columns = self._columns()
        table = Table(caption=self.footer(), caption_justify="left")
        for i in columns:
            table.add_column(
                _HEADERS[i], justify="right" if _HEADERS[i] in _RIGHT else "left"
            )
        for row in self.rows:
            cells = row.cells()
            table.add_row(
                *(cells[i] for i in columns), style="red" if row.failed else None
            )
        return table

    def __rich__(self) -> Any:
        return self.rich_table()
