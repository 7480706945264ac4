"""Checks the layout of an AEDAT 4 file before the ``aedat`` decoder is given it.

The decoder trusts the sizes in the file: it allocates the header and every packet at the
size they declare, and decompresses packets without a limit. :func:`check_layout` reads
only the small headers and verifies, against the real file size:

- the magic ``#!AER-DAT4.0\\r\\n`` and the IOHeader size;
- the IOHeader flatbuffer (root table, vtable and the description string in bounds,
  compression code known);
- every packet ``(stream id u32, size u32, payload)``: its payload ends inside the file and
  the packets end exactly at the file data table (or at the end of the file when there is
  none), so a truncation at a packet boundary is an error, not a shorter recording;
- for LZ4 / Zstd packets, an upper bound on the decompressed size from the frame and block
  headers (each block decompresses to at most its format's block size); the sum over all
  packets must stay under a limit.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

MAGIC4 = b"#!AER-DAT4.0\r\n"
_LZ4_MAGIC = 0x184D2204
_ZSTD_MAGIC = 0xFD2FB528
_LZ4_BLOCK = {4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22}
_ZSTD_BLOCK = 1 << 17


class LayoutError(ValueError):
    """A problem with the file's layout (the reader adds the file name)."""


def _u(fmt: str, buf: bytes, pos: int) -> int:
    size = struct.calcsize(fmt)
    if pos < 0 or pos + size > len(buf):
        raise LayoutError(f"IOHeader offset {pos} out of bounds ({len(buf)} bytes)")
    return struct.unpack_from(fmt, buf, pos)[0]


def parse_ioheader(buf: bytes) -> tuple[int, int, str]:
    """Verify the IOHeader flatbuffer; return (compression, data table position, description)."""
    root = _u("<I", buf, 0)
    vt = root - _u("<i", buf, root)
    vlen, tlen = _u("<H", buf, vt), _u("<H", buf, vt + 2)
    if vlen < 4 or vlen % 2 or vt + vlen > len(buf) or root + tlen > len(buf):
        raise LayoutError("IOHeader vtable out of bounds")
    offsets = [_u("<H", buf, vt + 4 + 2 * i) for i in range((vlen - 4) // 2)] + [0, 0, 0]
    for off, size in zip(offsets[:3], (4, 8, 4), strict=True):
        if off and off + size > tlen:
            raise LayoutError("IOHeader field out of its table")
    compression = _u("<i", buf, root + offsets[0]) if offsets[0] else 0
    if compression not in range(5):
        raise LayoutError(f"unknown compression code {compression}")
    data_table = _u("<q", buf, root + offsets[1]) if offsets[1] else -1
    if not offsets[2]:
        raise LayoutError("IOHeader has no description")
    at = root + offsets[2]
    start = at + _u("<I", buf, at)
    n = _u("<I", buf, start)
    if start + 4 + n >= len(buf):
        raise LayoutError("IOHeader description out of bounds")
    try:
        text = buf[start + 4 : start + 4 + n].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LayoutError("IOHeader description is not UTF-8") from exc
    return compression, data_table, text


def _lz4_bound(p: bytes) -> int:
    pos, bound = 0, 0
    while pos < len(p):
        magic = _u("<I", p, pos)
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
            pos += 8 + _u("<I", p, pos + 4)
            continue
        if magic != _LZ4_MAGIC:
            raise LayoutError("LZ4 packet without the LZ4 frame magic")
        flg, bd = _u("B", p, pos + 4), _u("B", p, pos + 5)
        block = _LZ4_BLOCK.get((bd >> 4) & 7)
        if flg >> 6 != 1 or block is None:
            raise LayoutError("bad LZ4 frame descriptor")
        pos += 7 + 8 * ((flg >> 3) & 1) + 4 * (flg & 1)
        while True:
            size = _u("<I", p, pos)
            pos += 4
            if size == 0:
                pos += 4 * ((flg >> 2) & 1)
                break
            raw, size = size >> 31, size & 0x7FFFFFFF
            if size > block:
                raise LayoutError("LZ4 block larger than its frame's block size")
            bound += size if raw else block
            pos += size + 4 * ((flg >> 4) & 1)
    if pos != len(p):
        raise LayoutError("LZ4 packet ends inside a frame")
    return bound


def _zstd_bound(p: bytes) -> int:
    pos, bound = 0, 0
    while pos < len(p):
        magic = _u("<I", p, pos)
        if magic & 0xFFFFFFF0 == 0x184D2A50:
            pos += 8 + _u("<I", p, pos + 4)
            continue
        if magic != _ZSTD_MAGIC:
            raise LayoutError("Zstd packet without the Zstd frame magic")
        fhd = _u("B", p, pos + 4)
        single, fcs = (fhd >> 5) & 1, fhd >> 6
        pos += 5 + (0 if single else 1) + (0, 1, 2, 4)[fhd & 3]
        pos += ((1 if single else 0), 2, 4, 8)[fcs]
        while True:
            if pos + 3 > len(p):
                raise LayoutError("Zstd packet ends inside a block header")
            head = int.from_bytes(p[pos : pos + 3], "little")
            last, kind, size = head & 1, (head >> 1) & 3, head >> 3
            pos += 3
            if kind == 3 or size > _ZSTD_BLOCK:
                raise LayoutError("bad Zstd block header")
            bound += _ZSTD_BLOCK if kind == 2 else size
            pos += 1 if kind == 1 else size
            if last:
                pos += 4 * ((fhd >> 2) & 1)
                break
    if pos != len(p):
        raise LayoutError("Zstd packet ends inside a frame")
    return bound


def check_layout(handle: BinaryIO, size: int, max_decoded: int) -> None:
    """Walk the header and packets of an open AEDAT 4 file (see the module docstring).

    Raises
    ------
    LayoutError
        Says what is wrong and at which offset.
    """
    if handle.read(len(MAGIC4)) != MAGIC4:
        raise LayoutError(f"magic is not {MAGIC4!r}")
    head = handle.read(4)
    if len(head) < 4:
        raise LayoutError("truncated: no IOHeader size")
    length = struct.unpack("<I", head)[0]
    pos = len(MAGIC4) + 4 + length
    if pos > size:
        raise LayoutError(f"IOHeader declares {length} bytes, the file has {size}")
    compression, data_table, _ = parse_ioheader(handle.read(length))
    end = data_table if data_table > -1 else size
    if end > size or end < pos:
        raise LayoutError(f"data table position {data_table} outside the file ({size} bytes)")
    decoded = 0
    while pos < end:
        if pos + 8 > end:
            raise LayoutError(f"truncated packet header at offset {pos}")
        handle.seek(pos)
        _, n = struct.unpack("<II", handle.read(8))
        if pos + 8 + n > end:
            raise LayoutError(
                f"truncated: packet at offset {pos} declares {n} bytes, {end - pos - 8} remain"
            )
        if compression == 0:
            decoded += n
        else:
            payload = handle.read(n)
            decoded += _lz4_bound(payload) if compression < 3 else _zstd_bound(payload)
        if decoded > max_decoded:
            raise LayoutError(f"packets decode to more than the limit of {max_decoded} bytes")
        pos += 8 + n
    handle.seek(0)
