"""The enrolment URI as a QR code, for the tablet camera: SVG for pages, PNG for printing or sending.

Level M survives a smudged or slightly creased printout; the 4-module quiet zone is what scanners expect.
"""

from __future__ import annotations

import io

import segno

ERROR_LEVEL = "m"
BORDER = 4  # modules of quiet zone around the code
PNG_SCALE = 8  # pixels per module: sharp on paper and on a screen


def _qr(uri: str) -> segno.QRCode:
    return segno.make_qr(uri, error=ERROR_LEVEL, boost_error=False)


def qr_svg(uri: str) -> str:
    """A standalone SVG document; its size follows the viewBox so pages can scale it."""
    buffer = io.BytesIO()
    _qr(uri).save(buffer, kind="svg", border=BORDER, scale=PNG_SCALE, dark="#000", light="#fff")
    return buffer.getvalue().decode("utf-8")


def qr_png(uri: str) -> bytes:
    buffer = io.BytesIO()
    _qr(uri).save(buffer, kind="png", border=BORDER, scale=PNG_SCALE, dark="#000", light="#fff")
    return buffer.getvalue()
