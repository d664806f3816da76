"""The emulator's clock, Meta-shaped ids and a sample image: what every part of the emulator stamps."""
from __future__ import annotations

import base64
import hashlib
import secrets
import struct
import time
import zlib


class EmulatorClock:
    """Wall time plus an offset that tests move, so the 24 h window can be crossed instantly."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        return self.now()

    def set(self, unix_seconds: float) -> float:
        self.offset = unix_seconds - time.time()
        return self.now()


def new_wamid(wa_id: str) -> str:
    # Same look as Meta's ids (base64 of a binary blob that embeds the number); opaque to clients.
    raw = b"\x15\x02\x00\x11\x18\x12" + wa_id.encode() + secrets.token_bytes(12)
    return "wamid." + base64.b64encode(raw).decode()


def new_numeric_id() -> str:
    return str(10 ** 15 + secrets.randbelow(9 * 10 ** 15))


def user_id_for(wa_id: str) -> str:
    digest = int.from_bytes(hashlib.sha256(b"bsuid:" + wa_id.encode()).digest()[:8], "big")
    return f"US.{digest:020d}"


def sample_png() -> bytes:
    """A small generated picture, so the 'send a sample image' button needs no asset file."""
    width, height = 240, 160
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            sun = (x - 170) ** 2 + (y - 60) ** 2 < 26 ** 2
            if sun:
                row += bytes((255, 214, 90))
            elif y > 110:
                row += bytes((0, 128 + (x * 60) // width, 105))
            else:
                row += bytes((37 + y, 160 - y // 2, 211 - y // 3))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
