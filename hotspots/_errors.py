"""Exceptions raised by the library, with messages meant for people."""

from __future__ import annotations


class HotspotsError(Exception):
    """Base class for errors the user can act on."""


class InputError(HotspotsError, ValueError):
    """A file or argument that cannot be used, with where and why.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    file
        The file concerned, if any.
    line
        The 1-based line in that file, if the problem is on one line.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.reason = message
        where = ""
        if file is not None:
            where = f"{file}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + message)


class CRSError(HotspotsError, ValueError):
    """A layer has no CRS or a geographic CRS where metres are needed."""
