"""Errors that reach the user: one Japanese sentence naming the file, never a traceback."""

from __future__ import annotations


class XlsgenError(Exception):
    """A problem the user can act on. `str()` is the Japanese message shown on the terminal."""

    exit_code = 1

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InputFileError(XlsgenError):
    """An input file that cannot be read safely (broken, hostile, wrong format, protected)."""


class LayoutError(XlsgenError):
    """A workbook that opens but is not in a layout xlsgen knows."""


class OutputError(XlsgenError):
    """An output that cannot be written (folder read-only, disk full, name too long) or
    that came out damaged; nothing is left at the requested path."""
