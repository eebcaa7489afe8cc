"""What the X server shows: Xvfb's framebuffer file (XWD format) read back and saved as PNG.

Reading the X framebuffer rather than the app's own OpenGL buffer proves the window really drew on
the display. Plain Python (struct, zlib), so the tests need no imaging library.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

_XWD_HEADER = struct.Struct(">25I")


@dataclass(frozen=True)
class Screen:
    width: int
    height: int
    rgb: bytes  # rows top to bottom, 3 bytes a pixel

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        offset = (y * self.width + x) * 3
        red, green, blue = self.rgb[offset : offset + 3]
        return red, green, blue

    def crop(self, left: int, top: int, width: int, height: int) -> Screen:
        """The part of the screen a window covers (clipped to the screen)."""
        left, top = max(0, left), max(0, top)
        width, height = min(width, self.width - left), min(height, self.height - top)
        row = self.width * 3
        rgb = b"".join(
            self.rgb[y * row + left * 3 : y * row + (left + width) * 3] for y in range(top, top + height)
        )
        return Screen(width, height, rgb)

    def colours(self, step: int = 7) -> int:
        """How many different colours a sample of the pixels holds: 1 for a blank screen."""
        pixels = len(self.rgb) // 3
        return len({self.rgb[i * 3 : i * 3 + 3] for i in range(0, pixels, step)})

    def share_of(self, colour: tuple[int, int, int], step: int = 7) -> float:
        pixels = range(0, len(self.rgb) // 3, step)
        wanted = bytes(colour)
        return sum(self.rgb[i * 3 : i * 3 + 3] == wanted for i in pixels) / len(pixels)

    def save_png(self, path: Path) -> None:
        row = self.width * 3
        raw = b"".join(b"\x00" + self.rgb[y * row : (y + 1) * row] for y in range(self.height))

        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b"")
        )


def read_xvfb_screen(path: Path) -> Screen:
    """Xvfb started with ``-fbdir DIR`` keeps its screen in ``DIR/Xvfb_screen0``, 24-bit TrueColor."""
    data = path.read_bytes()
    fields = _XWD_HEADER.unpack_from(data)
    header_size, depth, width, height = fields[0], fields[3], fields[4], fields[5]
    byte_order, bits_per_pixel, bytes_per_line = fields[7], fields[11], fields[12]
    masks, colours = fields[14:17], fields[19]
    if (depth, bits_per_pixel, byte_order, masks) != (24, 32, 0, (0xFF0000, 0x00FF00, 0x0000FF)):
        raise ValueError(f"unexpected framebuffer layout: {fields}")
    start = header_size + colours * 12
    rgb = bytearray(width * height * 3)
    for y in range(height):
        line = data[start + y * bytes_per_line : start + y * bytes_per_line + width * 4]
        # Little-endian 0x00RRGGBB words: bytes B, G, R, pad.
        rgb[y * width * 3 : (y + 1) * width * 3 : 3] = line[2::4]
        rgb[y * width * 3 + 1 : (y + 1) * width * 3 : 3] = line[1::4]
        rgb[y * width * 3 + 2 : (y + 1) * width * 3 : 3] = line[0::4]
    return Screen(width, height, bytes(rgb))
