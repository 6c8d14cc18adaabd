"""Load police.uk and partner data into the store, losing nothing and counting nothing twice.

Inputs: police.uk street-level CSV files, folders as extracted from the police.uk archive
(``YYYY-MM/YYYY-MM-<force>-street.csv``), the archive ``.zip`` itself (read without
extracting), police.uk outcomes files (update outcomes of known Crime IDs), and partner CSVs
with coordinates given a :class:`PartnerMapping`.

Rules
-----
* Every input row ends in ``incidents`` or in ``rejected`` (with file, line, raw text and the
  reason). ``rows_read = accepted + duplicate + rejected`` for every file.
* One transaction per input (a zip is one input): a failure leaves the store as it was.
* A file whose SHA-256 is already in the load log is skipped (re-loading is a no-op).
* **Duplicates.** An incident's id is its police.uk Crime ID. Rows without one (ASB, partner
  rows without an id) get a deterministic id from their source, month, coordinates, location,
  category and their order among identical rows of the same file, so that loading the same
  month again from another copy adds nothing. When a Crime ID repeats (police.uk repeats some
  in a later month when a crime is re-recorded), the first month seen is kept as the incident's
  month and place, the later row is kept in ``rejected`` as ``duplicate``, and the incident's
  outcome is updated from the row of the latest month. Load months in order (the CLI sorts
  the files of one call by name, which for police.uk is by month).
* **Locations.** Unique (lon, lat) points are converted to EPSG:27700 once and assigned to
  areas by point-in-polygon on 2021 LSOAs. The reported LSOA code is kept, and used only for
  locations outside the boundaries (another force's data), by the rule in ``docs/areas.md``.
* **Flags** (incidents are kept, not dropped): ``no_location`` (no coordinates: counted in
  totals, left off maps), ``outside_area`` (outside the study area), ``coords_swapped``
  (longitude and latitude were given the wrong way round and were swapped back).

Reading files, folders and zips, decoding and splitting CSV text are in
:mod:`hotspots.csv_input` (its names are importable from here too).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from hotspots._errors import InputError
from hotspots.assign import assign_locations
from hotspots.csv_input import (  # noqa: F401 (read_zip, decode: part of this module's interface)
    InputFile,
    ParsedCSV,
    decode,
    iter_inputs,
    missing_hints,
    norm_name,
    read_csv_text,
    read_zip,
    resolve_columns,
)
from hotspots.partner_mapping import PartnerMapping
from hotspots.store import Store

log = logging.getLogger(__name__)

POLICE_SOURCE = "police.uk"
STREET_COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
STREET_REQUIRED = ["Crime ID", "Month", "Longitude", "Latitude", "Location", "LSOA code", "Crime type"]
OUTCOME_COLUMNS = [*STREET_COLUMNS[:9], "Outcome type"]
STOP_SEARCH_MARKERS = {"object of search", "officer-defined ethnicity", "legislation"}

POLICE_CATEGORIES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
# Categories police.uk used before May 2013; files from those years still load.
HISTORIC_CATEGORIES = ("Violent crime", "Public disorder and weapons", "Other theft and burglary")
KNOWN_CATEGORIES = frozenset(POLICE_CATEGORIES + HISTORIC_CATEGORIES)

# Great Britain, generously (includes Scilly, Shetland; excludes Northern Ireland's west).
GB_LON = (-8.7, 1.9)
GB_LAT = (49.8, 60.95)
GB_EAST = (0.0, 700_000.0)
GB_NORTH = (0.0, 1_300_000.0)

_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_FROM_BNG = Transformer.from_crs(27700, 4326, always_xy=True)


# ---------------------------------------------------------------------------- reports
@dataclass
class FileReport:
    """What happened to one input file (one line of the load log)."""

    file: str
    sha256: str = ""
    kind: str = ""
    source: str = POLICE_SOURCE
    encoding: str = ""
    status: str = "loaded"  # loaded | already loaded | failed
    rows_read: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    no_location: int = 0
    outside_area: int = 0
    coords_swapped: int = 0
    outcomes_updated: int = 0
    blank_lines: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    rejected_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain values for JSON output."""
        return asdict(self)

    def line(self) -> str:
        """A one-line human summary."""
        if self.status == "failed":
            return f"{self.file}: FAILED — {self.error}"
        if self.status == "already loaded":
            return f"{self.file}: already loaded ({self.error}); nothing added"
        parts = [
            f"{self.rows_read:,} rows read",
            f"{self.accepted:,} accepted",
            f"{self.duplicate:,} duplicate",
            f"{self.rejected:,} rejected",
        ]
        if self.outcomes_updated:
            parts.append(f"{self.outcomes_updated:,} outcomes updated")
        flags = []
        if self.no_location:
            flags.append(f"{self.no_location:,} without location")
        if self.outside_area:
            flags.append(f"{self.outside_area:,} outside the study area")
        if self.coords_swapped:
            flags.append(f"{self.coords_swapped:,} with swapped coordinates fixed")
        text = f"{self.file} [{self.kind}, {self.source}]: " + ", ".join(parts)
        if flags:
            text += " (flagged: " + ", ".join(flags) + ")"
        return text


ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, text)``: called as a load goes on (files read, then the write's stages)."""

_WRITE_STAGES = 3  # duplicates checked, locations placed, saved


class _Progress:
    """Counts the steps of a load and reports each to a :data:`ProgressCallback`."""

    def __init__(self, callback: ProgressCallback | None, total: int):
        self.callback, self.total, self.done = callback, max(total, 1), 0

    def step(self, text: str, n: int = 1) -> None:
        self.done = min(self.done + n, self.total)
        if self.callback is not None:
            self.callback(self.done, self.total, text)

    def finish(self, text: str) -> None:
        self.done = self.total - 1
        self.step(text)


def detect_kind(header: list[str]) -> str:
    """Tell a police.uk street, outcomes or stop-and-search file from its header."""
    norm = {norm_name(h) for h in header}
    if STOP_SEARCH_MARKERS & norm:
        return "stop-and-search"
    if "crime type" in norm:
        return "street"
    if "outcome type" not in norm and len(norm & {norm_name(c) for c in STREET_COLUMNS}) >= 6:
        return "street"  # a street file with a renamed or missing column: say which
    if "outcome type" in norm:
        return "outcomes"
    return "unknown"


# ---------------------------------------------------------------------------- row validation
@dataclass
class Batch:
    """Rows of one input ready for the store: candidate incidents and rejected rows."""

    incidents: pd.DataFrame  # incident_id, source, month, occurred_at, category, outcome, location_name,
    #                          lsoa_code_reported, lon, lat, flags, file, line, raw
    rejected: pd.DataFrame  # file, line, raw, reason
    outcomes: pd.DataFrame | None = None  # incident_id, outcome, month, file, line, raw (outcomes files)
    extras: pd.DataFrame | None = None  # incident_id, extra (JSON text): partner columns kept by `extra`


_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_KNOWN_ARRAY = pa.array(sorted(KNOWN_CATEGORIES))
INCIDENT_SCHEMA = pa.schema(
    [
        ("incident_id", pa.string()),
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("month", pa.timestamp("us")),
        ("occurred_at", pa.timestamp("us")),
        ("category", pa.string()),
        ("outcome", pa.string()),
        ("location_name", pa.string()),
        ("lsoa_code_reported", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("flags", pa.string()),
        ("file", pa.dictionary(pa.int32(), pa.string())),
        ("line", pa.int64()),
    ]
)


def _constant(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value]))


def _np(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A writable numpy copy of an Arrow array (nulls become NaN for floats)."""
    return np.array(values.to_numpy(zero_copy_only=False))


def _reject_frame(
    file: str, lines: Iterable[int], raws: Iterable[str], reasons: Iterable[str]
) -> pd.DataFrame:
    return pd.DataFrame({"file": file, "line": list(lines), "raw": list(raws), "reason": list(reasons)})


def _rejected_rows(parsed: ParsedCSV, *, file: str, ok: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    """Rows that failed a check, plus rows with the wrong number of fields, with line and raw text."""
    lines = parsed.lines[~ok]
    rejected = _reject_frame(file, lines, parsed.raw_lines(lines), reason[~ok])
    if parsed.bad:
        rejected = pd.concat(
            [rejected, _reject_frame(file, *zip(*parsed.bad, strict=True))], ignore_index=True
        )
    return rejected


def _coordinates(
    lon_text: pd.Series, lat_text: pd.Series, *, en: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse coordinates; return lon, lat (or E, N), missing mask, reason per row (or ''), swapped mask."""
    lon_s = lon_text.str.strip()
    lat_s = lat_text.str.strip()
    lon = pd.to_numeric(lon_s, errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(lat_s, errors="coerce").to_numpy(dtype=float)
    empty_lon = (lon_s == "").to_numpy()
    empty_lat = (lat_s == "").to_numpy()
    missing = empty_lon & empty_lat
    reason = np.full(len(lon), "", dtype=object)
    xname, yname = ("Easting", "Northing") if en else ("Longitude", "Latitude")
    one_missing = empty_lon ^ empty_lat
    reason[one_missing & empty_lon] = f"{xname} is missing but {yname} is given"
    reason[one_missing & empty_lat] = f"{yname} is missing but {xname} is given"
    bad_lon = ~empty_lon & ~np.isfinite(lon)
    bad_lat = ~empty_lat & ~np.isfinite(lat)
    for mask, col, text in ((bad_lon, xname, lon_s), (bad_lat, yname, lat_s)):
        idx = np.flatnonzero(mask & (reason == ""))
        if len(idx):
            vals = text.to_numpy()[idx]
            reason[idx] = [f"{col} {v!r} is not a number" for v in vals]
    ok = np.isfinite(lon) & np.isfinite(lat) & (reason == "")
    zero = ok & (lon == 0) & (lat == 0)
    reason[zero] = f"{xname} and {yname} are both 0 (a placeholder, not a place)"
    ok &= ~zero
    swapped = np.zeros(len(lon), dtype=bool)
    if en:
        inside = ok & (lon >= GB_EAST[0]) & (lon <= GB_EAST[1]) & (lat >= GB_NORTH[0]) & (lat <= GB_NORTH[1])
        out = ok & ~inside
        reason[out] = "Easting/Northing lie outside Great Britain (is this British National Grid?)"
    else:
        inside = ok & (lon >= GB_LON[0]) & (lon <= GB_LON[1]) & (lat >= GB_LAT[0]) & (lat <= GB_LAT[1])
        swapped = (
            ok & ~inside & (lat >= GB_LON[0]) & (lat <= GB_LON[1]) & (lon >= GB_LAT[0]) & (lon <= GB_LAT[1])
        )
        lon[swapped], lat[swapped] = lat[swapped].copy(), lon[swapped].copy()
        out = ok & ~inside & ~swapped
        idx = np.flatnonzero(out)
        if len(idx):
            reason[idx] = [
                f"Longitude {a:g}, Latitude {b:g} lie outside Great Britain"
                for a, b in zip(lon[idx], lat[idx], strict=True)
            ]
    return lon, lat, missing, reason, swapped


def deterministic_ids(
    frame: pd.DataFrame | dict[str, pd.Series | pa.Array], columns: list[str], *, prefix: str
) -> pa.Array:
    """Ids for rows without one: a hash of their content and their order among identical rows.

    The same rows in the same order always give the same ids, so loading a second copy of
    a month adds nothing. The id is the 64-bit pandas hash (``hash_pandas_object``) of the
    text ``"col1|col2|…#k"`` (each value as ``str``, missing as ""; k counts earlier identical
    rows), written as 16 hex digits after ``prefix``. Values are turned into text once per
    distinct value, and the key is joined in Arrow. ``frame`` may be a dict whose text columns
    are Arrow string arrays (used as they are).
    """
    parts = []
    for c in columns:
        values = frame[c]
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if isinstance(values, pa.Array):  # text already
            parts.append(pc.fill_null(values, ""))
            continue
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        if isinstance(uniques, np.ndarray) and uniques.dtype.kind == "f":  # as astype(str): str(x), NaN ""
            text = np.array(["" if u != u else str(u) for u in uniques.tolist()], dtype=object)
        else:
            text = pd.Series(uniques).astype(str).fillna("").to_numpy(dtype=object)
        parts.append(pa.array(text, type=pa.string()).take(pa.array(codes)))
    if not parts or len(parts[0]) == 0:
        return pa.array([], type=pa.string())
    key = pc.binary_join_element_wise(*parts, "|")
    codes = key.dictionary_encode().indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    start = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
    occurrence = np.empty(len(order), dtype=np.int64)
    occurrence[order] = np.arange(len(order)) - first
    full = pc.binary_join_element_wise(key, pa.array(occurrence).cast(pa.string()), "#")
    h = pd.util.hash_pandas_object(pd.Series(pd.arrays.ArrowStringArray(full)), index=False)
    hexed = h.to_numpy(dtype=np.uint64).astype(">u8").tobytes().hex().encode()
    offsets = np.arange(0, len(hexed) + 1, 16, dtype=np.int32)
    return pc.binary_join_element_wise(
        prefix, pa.StringArray.from_buffers(len(h), pa.py_buffer(offsets), pa.py_buffer(hexed)), ""
    )


def _street_checks(
    month_text: pd.Series, category: pd.Series, lon_text: pd.Series, lat_text: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check rows of a street-level file one by one, with their messages.

    Run on the rows the fast check does not pass. Returns the reason ('' when the row is
    fine), lon, lat, and the missing and swapped masks.
    """
    n = len(month_text)
    reason = np.full(n, "", dtype=object)
    bad_month = ~month_text.str.match(_MONTH_RE).to_numpy(dtype=bool)
    if bad_month.any():
        idx = np.flatnonzero(bad_month)
        reason[idx] = [f"Month {v!r} is not a month written YYYY-MM" for v in month_text.to_numpy()[idx]]
    known = category.isin(KNOWN_CATEGORIES).to_numpy(dtype=bool)
    idx = np.flatnonzero(~known & (reason == ""))
    if len(idx):
        reason[idx] = [
            ("Crime type is empty" if v == "" else f"unknown Crime type {v!r}")
            + " (police.uk types: "
            + ", ".join(POLICE_CATEGORIES)
            + ")"
            for v in category.to_numpy()[idx]
        ]
    lon, lat, missing, coord_reason, swapped = _coordinates(lon_text, lat_text)
    take = (reason == "") & (coord_reason != "")
    reason[take] = coord_reason[take]
    return reason, lon, lat, missing, swapped


def parse_street(parsed: ParsedCSV, *, file: str) -> tuple[Batch, list[str]]:
    """Validate the rows of a police.uk street-level file.

    Every row is first checked with vectorised Arrow kernels (a month written YYYY-MM, a known
    category, coordinates that are numbers inside Great Britain or both empty); only the rows
    that fail are checked again one by one for their message.

    Returns
    -------
    (batch, warnings)

    Raises
    ------
    InputError
        If required columns are missing.
    """
    cols, warnings = resolve_columns(
        parsed.header, STREET_REQUIRED, STREET_COLUMNS, file=file, kind="police.uk street-level"
    )
    t = parsed.arrow
    n = t.num_rows
    position = {h: i for i, h in enumerate(parsed.header)}
    empty = pa.chunked_array([pc.fill_null(pa.nulls(n, pa.string()), "")])

    def col(name: str) -> pa.ChunkedArray:
        return t.column(position[cols[name]]) if name in cols else empty

    month = pc.utf8_trim_whitespace(col("Month"))
    category = pc.utf8_trim_whitespace(col("Crime type"))
    lon_s = pc.utf8_trim_whitespace(col("Longitude"))
    lat_s = pc.utf8_trim_whitespace(col("Latitude"))
    null = pa.scalar(None, pa.string())
    lon_num = pc.match_substring_regex(lon_s, _NUMBER_RE)
    lat_num = pc.match_substring_regex(lat_s, _NUMBER_RE)
    lon = _np(pc.cast(pc.if_else(lon_num, lon_s, null), pa.float64()))
    lat = _np(pc.cast(pc.if_else(lat_num, lat_s, null), pa.float64()))
    missing = _np(pc.and_(pc.equal(lon_s, ""), pc.equal(lat_s, "")))
    with np.errstate(invalid="ignore"):
        in_gb = (lon >= GB_LON[0]) & (lon <= GB_LON[1]) & (lat >= GB_LAT[0]) & (lat <= GB_LAT[1])
    ok = (
        _np(pc.match_substring_regex(month, _MONTH_RE))
        & _np(pc.is_in(category, value_set=_KNOWN_ARRAY))
        & (missing | in_gb)
    )
    swapped = np.zeros(n, dtype=bool)
    slow = np.flatnonzero(~ok)
    rejected = _reject_frame(file, [], [], [])
    if len(slow):
        take = pa.array(slow)

        def sub(values: pa.ChunkedArray) -> pd.Series:
            return pd.Series(_np(values.take(take)), dtype="string[pyarrow]")

        reason, s_lon, s_lat, s_missing, s_swapped = _street_checks(
            sub(month), sub(category), sub(lon_s), sub(lat_s)
        )
        good = reason == ""
        ok[slow] = good
        lon[slow], lat[slow], missing[slow], swapped[slow] = s_lon, s_lat, s_missing, s_swapped
        lines = parsed.lines[slow[~good]]
        rejected = _reject_frame(file, lines, parsed.raw_lines(lines), reason[~good])
    if parsed.bad:
        rejected = pd.concat(
            [rejected, _reject_frame(file, *zip(*parsed.bad, strict=True))], ignore_index=True
        )
    okx = np.flatnonzero(ok)
    every = len(okx) == n
    pick = None if every else pa.array(okx)

    def keep(values: pa.ChunkedArray) -> pa.ChunkedArray:
        return values if pick is None else values.take(pick)

    k = len(okx)
    month_k = keep(month)
    lon_k = np.where(missing[okx], np.nan, lon[okx])
    lat_k = np.where(missing[okx], np.nan, lat[okx])
    flags = np.full(k, "", dtype=object)
    flags[swapped[okx]] = "coords_swapped"
    flags[missing[okx]] = "no_location"
    outcome = keep(col("Last outcome category"))
    ids = keep(pc.utf8_trim_whitespace(col("Crime ID")))
    no_id = _np(pc.equal(ids, ""))
    if no_id.any():
        w = np.flatnonzero(no_id)
        wa = pa.array(w)

        def text(values: pa.ChunkedArray) -> pa.ChunkedArray:
            return values.take(wa)

        frame = {  # month as str(Timestamp) writes it: YYYY-MM-01
            "month": pc.binary_join_element_wise(text(month_k), "-01", ""),
            "reported": text(keep(col("Reported by"))),
            "lon6": pd.Series(np.round(lon_k[w], 6)),
            "lat6": pd.Series(np.round(lat_k[w], 6)),
            "location_name": text(keep(col("Location"))),
            "category": text(keep(category)),
            "lsoa_code_reported": text(keep(col("LSOA code"))),
        }
        made = deterministic_ids(frame, list(frame), prefix="pu-")
        # put the made ids in the empty places, in order
        slot = np.cumsum(no_id) - 1
        ids = pc.if_else(pa.array(no_id), made.take(pa.array(np.maximum(slot, 0))), ids)
    inc = pa.table(
        {
            "incident_id": ids,
            "source": _constant(POLICE_SOURCE, k),
            "month": pc.strptime(
                pc.binary_join_element_wise(month_k, "-01", ""), format="%Y-%m-%d", unit="us"
            ),
            "occurred_at": pa.nulls(k, pa.timestamp("us")),
            "category": keep(category),
            "outcome": pc.if_else(pc.equal(outcome, ""), null, outcome),
            "location_name": keep(col("Location")),
            "lsoa_code_reported": keep(col("LSOA code")),
            "lon": lon_k,
            "lat": lat_k,
            "flags": pa.array(flags, type=pa.string()),
            "file": _constant(file, k),
            "line": parsed.lines[okx],
        },
        schema=INCIDENT_SCHEMA,
    )
    return Batch(incidents=inc, rejected=rejected), warnings


def parse_outcomes(parsed: ParsedCSV, *, file: str) -> tuple[Batch, list[str]]:
    """Validate the rows of a police.uk outcomes file (outcome updates for known Crime IDs)."""
    cols, warnings = resolve_columns(
        parsed.header,
        ["Crime ID", "Month", "Outcome type"],
        OUTCOME_COLUMNS,
        file=file,
        kind="police.uk outcomes",
    )
    df = parsed.table
    lines = parsed.lines
    reason = np.full(len(df), "", dtype=object)
    month_text = df[cols["Month"]].str.strip()
    bad = ~month_text.str.match(_MONTH_RE).to_numpy(dtype=bool)
    reason[bad] = "Month is not a month written YYYY-MM"
    cid = df[cols["Crime ID"]].str.strip()
    reason[(cid == "").to_numpy() & (reason == "")] = "Crime ID is empty, so the outcome cannot be matched"
    ok = reason == ""
    rejected = _rejected_rows(parsed, file=file, ok=ok, reason=reason)
    outcomes = pd.DataFrame(
        {
            "incident_id": cid[ok].astype(object).to_numpy(),
            "outcome": df[cols["Outcome type"]][ok].astype(object).to_numpy(),
            "month": pd.to_datetime(month_text[ok].astype(object) + "-01").to_numpy(),
            "file": file,
            "line": lines[ok],
            "raw": parsed.raw_lines(lines[ok]),
        }
    )
    empty = pd.DataFrame(columns=["incident_id"])
    return Batch(incidents=empty, rejected=rejected, outcomes=outcomes), warnings


def parse_partner(
    parsed: ParsedCSV, *, file: str, mapping: PartnerMapping, source: str
) -> tuple[Batch, list[str]]:
    """Validate the rows of a partner CSV using its column mapping."""
    missing = [c for c in mapping.columns() if c not in parsed.header]
    if missing:
        hints = missing_hints(missing, parsed.header, "did you mean {!r}?")
        raise InputError(
            f"the mapping names column(s) {hints} that the file does not have; "
            f"the header has: {', '.join(parsed.header)}",
            file=file,
            line=1,
        )
    keep_cols = mapping.extra_columns(parsed.header)  # listed ones were checked with columns()
    used = set(mapping.columns()) | set(keep_cols)
    warnings = []
    extra = [h for h in parsed.header if h not in used]
    if extra:
        warnings.append(
            f"{file}: columns not in the mapping are not kept (list them under `extra` to keep them): "
            + ", ".join(extra)
        )
    df = parsed.table
    lines = parsed.lines
    n = len(df)
    reason = np.full(n, "", dtype=object)
    occurred = pd.Series(pd.NaT, index=df.index)
    if mapping.date:
        text = df[mapping.date].str.strip().astype(object)
        if mapping.date_format:
            when = pd.to_datetime(text, format=mapping.date_format, errors="coerce")
        else:
            when = pd.to_datetime(text, format="ISO8601", errors="coerce")
            retry = when.isna() & (text != "")
            if retry.any():
                when[retry] = pd.to_datetime(text[retry], dayfirst=True, errors="coerce", format="mixed")
        bad = when.isna().to_numpy()
        idx = np.flatnonzero(bad)
        reason[idx] = [
            (
                f"{mapping.date} is empty"
                if v == ""
                else f"{mapping.date} {v!r} is not a date"
                + (f" in the format {mapping.date_format}" if mapping.date_format else "")
            )
            for v in text.to_numpy()[idx]
        ]
        month = when.dt.to_period("M").dt.to_timestamp()
        if mapping.time:
            when = _add_time(df[mapping.time], when, reason, column=mapping.time)
        occurred = when
    else:
        text = df[mapping.month].str.strip()
        bad = ~text.str.match(_MONTH_RE).to_numpy(dtype=bool)
        idx = np.flatnonzero(bad)
        reason[idx] = [f"{mapping.month} {v!r} is not a month written YYYY-MM" for v in text.to_numpy()[idx]]
        month = pd.to_datetime(text.where(~bad, "1900-01").astype(object) + "-01")
    if mapping.category:
        category = df[mapping.category].str.strip().astype(object)
        idx = np.flatnonzero((category == "").to_numpy() & (reason == ""))
        reason[idx] = f"{mapping.category} (the category) is empty"
        if mapping.category_labels:
            category, unlabelled = _apply_labels(category, mapping.category_labels)
            if unlabelled:
                warnings.append(
                    f"{file}: {mapping.category} codes without a label in `category_labels` are kept as they are: "
                    + ", ".join(unlabelled[:10])
                )
    else:
        category = pd.Series(mapping.category_value, index=df.index, dtype=object)
    en = mapping.easting is not None
    xcol, ycol = (mapping.easting, mapping.northing) if en else (mapping.lon, mapping.lat)
    a, b, missing, coord_reason, swapped = _coordinates(_no_null(df[xcol]), _no_null(df[ycol]), en=en)
    take = (reason == "") & (coord_reason != "")
    reason[take] = coord_reason[take]
    if en:
        lon, lat = _FROM_BNG.transform(a, b)
        lon, lat = np.round(lon, 6), np.round(lat, 6)
    else:
        lon, lat = a, b
    ok = reason == ""
    rejected = _rejected_rows(parsed, file=file, ok=ok, reason=reason)
    okx = np.flatnonzero(ok)
    ids = (
        df[mapping.id].str.strip().astype(object).to_numpy()[okx]
        if mapping.id
        else np.full(len(okx), "", dtype=object)
    )
    inc = pd.DataFrame(
        {
            "incident_id": ids,
            "source": source,
            "month": month.to_numpy()[okx],
            "occurred_at": occurred.to_numpy()[okx],
            "category": category.to_numpy()[okx],
            "outcome": (df[mapping.outcome].astype(object).to_numpy()[okx] if mapping.outcome else None),
            "location_name": (
                df[mapping.location].astype(object).to_numpy()[okx] if mapping.location else None
            ),
            "lsoa_code_reported": None,
            "lon": np.where(missing[okx], np.nan, lon[okx]),
            "lat": np.where(missing[okx], np.nan, lat[okx]),
            "flags": np.where(missing[okx], "no_location", np.where(swapped[okx], "coords_swapped", "")),
            "file": file,
            "line": lines[okx],
        }
    )
    if mapping.outcome and mapping.outcome in mapping.labels:
        inc["outcome"], _ = _apply_labels(inc["outcome"], mapping.labels[mapping.outcome])
    if mapping.id:
        inc["incident_id"] = source + ":" + inc["incident_id"].astype(str)
    no_id = inc["incident_id"].isin(["", f"{source}:"])
    if no_id.any():
        inc.loc[no_id, "incident_id"] = deterministic_ids(
            inc.loc[no_id].assign(lon6=inc["lon"].round(6), lat6=inc["lat"].round(6)),
            ["source", "month", "occurred_at", "lon6", "lat6", "location_name", "category"],
            prefix=f"{source}:h",
        ).to_numpy(zero_copy_only=False)
    extras = None
    if keep_cols:
        values = {}
        for c in keep_cols:
            v = df[c].astype(object).to_numpy()[okx]
            if c in mapping.labels:
                v, _ = _apply_labels(pd.Series(v, dtype=object).str.strip(), mapping.labels[c])
                v = np.asarray(v, dtype=object)
            values[c] = v
        extras = pd.DataFrame({"incident_id": inc["incident_id"].to_numpy(), "extra": _json_rows(values)})
    return Batch(incidents=inc, rejected=rejected, extras=extras), warnings


#: Partner exports write a missing value as one of these (STATS19 writes NULL): read as empty.
MISSING_TEXT = frozenset({"NULL", "null", "NA", "N/A", "n/a", "#N/A", "None", "NaN", "nan"})


def _no_null(text: pd.Series) -> pd.Series:
    """Text with the usual spellings of a missing value turned into ''."""
    t = text.str.strip()
    return t.where(~t.isin(MISSING_TEXT), "")


def _add_time(text: pd.Series, when: pd.Series, reason: np.ndarray, *, column: str) -> pd.Series:
    """The date plus the time of day from a separate column (``HH:MM`` or ``HH:MM:SS``).

    Empty times leave no exact time (NaT); unreadable ones set the row's reason.
    """
    t = _no_null(text).astype(object)
    empty = (t == "").to_numpy()
    parsed = pd.to_timedelta(
        t.where(~empty, "00:00").map(lambda v: v if v.count(":") == 2 else v + ":00"), errors="coerce"
    )
    bad = parsed.isna().to_numpy() & ~empty & (reason == "")
    idx = np.flatnonzero(bad)
    reason[idx] = [f"{column} {v!r} is not a time of day written HH:MM" for v in t.to_numpy()[idx]]
    over = (parsed >= pd.Timedelta(days=1)).to_numpy() & (reason == "")
    idx = np.flatnonzero(over)
    reason[idx] = [f"{column} {v!r} is not a time of day written HH:MM" for v in t.to_numpy()[idx]]
    out = (when.dt.normalize() + parsed).where(~empty)
    return out


def _apply_labels(values: pd.Series, labels: dict[str, str]) -> tuple[pd.Series, list[str]]:
    """Codes replaced by their labels (once per distinct code); the codes that had no label."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    text = [str(u).strip() for u in uniques]
    norm = [t[:-2] if t.endswith(".0") and t[:-2].isdigit() else t for t in text]
    mapped = np.array([labels.get(n, t) for n, t in zip(norm, text, strict=True)] + [None], dtype=object)
    unlabelled = sorted({t for n, t in zip(norm, text, strict=True) if n not in labels and t != ""})
    return pd.Series(mapped[codes], index=values.index, dtype=object), unlabelled


def _json_rows(values: dict[str, np.ndarray]) -> list[str]:
    """One JSON object per row from equal-length columns (keys in the given order)."""
    names = list(values)
    cols = [
        [None if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in values[c]]
        for c in names
    ]
    return [
        json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) for row in zip(*cols, strict=True)
    ]


# ---------------------------------------------------------------------------- store writes
@dataclass
class _Parsed:
    """One input parsed and validated, waiting to be written."""

    report: FileReport
    batch: Batch
    files: dict[str, ParsedCSV] = field(default_factory=dict)  # to read back the text of any line

    def raw_lines(self, file: str, lines: np.ndarray) -> np.ndarray:
        """The text of lines of one of this input's files."""
        return self.files[file].raw_lines(lines)


def parse_input(
    name: str,
    files: list[InputFile],
    *,
    sha: str,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    warnings: list[str] | None = None,
    progress: _Progress | None = None,
) -> _Parsed:
    """Read and validate one input (a CSV, or the CSVs of one zip) without touching the store.

    ``progress`` (when given) takes one step per CSV read.

    Raises
    ------
    InputError
        If the input cannot be read at all.
    """
    report = FileReport(file=name, sha256=sha, source=source or POLICE_SOURCE, warnings=list(warnings or []))
    batches: list[Batch] = []
    files_read: dict[str, ParsedCSV] = {}
    kinds = set()
    for f in files:
        parsed = read_csv_text(f.data, file=f.name)
        report.encoding = report.encoding or parsed.encoding
        report.blank_lines += parsed.blank_lines
        if parsed.encoding == "cp1252":
            report.warnings.append(f"{f.name}: not UTF-8; read as Windows-1252 (cp1252)")
        if parsed.blank_lines:
            report.warnings.append(f"{f.name}: {parsed.blank_lines} blank line(s) skipped")
        report.rows_read += parsed.arrow.num_rows + len(parsed.bad)
        if mapping is not None:
            kind = "partner"
            batch, w = parse_partner(parsed, file=f.name, mapping=mapping, source=source or "partner")
        else:
            kind = detect_kind(parsed.header)
            if kind == "stop-and-search":
                raise InputError(
                    "this is a police.uk stop-and-search file: searches are not crimes or ASB and are not "
                    "loaded; load the street-level files (…-street.csv)",
                    file=f.name,
                )
            if kind == "unknown":
                raise InputError(
                    "not a police.uk street-level or outcomes file (no 'Crime type' or 'Outcome type' "
                    "column); partner data needs a source name and a column mapping (on the command line: --source NAME --mapping FILE)",
                    file=f.name,
                    line=1,
                )
            if source not in (None, POLICE_SOURCE):
                raise InputError(
                    f"a police.uk file cannot be loaded under the source {source!r}; police.uk data is "
                    "always source 'police.uk' (use --mapping for partner data)",
                    file=f.name,
                )
            batch, w = (parse_street if kind == "street" else parse_outcomes)(parsed, file=f.name)
        kinds.add(kind)
        files_read[f.name] = parsed
        if progress is not None:
            progress.step(f"Checked {f.name} ({parsed.arrow.num_rows:,} rows)")
        if isinstance(batch.incidents, pd.DataFrame) and len(batch.incidents):
            batch.incidents = _to_arrow(batch.incidents)
        report.warnings.extend(w)
        batches.append(batch)
    if len(kinds) > 1:
        raise InputError(
            f"the archive mixes file kinds ({', '.join(sorted(kinds))}); load them separately", file=name
        )
    report.kind = kinds.pop()
    incs = [b.incidents for b in batches if len(b.incidents)]
    merged = Batch(
        incidents=pa.concat_tables(incs) if incs else INCIDENT_SCHEMA.empty_table(),
        rejected=pd.concat([b.rejected for b in batches], ignore_index=True),
        outcomes=(
            pd.concat([b.outcomes for b in batches], ignore_index=True) if report.kind == "outcomes" else None
        ),
        extras=(
            pd.concat([b.extras for b in batches if b.extras is not None], ignore_index=True)
            if any(b.extras is not None for b in batches)
            else None
        ),
    )
    return _Parsed(report=report, batch=merged, files=files_read)


def _write(
    store: Store,
    items: list[_Parsed],
    *,
    started: float,
    fail_after: Callable[[str], None] | None = None,
    progress: _Progress | None = None,
) -> None:
    """Write parsed inputs in one transaction: dedupe, locations, incidents, rejected rows, load log.

    Each input keeps its own line in the load log; the counts are attributed per input.
    ``progress`` (when given) takes :data:`_WRITE_STAGES` steps.
    """
    if getattr(store, "backend", "duckdb") == "postgresql":
        _write_server(store, items, started=started, fail_after=fail_after, progress=progress)
        return
    step = progress.step if progress is not None else (lambda text: None)
    geo = store.geography()
    with store.transaction() as con:
        first_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()[0][0]
        for k, item in enumerate(items):
            item.batch.rejected["input_no"] = k
            if item.batch.outcomes is not None:
                item.batch.outcomes["input_no"] = k
        incs = [
            it.batch.incidents.append_column(
                "input_no", pa.array(np.full(len(it.batch.incidents), k, np.int64))
            )
            for k, it in enumerate(items)
            if len(it.batch.incidents)
        ]
        rejected = [it.batch.rejected for it in items]
        dup_frames: list[pd.DataFrame] = []
        if incs:
            con.register("batch_in", pa.concat_tables(incs))
            # ids repeated within this load: the first month (then load order) is kept, the others are
            # duplicates, and the kept row takes the outcome of the latest month. Only repeated ids
            # are ranked; the rows themselves stay in Arrow and are read once, by the insert.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE rk AS SELECT incident_id, input_no, CAST(file AS VARCHAR) AS file, "
                "line, month, outcome, row_number() OVER (PARTITION BY incident_id ORDER BY month, input_no, "
                "file, line) AS rn FROM batch_in WHERE incident_id IN "
                "(SELECT incident_id FROM batch_in GROUP BY 1 HAVING count(*) > 1)"
            )
            dups = con.execute(
                "SELECT d.input_no, d.file, d.line, d.incident_id, "
                "'Crime ID already seen at ' || f.file || ' line ' || f.line || ' (' || strftime(f.month, '%Y-%m') "
                "|| '); the first month is kept' AS reason FROM rk d JOIN rk f ON f.incident_id = d.incident_id "
                "AND f.rn = 1 WHERE d.rn > 1"
            ).df()
            if len(dups):
                dup_frames.append(dups)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE rk_outcome AS SELECT incident_id, arg_max(outcome, month) AS outcome, "
                "CAST(max(month) AS DATE) AS outcome_month FROM rk GROUP BY incident_id"
            )
            con.execute("CREATE OR REPLACE TEMP TABLE in_store (incident_id VARCHAR)")
            # b_all: this load's rows, one per id; b: those not already in the store
            con.execute(
                "CREATE OR REPLACE TEMP VIEW b_all AS SELECT x.incident_id, CAST(x.source AS VARCHAR) AS source, "
                "x.month, x.occurred_at, x.category, CASE WHEN u.incident_id IS NULL THEN x.outcome "
                "ELSE u.outcome END AS outcome, x.location_name, x.lsoa_code_reported, x.lon, x.lat, x.flags, "
                "CAST(x.file AS VARCHAR) AS file, x.line, x.input_no, "
                "coalesce(u.outcome_month, CAST(x.month AS DATE)) AS outcome_month FROM batch_in x "
                "LEFT JOIN rk ON rk.incident_id = x.incident_id AND rk.input_no = x.input_no "
                "AND rk.file = CAST(x.file AS VARCHAR) AND rk.line = x.line "
                "LEFT JOIN rk_outcome u ON u.incident_id = x.incident_id WHERE coalesce(rk.rn, 1) = 1"
            )
            con.execute(
                "CREATE OR REPLACE TEMP VIEW b AS SELECT * FROM b_all WHERE incident_id NOT IN "
                "(SELECT incident_id FROM in_store)"
            )
            existing = con.execute(
                "SELECT c.incident_id, c.input_no, c.file, c.line, i.month AS old_month, "
                "g.file AS old_file, i.line AS old_line FROM b_all c JOIN incidents i "
                "USING (incident_id) JOIN ingests g ON g.ingest_id = i.ingest_id"
            ).df()
            if len(existing):
                dup_frames.append(
                    pd.DataFrame(
                        {
                            "input_no": existing["input_no"],
                            "file": existing["file"],
                            "line": existing["line"],
                            "incident_id": existing["incident_id"],
                            "reason": [
                                f"already in the store from {f} line {ln} ({pd.Timestamp(m):%Y-%m})"
                                for f, ln, m in zip(
                                    existing["old_file"],
                                    existing["old_line"],
                                    existing["old_month"],
                                    strict=True,
                                )
                            ],
                        }
                    )
                )
                con.execute(
                    "UPDATE incidents SET outcome = c.outcome, outcome_month = c.outcome_month FROM b_all c "
                    "WHERE incidents.incident_id = c.incident_id AND c.outcome IS NOT NULL "
                    "AND c.outcome_month > incidents.outcome_month"
                )
                con.register("known_ids", existing[["incident_id"]])
                con.execute("INSERT INTO in_store SELECT incident_id FROM known_ids")
                con.unregister("known_ids")
            if fail_after is not None:
                fail_after("dedupe")
            step("Checked for incidents already loaded")
            pts = con.execute(
                "SELECT DISTINCT round(lon, 6) AS lon, round(lat, 6) AS lat FROM b WHERE lon IS NOT NULL "
                "AND NOT isnan(lon)"
            ).df()
            assign_locations(con, pts["lon"].to_numpy(float), pts["lat"].to_numpy(float), geo)
            if fail_after is not None:
                fail_after("locations")
            step("Placed the locations in their areas")
            con.execute(
                f"INSERT INTO incidents SELECT b.incident_id, b.source, CAST(b.month AS DATE), b.occurred_at, "
                f"b.category, b.outcome, b.outcome_month, b.location_name, b.lsoa_code_reported, l.location_id, "
                f"CASE WHEN l.location_id IS NOT NULL AND l.lsoa_code IS NULL THEN "
                f"(CASE WHEN b.flags = '' THEN 'outside_area' ELSE b.flags || ';outside_area' END) ELSE b.flags END, "
                f"{first_id} + b.input_no, b.line FROM b LEFT JOIN locations l "
                f"ON l.lon = round(b.lon, 6) AND l.lat = round(b.lat, 6)"
            )
            per = con.execute(
                f"SELECT ingest_id - {first_id} AS input_no, count(*) AS accepted, "
                "count(*) FILTER (WHERE location_id IS NULL) AS no_location, "
                "count(*) FILTER (WHERE flags LIKE '%outside_area%') AS outside_area, "
                "count(*) FILTER (WHERE flags LIKE '%coords_swapped%') AS coords_swapped "
                f"FROM incidents WHERE ingest_id >= {first_id} GROUP BY 1"
            ).df()
            _write_extras(con, items, first_id)
            for view in ("b", "b_all"):
                con.execute(f"DROP VIEW {view}")
            for table in ("rk", "rk_outcome", "in_store"):
                con.execute(f"DROP TABLE {table}")
            con.unregister("batch_in")
            for row in per.itertuples():
                r = items[int(row.input_no)].report
                r.accepted, r.no_location = int(row.accepted), int(row.no_location)
                r.outside_area, r.coords_swapped = int(row.outside_area), int(row.coords_swapped)
        # outcomes files update the outcome of known Crime IDs
        for item in items:
            oc = item.batch.outcomes
            if oc is None or not len(oc):
                continue
            con.register("oc", oc[["incident_id", "outcome", "month"]])
            known = con.execute("SELECT DISTINCT incident_id FROM oc JOIN incidents USING (incident_id)").df()
            is_known = oc["incident_id"].isin(known["incident_id"]).to_numpy()
            con.execute(
                "UPDATE incidents SET outcome = u.outcome, outcome_month = CAST(u.month AS DATE) FROM "
                "(SELECT incident_id, arg_max(outcome, month) AS outcome, max(month) AS month FROM oc "
                "GROUP BY incident_id) u WHERE incidents.incident_id = u.incident_id AND "
                "(incidents.outcome_month IS NULL OR CAST(u.month AS DATE) >= incidents.outcome_month)"
            )
            con.unregister("oc")
            unknown = oc[~is_known]
            rejected.append(
                pd.DataFrame(
                    {
                        "input_no": unknown["input_no"],
                        "file": unknown["file"],
                        "line": unknown["line"],
                        "raw": unknown["raw"],
                        "reason": "Crime ID is not in the store: load the street-level file for its month first",
                    }
                )
            )
            item.report.outcomes_updated = item.report.accepted = int(is_known.sum())
        rej = pd.concat(rejected, ignore_index=True).assign(kind="rejected", incident_id=None)
        if dup_frames:
            dup = pd.concat(dup_frames, ignore_index=True).assign(kind="duplicate")
            dup["raw"] = _raw_text(items, dup)
            rej = pd.concat([rej, dup], ignore_index=True)
        for k, item in enumerate(items):
            r = item.report
            mine = rej[rej["input_no"] == k]
            r.duplicate = int((mine["kind"] == "duplicate").sum())
            r.rejected = int((mine["kind"] == "rejected").sum())
            bad = mine.loc[mine["kind"] == "rejected", "reason"]
            r.rejected_reasons = (
                bad.astype(str).str.replace(r"'.*'", "…", regex=True).value_counts().head(20).to_dict()
                if len(bad)
                else {}
            )
            if r.accepted + r.duplicate + r.rejected != r.rows_read:
                raise InputError(
                    f"internal check failed: accepted {r.accepted} + duplicate {r.duplicate} + rejected "
                    f"{r.rejected} != rows read {r.rows_read}; nothing was loaded",
                    file=r.file,
                )
        if len(rej):
            rej = rej.assign(ingest_id=first_id + rej["input_no"].astype("int64"), source=None)
            rej["source"] = [items[int(k)].report.source for k in rej["input_no"]]
            rej["line"] = rej["line"].astype("int64")
            con.register(
                "rej", rej[["ingest_id", "file", "line", "raw", "reason", "kind", "source", "incident_id"]]
            )
            con.execute("INSERT INTO rejected SELECT * FROM rej")
            con.unregister("rej")
        if fail_after is not None:
            fail_after("rejected")
        elapsed = round(time.perf_counter() - started, 3)
        for k, item in enumerate(items):
            r = item.report
            r.seconds = elapsed
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
                [
                    first_id + k,
                    r.file,
                    r.sha256,
                    r.source,
                    r.kind,
                    r.encoding,
                    r.rows_read,
                    r.accepted,
                    r.duplicate,
                    r.rejected,
                    r.no_location,
                    r.outside_area,
                    json.dumps(r.warnings),
                    r.seconds,
                ],
            )
    if progress is not None:
        progress.finish(f"Saved: {sum(it.report.accepted for it in items):,} incidents added")


def _write_extras(con, items: list[_Parsed], first_id: int) -> None:
    """Keep the partner columns named by a mapping's ``extra`` for the incidents this load added."""
    frames = [it.batch.extras for it in items if it.batch.extras is not None and len(it.batch.extras)]
    if not frames:
        return
    ex = pd.concat(frames, ignore_index=True).drop_duplicates("incident_id")
    con.register("new_extras", ex[["incident_id", "extra"]])
    con.execute(
        "INSERT INTO incident_extras SELECT e.incident_id, e.extra FROM new_extras e "
        f"WHERE e.incident_id IN (SELECT incident_id FROM incidents WHERE ingest_id >= {int(first_id)})"
    )
    con.unregister("new_extras")


class _Mirror:
    """A store-like view of an in-memory DuckDB copy, for :func:`_write` on the server path."""

    backend = "duckdb"

    def __init__(self, con, geography):
        self._con, self._geography = con, geography

    def geography(self):
        return self._geography

    @contextmanager
    def transaction(self):
        yield self._con


def _write_server(
    store: Store,
    items: list[_Parsed],
    *,
    started: float,
    fail_after: Callable[[str], None] | None = None,
    progress: _Progress | None = None,
) -> None:
    """The server store's writer: :func:`_write` on a mirror, the difference sent with ``COPY``.

    One PostgreSQL transaction holds the store's write lock from reading what a load needs
    (the stored incidents with this load's ids, locations, the load log: see
    :func:`hotspots.store_server.mirror`) to committing what it changed, so racing loads take
    turns and the rows and counts are those the embedded store would have.
    """
    from hotspots.store_server import mirror, push

    geo = store.geography()
    ids = [
        it.batch.incidents.column("incident_id").combine_chunks() for it in items if len(it.batch.incidents)
    ]
    ids += [
        pa.array(it.batch.outcomes["incident_id"].astype(str), pa.string())
        for it in items
        if it.batch.outcomes is not None and len(it.batch.outcomes)
    ]
    with store.transaction() as con:
        # only the stored incidents this load could meet: a month's load costs a month, not the store
        duck = mirror(con, incident_ids=pa.concat_arrays(ids) if ids else pa.array([], pa.string()))
        try:
            first_id = duck.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()[0][0]
            _write(_Mirror(duck, geo), items, started=started, fail_after=fail_after, progress=progress)
            push(duck, con, first_ingest_id=first_id)
            if fail_after is not None:
                fail_after("server")
        finally:
            duck.close()


def _raw_text(items: list[_Parsed], rows: pd.DataFrame) -> np.ndarray:
    """The text of rows given by (input_no, file, line), read back from their parsed files."""
    raw = np.empty(len(rows), dtype=object)
    for (k, file), idx in rows.groupby(["input_no", "file"]).indices.items():
        raw[idx] = items[int(k)].raw_lines(str(file), rows["line"].to_numpy()[idx])
    return raw


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    """A frame of incidents (partner files) as an Arrow table with the common schema."""
    out = pd.DataFrame(index=df.index)
    for c in (
        "incident_id",
        "source",
        "category",
        "outcome",
        "location_name",
        "lsoa_code_reported",
        "flags",
        "file",
    ):
        out[c] = df[c].astype("string[pyarrow]")
    for c in ("month", "occurred_at"):
        out[c] = pd.to_datetime(df[c]).astype("datetime64[us]")
    for c in ("lon", "lat"):
        out[c] = df[c].astype("float64")
    out["line"] = df["line"].astype("int64")
    table = pa.Table.from_pandas(out[INCIDENT_SCHEMA.names], preserve_index=False)
    return table.cast(INCIDENT_SCHEMA)


def _sha(files: list[InputFile]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.data)
    return digest.hexdigest()


def load_input(
    store: Store,
    name: str,
    files: list[InputFile],
    *,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    warnings: list[str] | None = None,
    fail_after: Callable[[str], None] | None = None,
    progress: ProgressCallback | None = None,
) -> FileReport:
    """Load one input (a CSV, or all the CSVs of one zip) in one transaction.

    ``progress(done, total, text)`` is called after each CSV is read and checked and after
    each stage of the write, so that a long load can show a progress bar.

    Raises
    ------
    InputError
        If the input cannot be read at all (the store is left as it was).
    """
    started = time.perf_counter()
    sha = _sha(files)
    seen = store.loaded_checksums()
    if sha in seen:
        return FileReport(
            file=name,
            sha256=sha,
            source=source or POLICE_SOURCE,
            status="already loaded",
            error=f"same SHA-256 as {seen[sha]}",
        )
    steps = _Progress(progress, len(files) + _WRITE_STAGES)
    item = parse_input(
        name, files, sha=sha, source=source, mapping=mapping, warnings=warnings, progress=steps
    )
    _write(store, [item], started=started, fail_after=fail_after, progress=steps)
    log.info(item.report.line())
    return item.report


def ingest(
    paths: Iterable[Path | str],
    *,
    store: Store,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    progress: ProgressCallback | None = None,
) -> list[FileReport]:
    """Load files, folders and zips into the store in one vectorised pass and one transaction.

    ``progress(done, total, text)`` is called (from this thread) as each input is read and
    checked and after each stage of the write.

    Every input is read and validated first; an input that cannot be read at all is reported
    with ``status='failed'`` and its error and adds nothing, while the others are written
    together in one transaction (all of them, or none if writing fails). Each input keeps its
    own line in the load log.

    Returns
    -------
    One :class:`FileReport` per input, in load order.
    """
    started = time.perf_counter()
    plan: list[tuple[str, list[InputFile], list[str]]] = []
    reports: list[FileReport] = []
    for p in paths:
        try:
            plan.extend(iter_inputs(p))
        except InputError as exc:
            reports.append(FileReport(file=str(p), status="failed", error=str(exc)))
    seen = store.loaded_checksums()
    todo: list[tuple[str, list[InputFile], list[str], str]] = []
    for name, files, warnings in plan:
        sha = _sha(files)
        if sha in seen:
            reports.append(
                FileReport(
                    file=name,
                    sha256=sha,
                    source=source or POLICE_SOURCE,
                    status="already loaded",
                    error=f"same SHA-256 as {seen[sha]}",
                )
            )
            continue
        seen[sha] = name
        todo.append((name, files, warnings, sha))

    def parse_one(job: tuple[str, list[InputFile], list[str], str]) -> _Parsed | FileReport:
        name, files, warnings, sha = job
        try:
            return parse_input(name, files, sha=sha, source=source, mapping=mapping, warnings=warnings)
        except InputError as exc:
            return FileReport(file=name, sha256=sha, status="failed", error=str(exc))

    parsed: list[_Parsed] = []
    # the callback is only called from this thread (a UI's widgets may need that)
    steps = _Progress(progress, sum(len(job[1]) for job in todo) + _WRITE_STAGES)
    # parsing releases the GIL in Arrow's CSV reader and string kernels: use both cores
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for job, result in zip(todo, pool.map(parse_one, todo), strict=True):
            steps.step(f"Checked {job[0]}", n=len(job[1]))
            if isinstance(result, FileReport):
                reports.append(result)
            else:
                parsed.append(result)
                reports.append(result.report)
    if parsed:
        _write(store, parsed, started=started, progress=steps)
    else:
        steps.finish("Nothing to add")
    for r in reports:
        log.info(r.line())
    return reports


def iter_reports_lines(reports: list[FileReport]) -> Iterator[str]:
    """Human lines for a list of reports, with warnings indented."""
    for r in reports:
        yield r.line()
        for w in r.warnings:
            yield f"    note: {w}"
        for reason, n in r.rejected_reasons.items():
            yield f"    rejected {n:,}: {reason}"
