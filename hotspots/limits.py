"""Limits on what a load will accept: upload size, and zip archives that would expand too far.

A dashboard open to a partnership's staff takes files from people's downloads folders; a
malformed or hostile file must end as a clear message, never as a server that runs out of
memory. Three limits, each configurable by an environment variable:

* **one uploaded file**: ``HOTSPOTS_MAX_UPLOAD_MB``, default 200 MB (Streamlit's own default
  upload limit; a force's police.uk year zips to about 5 MB; ``server.maxUploadSize`` in
  ``.streamlit/config.toml``, 1000 MB, stays the outer ceiling the browser enforces);
* **everything a zip expands to** (its CSV members): ``HOTSPOTS_MAX_UNZIPPED_MB``, default
  1024 MB (about 5 million police.uk rows, some 50 force-years);
* **compression ratio of a zip member**: ``HOTSPOTS_MAX_ZIP_RATIO``, default 100 (police.uk CSVs
  compress about 5:1, very repetitive CSVs 30:1, zip bombs 1000:1 and more).

The zip checks read only the archive's directory, before anything is decompressed. A member
cannot expand beyond the size its directory entry declares: :mod:`zipfile` stops reading at
the declared size and then fails the CRC check, which :func:`hotspots.ingest.read_zip` turns
into an :class:`~hotspots._errors.InputError`.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass

from hotspots._errors import InputError

MB = 1024 * 1024
#: Members smaller than this are never refused for their ratio: they cannot exhaust memory.
RATIO_FLOOR_BYTES = 1 * MB


@dataclass(frozen=True)
class Limits:
    """The limits in force (bytes and a ratio)."""

    max_upload_bytes: int = 200 * MB
    max_unzipped_bytes: int = 1024 * MB
    max_zip_ratio: float = 100.0


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"environment variable {name} must be a positive number, got {raw!r}") from None
    if not value > 0:
        raise InputError(f"environment variable {name} must be a positive number, got {raw!r}")
    return value


def limits() -> Limits:
    """The limits in force: the defaults, overridden by the environment variables above.

    Raises
    ------
    InputError
        If one of the variables is set to something other than a positive number.
    """
    d = Limits()
    return Limits(
        max_upload_bytes=int(_env_number("HOTSPOTS_MAX_UPLOAD_MB", d.max_upload_bytes / MB) * MB),
        max_unzipped_bytes=int(_env_number("HOTSPOTS_MAX_UNZIPPED_MB", d.max_unzipped_bytes / MB) * MB),
        max_zip_ratio=_env_number("HOTSPOTS_MAX_ZIP_RATIO", d.max_zip_ratio),
    )


def _mb(n: float) -> str:
    return f"{n / MB:,.1f} MB"


def check_upload(name: str, data: bytes, *, limit: Limits | None = None) -> None:
    """Refuse an uploaded file over the upload limit, or a zip that would expand too far.

    Parameters
    ----------
    name
        The file's name, for the message.
    data
        Its bytes. A zip (any file starting ``PK``: police.uk archives, zipped
        Shapefiles) also has its directory checked by :func:`check_zip`, all members counted.
    limit
        The limits; ``None``: :func:`limits` (defaults and environment).

    Raises
    ------
    InputError
        If ``data`` is longer than ``max_upload_bytes``, or is a zip that :func:`check_zip`
        refuses or that cannot be read as a zip.
    """
    lim = limit or limits()
    if len(data) > lim.max_upload_bytes:
        raise InputError(
            f"the file is {_mb(len(data))}, over the upload limit of {_mb(lim.max_upload_bytes)}; split "
            "it (one file per month), load it on the command line, or raise HOTSPOTS_MAX_UPLOAD_MB",
            file=name,
        )
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(f"not a readable zip archive ({exc})", file=name) from exc
        check_zip(name, infos, limit=lim)


def check_zip(name: str, infos: list[zipfile.ZipInfo], *, limit: Limits | None = None) -> None:
    """Refuse a zip whose members would expand too far (a zip bomb), from its directory alone.

    Parameters
    ----------
    name
        The archive's name, for the message.
    infos
        The members to be read (:meth:`zipfile.ZipFile.infolist`, less those skipped).
    limit
        The limits; ``None``: :func:`limits` (defaults and environment).

    Raises
    ------
    InputError
        If the members together expand to more than ``max_unzipped_bytes``, or a member over
        :data:`RATIO_FLOOR_BYTES` expands more than ``max_zip_ratio`` times its compressed size.

    Notes
    -----
    Members under :data:`RATIO_FLOOR_BYTES` are not checked for their ratio (a 10 kB file of
    blank lines compresses 500:1 and is harmless); the total still counts them.
    """
    lim = limit or limits()
    total = sum(i.file_size for i in infos)
    if total > lim.max_unzipped_bytes:
        raise InputError(
            f"the archive would expand to {_mb(total)}, over the limit of {_mb(lim.max_unzipped_bytes)} "
            "(a zip bomb, or a larger archive than this store takes: load it in parts, or raise "
            "HOTSPOTS_MAX_UNZIPPED_MB); nothing was loaded",
            file=name,
        )
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > RATIO_FLOOR_BYTES and ratio > lim.max_zip_ratio:
            raise InputError(
                f"member {i.filename!r} expands {ratio:,.0f} times (from {_mb(i.compress_size)} to "
                f"{_mb(i.file_size)}), over the limit of {lim.max_zip_ratio:,.0f} times for a zip member "
                "(police.uk files expand about 5 times): this looks like a zip bomb; nothing was loaded",
                file=name,
            )
