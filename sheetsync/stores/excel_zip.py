"""The .xlsx package (a zip): read parts, and write a copy where only the changed parts are re-compressed.

Every other part is copied byte for byte, compressed as it was, so what sheetsync does not understand
(shapes, pivot tables, comments, macros' parts) survives a save untouched.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO

LEVEL = 3
"""Deflate level for re-written parts: near the size of level 6 at half the time."""
CHUNK = 256 * 1024
"""Re-written parts are compressed in independent chunks of this many uncompressed bytes (about 2 % larger
than one stream), so the next write re-compresses only the chunks whose bytes changed."""
_SMALL = CHUNK // 4
"""Bytes to re-compress shorter than this take the next unchanged chunk along, so chunks do not splinter."""
_LAST_BLOCK = b"\x03\x00"
"""An empty final deflate block: ends a stream of chunks that each end on a full flush."""
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END = struct.Struct("<4sHHHHIIH")
_LIMIT = 0xFFFFFFFF


@dataclass
class Deflated:
    """A part's uncompressed bytes and its raw deflate stream as chunks: (start, end, compressed) each.

    Every chunk ends on a full flush (byte-aligned, nothing referring back to earlier chunks), so any chunk
    can be reused in a later stream wherever its bytes are unchanged.
    """

    body: bytes
    chunks: list[tuple[int, int, bytes]]
    crc: int

    @property
    def payload(self) -> bytes:
        return b"".join(c for _, _, c in self.chunks) + _LAST_BLOCK


def deflate(body: bytes, previous: Deflated | None = None,
            copied: Sequence[tuple[int, int, int]] = ()) -> Deflated:
    """Compress `body`, reusing the chunks of `previous` that lie wholly inside a run of bytes copied from it.

    `copied` lists (offset in `body`, offset in `previous.body`, length) in ascending order of both.
    """
    kept: list[tuple[int, int, bytes]] = []
    if previous is not None:
        old, i = previous.chunks, 0
        for new_start, old_start, length in copied:
            while i < len(old) and old[i][0] < old_start:
                i += 1
            while i < len(old) and old[i][1] <= old_start + length:
                start, end, data = old[i]
                kept.append((start - old_start + new_start, end - old_start + new_start, data))
                i += 1
    view = memoryview(body)
    chunks: list[tuple[int, int, bytes]] = []
    packer: list[zlib._Compress] = []

    def fresh(start: int, end: int) -> None:
        if not packer:
            packer.append(zlib.compressobj(LEVEL, zlib.DEFLATED, -15))
        for at in range(start, end, CHUNK):
            stop = min(end, at + CHUNK)
            chunks.append((at, stop, packer[0].compress(view[at:stop]) + packer[0].flush(zlib.Z_FULL_FLUSH)))

    pos, waiting = 0, -1
    for start, end, data in kept:
        if start > pos and waiting < 0:
            waiting = pos
        if waiting >= 0 and start - waiting < _SMALL:
            pos = end  # too little to compress on its own: take this chunk along
            continue
        if waiting >= 0:
            fresh(waiting, start)
            waiting = -1
        chunks.append((start, end, data))
        pos = end
    if waiting < 0 and pos < len(body):
        waiting = pos
    if waiting >= 0:
        fresh(waiting, len(body))
    return Deflated(body, chunks, zlib.crc32(body))


class NotSurgical(Exception):
    """This change needs the whole-workbook path (openpyxl): a zip64 or encrypted package, a missing part."""


class Package:
    """An .xlsx file's bytes with its table of contents."""

    def __init__(self, data: bytes, written: Mapping[str, Deflated] | None = None) -> None:
        """`written`: parts sheetsync itself put into `data` (read from here, not inflated again)."""
        self.data = data
        self.written = dict(written or {})
        try:
            self._zip = zipfile.ZipFile(BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise NotSurgical(str(exc)) from exc
        self.infos = self._zip.infolist()
        self.names = {i.filename for i in self.infos}

    def digest(self, *extra: str) -> str:
        """A digest of every part's name, CRC-32 and size as the zip's table of contents lists them (nothing is
        decompressed), and of `extra`. Document properties (docProps/: author, last saved) are left out.

        The CRC is of the uncompressed part, so the same contents compressed differently digest the same.
        """
        h = hashlib.blake2b(digest_size=16)
        for info in sorted(self.infos, key=lambda i: i.filename):
            if not info.filename.startswith("docProps/"):
                h.update(b"%s\0%d\0%d\n" % (info.filename.encode("utf-8", "surrogateescape"), info.CRC,
                                             info.file_size))
        for text in extra:
            h.update(b"\1" + text.encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def read(self, name: str) -> bytes:
        if name not in self.names:
            raise NotSurgical(f"part {name} is missing")
        known = self.written.get(name)
        return known.body if known is not None else self._zip.read(name)

    def _raw(self, info: zipfile.ZipInfo) -> bytes:
        head = _LOCAL.unpack_from(self.data, info.header_offset)
        if head[0] != b"PK\x03\x04":
            raise NotSurgical(f"bad local header for {info.filename}")
        start = info.header_offset + _LOCAL.size + head[9] + head[10]
        return self.data[start:start + info.compress_size]

    def rewrite(self, parts: Mapping[str, bytes | Deflated]) -> bytes:
        """The package with `parts` replaced (new parts are added at the end); everything else copied raw."""
        out = BytesIO()
        central = []
        entries = [(i.filename, i) for i in self.infos] + [(n, None) for n in parts if n not in self.names]
        for name, info in entries:
            if info is not None and (info.flag_bits & 0x1 or info.file_size >= _LIMIT or info.compress_size >= _LIMIT):
                raise NotSurgical(f"{name} is encrypted or too large for a plain zip")
            if name in parts:
                part = parts[name]
                if isinstance(part, Deflated):
                    payload, crc, size = part.payload, part.crc, len(part.body)
                else:
                    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
                    payload, crc, size = packer.compress(part) + packer.flush(), zlib.crc32(part), len(part)
                method = zipfile.ZIP_DEFLATED
                stamp = info.date_time if info is not None else (1980, 1, 1, 0, 0, 0)
                attr = info.external_attr if info is not None else 0o600 << 16
            else:
                assert info is not None
                payload = self._raw(info)
                crc, size, method, stamp, attr = (info.CRC, info.file_size, info.compress_type, info.date_time,
                                                  info.external_attr)
            if len(payload) >= _LIMIT or size >= _LIMIT:
                raise NotSurgical(f"{name} is too large for a plain zip")
            encoded = name.encode("utf-8")
            flags = 0x800 if any(ord(ch) > 127 for ch in name) else 0
            dos_time = (stamp[3] << 11) | (stamp[4] << 5) | (stamp[5] // 2)
            dos_date = ((stamp[0] - 1980) << 9) | (stamp[1] << 5) | stamp[2]
            offset = out.tell()
            out.write(_LOCAL.pack(b"PK\x03\x04", 20, flags, method, dos_time, dos_date, crc, len(payload), size,
                                  len(encoded), 0))
            out.write(encoded)
            out.write(payload)
            central.append(_CENTRAL.pack(b"PK\x01\x02", 20, 20, flags, method, dos_time, dos_date, crc,
                                         len(payload), size, len(encoded), 0, 0, 0, 0, attr, offset) + encoded)
        start = out.tell()
        if start >= _LIMIT or len(central) > 0xFFFF:
            raise NotSurgical("the workbook is too large for a plain zip")
        for entry in central:
            out.write(entry)
        size = out.tell() - start
        out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
        return out.getvalue()
