"""One `.npy` record, written and parsed: NumPy's format, with typedeqx's comment in
the header's padding.

NumPy pads a record's header (a Python dict literal) with spaces to a 64-byte
boundary. typedeqx writes `#tdqx ` and a one-line JSON object in that padding.
NumPy's reader, and so Equinox's, parses the header with `ast.literal_eval`, which
skips the comment, so every record stays an ordinary `.npy` record.

The parser here never trusts the bytes: every length is bounded by what the file
still holds, and every failure is a `RecordError`, never an exception from NumPy's
own header parser.
"""

import ast
import dataclasses
import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

MAGIC = b"\x93NUMPY"
MARK = "#tdqx "
# NumPy refuses headers over 10000 characters unless pickles are allowed.
NUMPY_HEADER_LIMIT = 10000
COMMENT_LIMIT = 9000
_ALIGN = 64


class RecordError(Exception):
    """What is wrong with the bytes at one offset; the caller adds where."""

    def __init__(self, message: str, foreign: bool = False):
        super().__init__(message)
        self.foreign = foreign  # no record starts here at all (not damage)


@dataclasses.dataclass(frozen=True)
class Header:
    """A parsed record header.

    `signed` is the number of bytes from the record's start that its checksum
    covers before the data (everything up to typedeqx's comment)."""

    start: int
    data_start: int
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fortran: bool
    signed: bytes
    comment: dict[str, Any] | None

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize

    @property
    def end(self) -> int:
        return self.data_start + self.nbytes


def dict_text(array: np.ndarray) -> str:
    """The header dict NumPy writes for `array`, character for character."""
    d = np.lib.format.header_data_from_array_1_0(array)
    return "{" + "".join(f"'{k}': {v!r}, " for k, v in sorted(d.items())) + "}"


def header_bytes(text: str, comment: str) -> tuple[bytes, bytes]:
    """The header of a version 1.0 record as `(signed, rest)`: the bytes the
    checksum covers, then the comment, padding and newline."""
    body = f"{text} {MARK}{comment}"
    total = len(MAGIC) + 4 + len(body) + 1
    body += " " * (-total % _ALIGN) + "\n"
    head = MAGIC + b"\x01\x00" + struct.pack("<H", len(body))
    signed = head + f"{text} ".encode("latin1")
    return signed, body[len(text) + 1 :].encode("latin1")


def checksum(data: Any, value: int = 0) -> int:
    return zlib.crc32(data, value)


def parse_header(read: Callable[[int], bytes], start: int, remaining: int) -> Header:
    """Read and check one record header; `remaining` bounds every length."""
    head = read(8)
    if not head:
        raise RecordError("the file ends here", foreign=True)
    if not MAGIC.startswith(head[:6]) or (len(head) >= 6 and head[:6] != MAGIC):
        raise RecordError(f"no .npy record starts here (found {head!r})", True)
    if len(head) < 8:
        raise RecordError(f"the file ends inside a record header ({len(head)} bytes)")
    version = (head[6], head[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise RecordError(f"unknown .npy format version {version}")
    width = 2 if version == (1, 0) else 4
    raw_len = read(width)
    if len(raw_len) < width:
        raise RecordError("the file ends inside a record header")
    length = int.from_bytes(raw_len, "little")
    if length > NUMPY_HEADER_LIMIT:
        raise RecordError(f"header length {length} is over NumPy's limit of 10000")
    if 8 + width + length > remaining:
        raise RecordError(
            f"the header needs {8 + width + length} bytes but only {remaining} remain"
        )
    raw = read(length)
    if len(raw) < length:
        raise RecordError("the file ends inside a record header")
    text = _decode(raw, "utf8" if version == (3, 0) else "latin1")
    d, cut = _literal_dict(text)
    shape, dtype, fortran = _check_dict(d)
    rest = text[cut:]
    comment = _comment(rest)
    if comment is not None:  # the checksum covers everything before the comment
        cut += rest.index("#")
    encoding = "utf8" if version == (3, 0) else "latin1"
    signed = head + raw_len + raw[: len(text[:cut].encode(encoding))]
    header = Header(
        start, start + 8 + width + length, shape, dtype, fortran, signed, comment
    )
    if header.data_start + header.nbytes > start + remaining:
        raise RecordError(
            f"the record needs {header.end - start} bytes (shape {shape}, dtype "
            f"{dtype}) but only {remaining} remain: the file is truncated or damaged"
        )
    return header


def _decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise RecordError(f"the header is not {encoding} text ({e.reason})") from None


def _literal_dict(text: str) -> tuple[Any, int]:
    """The header's dict, and where the text after it starts."""
    try:
        body = ast.parse(text, mode="eval").body
        value = ast.literal_eval(body)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as e:
        name = type(e).__name__
        raise RecordError(f"the header is not a Python literal ({name})") from None
    if not isinstance(value, dict) or body.end_col_offset is None:
        raise RecordError("the header is not a dict")
    if body.end_lineno == 1 and text.isascii():  # as NumPy writes it: one line
        return value, body.end_col_offset
    segment = ast.get_source_segment(text, body) or ""
    return value, text.find(segment) + len(segment)


def _check_dict(d: dict[Any, Any]) -> tuple[tuple[int, ...], np.dtype[Any], bool]:
    if set(d) != {"descr", "fortran_order", "shape"}:
        raise RecordError(f"the header has keys {sorted(map(str, d))}")
    shape, fortran = d["shape"], d["fortran_order"]
    if not isinstance(shape, tuple) or not all(
        type(n) is int and n >= 0 for n in shape
    ):
        raise RecordError(f"the header's shape {shape!r} is not a tuple of sizes")
    if type(fortran) is not bool:
        raise RecordError(f"the header's fortran_order {fortran!r} is not a bool")
    try:
        dtype = np.lib.format.descr_to_dtype(d["descr"])
    except Exception as e:  # NumPy raises several types for a bad descr
        raise RecordError(f"the header's dtype {d['descr']!r} is not valid") from e
    if dtype.hasobject:
        raise RecordError("the record holds Python objects (a pickle), not data")
    return shape, dtype, fortran


def _comment(rest: str) -> dict[str, Any] | None:
    """typedeqx's comment after the dict, if any. NumPy and Equinox write only
    spaces there, so anything else is a damaged comment."""
    stripped = rest.strip(" \n")
    if not stripped:
        return None
    if not stripped.startswith(MARK):
        raise RecordError(
            f"the header has unknown text after its dict: {stripped[:40]!r}"
        )
    try:
        comment = json.loads(stripped[len(MARK) :])
    except (ValueError, RecursionError):
        raise RecordError(
            "typedeqx's comment in the header is not valid JSON"
        ) from None
    if not isinstance(comment, dict):
        raise RecordError("typedeqx's comment in the header is not a JSON object")
    return comment
