"""Loading uploads into the store from the Data page (the same library calls as the CLI).

Each upload is one transaction (:func:`hotspots.ingest.load_input`): a file that cannot be
read raises :class:`~hotspots._errors.InputError`, is reported as failed and leaves the store
as it was.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import boundaries
from dashboard import access
from hotspots._errors import InputError
from hotspots.assign import set_geography
from hotspots.ingest import FileReport, InputFile, PartnerMapping, load_input, read_zip
from hotspots.limits import check_upload
from hotspots.store import Store

#: ``progress(fraction, text)``: how far a load has got (0 to 1) and what it is doing.
Progress = Callable[[float, str], None]


def load_upload(
    store: Store,
    name: str,
    data: bytes,
    *,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    progress: Progress | None = None,
) -> FileReport:
    """Load one uploaded CSV or police.uk zip; failures come back as a report, not an exception.

    ``progress`` hears each stage of the load (reading, checking each CSV, then the write's
    stages) from :func:`hotspots.ingest.load_input`.

    Raises
    ------
    access.Refused
        If the user's role lacks loading data (recorded in the audit log; nothing is read).
    """
    access.require("loading data", store=store)

    def step(done: int, total: int, text: str) -> None:
        if progress is not None:
            progress(min(done / max(total, 1), 1.0), text)

    try:
        step(0, 1, f"Reading {name}")
        check_upload(name, data)
        if name.lower().endswith(".zip"):
            files, warnings = read_zip(name, data=data)
        else:
            files, warnings = [InputFile(name, data)], []
        report = load_input(
            store, name, files, source=source, mapping=mapping, warnings=warnings, progress=step
        )
    except InputError as exc:
        report = FileReport(file=name, status="failed", error=str(exc))
    access.record(store, "load", f"{name}: {report.line()}")
    return report


def load_uploads(
    store: Store, uploads: list[tuple[str, bytes]], *, progress: Progress | None = None
) -> list[FileReport]:
    """Load police.uk uploads in name order (police.uk names sort by month), one transaction each.

    ``progress`` hears the whole batch: each file's share of the bar fills with its stages.
    """
    reports = []
    uploads = sorted(uploads, key=lambda u: u[0])
    n = len(uploads)
    for i, (name, data) in enumerate(uploads):

        def step(fraction: float, text: str, i: int = i) -> None:
            if progress is not None:
                label = f"File {i + 1} of {n}: {text}" if n > 1 else text
                progress((i + fraction) / n, label)

        reports.append(load_upload(store, name, data, progress=step))
    if progress is not None:
        progress(1.0, "Done")
    return reports


def csv_columns(data: bytes) -> list[str]:
    """The header of an uploaded CSV (UTF-8, or Windows-1252 when that fails).

    Raises
    ------
    InputError
        If the file cannot be read as CSV.
    """
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return [str(c) for c in pd.read_csv(io.BytesIO(data), nrows=0, encoding=enc).columns]
        except UnicodeDecodeError:
            continue
        except Exception as exc:  # pandas raises several parser errors
            raise InputError(f"could not be read as CSV ({exc})") from exc
    raise InputError("could not be decoded as UTF-8 or Windows-1252 text")


def _temp(name: str, data: bytes) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="hotspots-upload-"))
    path = tmp / Path(name).name
    path.write_bytes(data)
    return path


def set_boundaries(store: Store, name: str, data: bytes) -> str:
    """Use an uploaded 2021 LSOA boundary file as the study area and re-assign every location.

    Raises
    ------
    InputError
        If the file cannot be read or does not hold 2021 LSOAs (the store is unchanged).
    """
    access.require("changing boundaries, the study area or localities", store=store)
    check_upload(name, data)
    geo = boundaries.geography_from_lsoas(_temp(name, data))
    n = set_geography(store, geo)
    return (
        f"Study area set to {geo.name}: {len(geo.lsoas):,} LSOAs, {geo.lsoas['ward_code'].nunique():,} wards, "
        f"{geo.lsoas['district_code'].nunique():,} districts, {int(geo.lsoas['population'].sum()):,} residents; "
        f"{n:,} locations re-assigned."
    )


def choose_study_area(store: Store, *, csp=(), force=(), district=()) -> str:
    """Use partnerships, force areas and districts (names or codes) as the study area; re-assign.

    Raises
    ------
    InputError
        If nothing is chosen or a name does not match one area (the store is unchanged).
    """
    access.require("changing boundaries, the study area or localities", store=store)
    geo = boundaries.study_area(csp=list(csp), force=list(force), district=list(district))
    n = set_geography(store, geo)
    lsoas = geo.boundary_lsoas
    return (
        f"Study area set to {geo.name}: {len(lsoas):,} LSOAs, {lsoas['ward_code'].nunique():,} wards, "
        f"{lsoas['district_code'].nunique():,} districts, {int(lsoas['population'].sum()):,} residents; "
        f"{n:,} locations re-assigned."
    )


def reset_boundaries(store: Store) -> str:
    """Go back to the shipped Staffordshire and Stoke-on-Trent geography."""
    access.require("changing boundaries, the study area or localities", store=store)
    n = set_geography(store, None)
    return f"Shipped Staffordshire and Stoke-on-Trent geography restored; {n:,} locations re-assigned."


def set_localities(store: Store, name: str, data: bytes) -> str:
    """Set localities from an uploaded two-column CSV (ward code, locality name).

    Raises
    ------
    InputError
        If the CSV is malformed or names wards that are not in the study area.
    """
    access.require("changing boundaries, the study area or localities", store=store)
    check_upload(name, data)
    loc = boundaries.read_localities_csv(_temp(name, data))
    return store.set_localities(loc, file=name) + "."


def reports_table(reports: list[FileReport]) -> pd.DataFrame:
    """One row per report for display."""
    rows = [
        {
            "file": r.file,
            "status": r.status,
            "rows read": r.rows_read,
            "accepted": r.accepted,
            "duplicate": r.duplicate,
            "rejected": r.rejected,
            "outside the study area": r.outside_area,
            "no location": r.no_location,
            "seconds": round(r.seconds, 2),
        }
        for r in reports
    ]
    return pd.DataFrame(rows)
