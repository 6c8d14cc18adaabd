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
  areas by point-in-polygon on 2021 LSOAs; the reported LSOA code is kept but never used.
* **Flags** (incidents are kept, not dropped): ``no_location`` (no coordinates: counted in
  totals, left off maps), ``outside_area`` (outside the study area), ``coords_swapped``
  (longitude and latitude were given the wrong way round and were swapped back).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import json
import logging
import os
import re
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from pyproj import Transformer

from hotspots._errors import InputError
from hotspots.assign import assign_locations
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
_BINARY_MAGIC = (
    b"PK\x03\x04",
    b"%PDF",
    b"\x89PNG",
    b"\xd0\xcf\x11\xe0",
    b"GIF8",
    b"\xff\xd8\xff",
    b"\x1f\x8b",
    b"SQLite format",
)
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


@dataclass
class PartnerMapping:
    """How a partner CSV's columns map to the incident record.

    Give either ``date`` (a date or date-time column) or ``month`` (``YYYY-MM``), and either
    ``lon``/``lat`` (WGS84) or ``easting``/``northing`` (British National Grid).

    Attributes
    ----------
    id
        Column with a unique case reference (optional; a deterministic id is made without it).
    date, month
        Column with the date (or date and time) of the incident, or with its month.
    date_format
        strftime format of ``date`` (optional; ISO and day-first UK dates are read without it).
    category
        Column with the category; or ``category_value`` for one fixed category for all rows.
    lon, lat, easting, northing
        Coordinate columns.
    location
        Column with a place description (optional).
    outcome
        Column with an outcome or status (optional).
    """

    id: str | None = None
    date: str | None = None
    month: str | None = None
    date_format: str | None = None
    category: str | None = None
    category_value: str | None = None
    lon: str | None = None
    lat: str | None = None
    easting: str | None = None
    northing: str | None = None
    location: str | None = None
    outcome: str | None = None

    def __post_init__(self) -> None:
        if not (self.date or self.month):
            raise InputError("the mapping needs `date` or `month`: the column with when it happened")
        if self.date and self.month:
            raise InputError("the mapping gives both `date` and `month`; give one of them")
        if not (self.category or self.category_value):
            raise InputError(
                "the mapping needs `category` (a column) or `category_value` (one fixed category)"
            )
        has_ll = bool(self.lon and self.lat)
        has_en = bool(self.easting and self.northing)
        if has_ll == has_en:
            raise InputError(
                "the mapping needs coordinates: `lon` and `lat` (WGS84) or `easting` and `northing` "
                "(British National Grid), not both or neither"
            )

    def columns(self) -> list[str]:
        """The CSV columns the mapping reads."""
        return [v for k, v in asdict(self).items() if v and k not in ("date_format", "category_value")]

    @classmethod
    def from_file(cls, path: Path | str) -> PartnerMapping:
        """Read a mapping from a TOML or JSON file (keys as the attributes).

        Raises
        ------
        InputError
            If the file cannot be read or has unknown keys.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the mapping: {exc}", file=path.name) from exc
        data = data.get("mapping", data)
        return cls.from_dict(data, file=path.name)

    @classmethod
    def from_dict(cls, data: dict, *, file: str | None = None) -> PartnerMapping:
        """Build a mapping from a dict, rejecting unknown keys with the list of valid ones."""
        valid = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - valid)
        if unknown:
            raise InputError(
                f"unknown mapping key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(valid))}",
                file=file,
            )
        return cls(**{k: (str(v) if v is not None else None) for k, v in data.items()})


# ---------------------------------------------------------------------------- reading inputs
@dataclass
class InputFile:
    """One CSV's bytes and the name to report it by."""

    name: str
    data: bytes


def iter_inputs(path: Path | str) -> list[tuple[str, list[InputFile], list[str]]]:
    """Expand a path into loads: (load name, files, warnings).

    A CSV is one load; a folder gives one load per CSV found below it (sorted by name, so
    police.uk months load in order); a zip is one load of all its CSV members.

    Raises
    ------
    InputError
        If the path does not exist, a folder holds no CSV, or a zip is unsafe or unreadable.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        csvs = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".csv")
        zips = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".zip")
        if not csvs and not zips:
            raise InputError(f"{path}: the folder holds no .csv or .zip files")
        out = [(str(p), [InputFile(str(p), p.read_bytes())], []) for p in csvs]
        for z in zips:
            out.extend(iter_inputs(z))
        return out
    if path.suffix.lower() == ".zip" or _is_zip(path):
        files, warnings = read_zip(path)
        return [(str(path), files, warnings)]
    return [(str(path), [InputFile(str(path), path.read_bytes())], [])]


def _is_zip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def read_zip(path: Path | str, *, data: bytes | None = None) -> tuple[list[InputFile], list[str]]:
    """Read the CSV members of a police.uk archive zip without extracting it.

    Members that are not CSV files (a README, images) are skipped with a warning.

    Raises
    ------
    InputError
        If the zip cannot be read, holds an unsafe member path (absolute, ``..``, a drive
        letter), or holds no CSV file.
    """
    name = Path(path).name
    try:
        zf = zipfile.ZipFile(io.BytesIO(data) if data is not None else path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a readable zip archive ({exc})") from exc
    files: list[InputFile] = []
    warnings: list[str] = []
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        for info in infos:
            member = info.filename
            pure = PurePosixPath(member.replace("\\", "/"))
            if member.startswith(("/", "\\")) or ".." in pure.parts or re.match(r"^[A-Za-z]:", member):
                raise InputError(
                    f"{name}: unsafe member path {member!r} (absolute or climbing out with '..'); "
                    "the archive was refused and nothing was loaded"
                )
        for info in sorted(infos, key=lambda i: i.filename):
            member = info.filename
            if not member.lower().endswith(".csv"):
                warnings.append(f"{name}: skipped {member!r}, which is not a CSV file")
                continue
            if PurePosixPath(member).name.startswith("._") or member.startswith("__MACOSX/"):
                warnings.append(f"{name}: skipped {member!r} (macOS metadata)")
                continue
            try:
                files.append(InputFile(f"{name}:{member}", zf.read(info)))
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise InputError(f"{name}: member {member!r} cannot be read ({exc})") from exc
    if not files:
        raise InputError(f"{name}: the zip holds no CSV files")
    return files, warnings


# ---------------------------------------------------------------------------- text decoding
def decode(data: bytes, *, file: str) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252.

    Returns
    -------
    (text, encoding name)

    Raises
    ------
    InputError
        If the file is empty or is binary (not a CSV text file).
    """
    if not data or not data.strip():
        raise InputError("the file is empty", file=file)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    head = data[:8192]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise InputError(
            "this is not a CSV text file (it looks binary: a spreadsheet, zip or image?); save it as CSV",
            file=file,
        )
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


@dataclass
class ParsedCSV:
    """A CSV read as text columns, with physical line numbers and the rows that failed."""

    header: list[str]
    table: pd.DataFrame  # all columns as str, one row per parsed record
    lines: np.ndarray  # physical 1-based line number of each parsed record
    raw: list[str]  # the text of each physical line (index line-1)
    bad: list[tuple[int, str, str]]  # (line, raw, reason) for records with the wrong field count
    blank_lines: int
    encoding: str


def read_csv_text(data: bytes, *, file: str) -> ParsedCSV:
    """Parse CSV bytes into text columns, keeping the line number and text of every record.

    Records with too few or too many fields (a truncated last line, a stray comma) are
    returned in ``bad`` rather than raised; blank lines are counted and skipped.

    Raises
    ------
    InputError
        If the file is empty, binary, or has no header.
    """
    text, encoding = decode(data, file=file)
    raw = text.splitlines()
    nonblank = np.array([i + 1 for i, s in enumerate(raw) if s.strip() != ""], dtype=np.int64)
    if len(nonblank) == 0:
        raise InputError("the file is empty", file=file)
    header_line = raw[nonblank[0] - 1]
    try:
        header = next(csv.reader([header_line]))
    except csv.Error as exc:
        raise InputError(f"the header row cannot be read ({exc})", file=file, line=int(nonblank[0])) from exc
    if len(header) < 2:
        raise InputError(
            f"this does not look like a CSV file: the first line has one column ({header_line[:60]!r})",
            file=file,
            line=int(nonblank[0]),
        )
    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list[tuple[int, str, int, int]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    body = "\n".join(raw[i - 1] for i in nonblank[1:]).encode("utf-8")

    def parse(threads: bool) -> pa.Table:
        bad_rows.clear()
        try:
            return pacsv.read_csv(
                io.BytesIO(body),
                read_options=pacsv.ReadOptions(column_names=names, use_threads=threads, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(invalid_row_handler=on_bad, newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise InputError(f"cannot be parsed as CSV ({exc})", file=file) from exc

    table = parse(True)
    if any(b[0] is None for b in bad_rows):  # row numbers are only known when parsing on one thread
        table = parse(False)
    df = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)
    df.columns = header if len(set(header)) == len(header) else names
    if len(set(header)) != len(header):
        dup = [h for h in header if header.count(h) > 1][0]
        raise InputError(f"the column {dup!r} appears twice in the header", file=file, line=int(nonblank[0]))
    body_lines = nonblank[1:] - 0  # physical lines of the body's non-blank rows (in order)
    # pyarrow numbers rows from 1 over the non-blank body lines we passed it
    bad_numbers = np.array([b[0] for b in bad_rows], dtype=np.int64)
    bad = []
    for number, row_text, expected, actual in bad_rows:
        line = int(body_lines[number - 1]) if 0 < number <= len(body_lines) else -1
        what = "too few" if actual < expected else "too many"
        hint = " (a truncated line?)" if actual < expected else " (an unquoted comma?)"
        bad.append((line, row_text, f"has {actual} fields, expected {expected}: {what} fields{hint}"))
    keep = np.ones(len(body_lines), dtype=bool)
    if len(bad_numbers):
        keep[bad_numbers - 1] = False
    good_lines = body_lines[keep]
    blank = sum(1 for s in raw[nonblank[0] :] if s.strip() == "")
    if len(good_lines) != len(df):  # quoted newlines: fall back to the csv module for numbering
        good_lines, bad = _lines_with_csv_module(text, len(header))
        if len(good_lines) != len(df):
            raise InputError("cannot match records to lines (unbalanced quotes?)", file=file)
    return ParsedCSV(
        header=header, table=df, lines=good_lines, raw=raw, bad=bad, blank_lines=blank, encoding=encoding
    )


def _lines_with_csv_module(text: str, ncol: int) -> tuple[np.ndarray, list[tuple[int, str, str]]]:
    reader = csv.reader(io.StringIO(text))
    next(reader)
    good, bad = [], []
    start = reader.line_num + 1
    for rec in reader:
        if rec:
            if len(rec) == ncol:
                good.append(start)
            else:
                bad.append((start, ",".join(rec), f"has {len(rec)} fields, expected {ncol}"))
        start = reader.line_num + 1
    return np.array(good, dtype=np.int64), bad


def resolve_columns(
    header: list[str], required: list[str], known: list[str], *, file: str, kind: str
) -> tuple[dict[str, str], list[str]]:
    """Match a header to the expected column names.

    Columns that differ only in case, spaces, underscores or hyphens are accepted (renamed,
    with a warning); extra columns are ignored with a warning.

    Returns
    -------
    (mapping expected name → header name, warnings)

    Raises
    ------
    InputError
        Naming each missing column, with the closest header name when there is one.
    """
    by_norm = {_norm(h): h for h in header}
    mapping: dict[str, str] = {}
    warnings: list[str] = []
    missing = []
    for col in known:
        if col in header:
            mapping[col] = col
        elif _norm(col) in by_norm:
            mapping[col] = by_norm[_norm(col)]
            warnings.append(f"{file}: column {by_norm[_norm(col)]!r} read as {col!r}")
        elif col in required:
            missing.append(col)
    if missing:
        hints = []
        for col in missing:
            close = difflib.get_close_matches(col, header, n=1, cutoff=0.6)
            hints.append(f"{col!r}" + (f" (is {close[0]!r} it, renamed?)" if close else ""))
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(hints)} for a {kind} file; "
            f"the header has: {', '.join(header)}",
            file=file,
            line=1,
        )
    extra = [h for h in header if h not in mapping.values()]
    if extra:
        warnings.append(f"{file}: extra column{'s' if len(extra) > 1 else ''} ignored: {', '.join(extra)}")
    return mapping, warnings


def detect_kind(header: list[str]) -> str:
    """Tell a police.uk street, outcomes or stop-and-search file from its header."""
    norm = {_norm(h) for h in header}
    if STOP_SEARCH_MARKERS & norm:
        return "stop-and-search"
    if "crime type" in norm:
        return "street"
    if "outcome type" not in norm and len(norm & {_norm(c) for c in STREET_COLUMNS}) >= 6:
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


def _reject_frame(
    file: str, lines: Iterable[int], raws: Iterable[str], reasons: Iterable[str]
) -> pd.DataFrame:
    return pd.DataFrame({"file": file, "line": list(lines), "raw": list(raws), "reason": list(reasons)})


def _rejected_rows(parsed: ParsedCSV, *, file: str, ok: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    """Rows that failed a check, plus rows with the wrong number of fields, with line and raw text."""
    lines = parsed.lines[~ok]
    raw = np.asarray(parsed.raw, dtype=object)[lines - 1] if len(lines) else np.array([], dtype=object)
    rejected = _reject_frame(file, lines, raw, reason[~ok])
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


def deterministic_ids(frame: pd.DataFrame, columns: list[str], *, prefix: str) -> pd.Series:
    """Ids for rows without one: a hash of their content and their order among identical rows.

    The same rows in the same order always give the same ids, so loading a second copy of
    a month adds nothing.
    """
    key = frame[columns[0]].astype(str).fillna("")
    for c in columns[1:]:
        key = key + "|" + frame[c].astype(str).fillna("")
    occurrence = key.groupby(key, sort=False).cumcount().astype(str)
    h = pd.util.hash_pandas_object(key + "#" + occurrence, index=False).to_numpy(dtype=np.uint64)
    return pd.Series([f"{prefix}{v:016x}" for v in h.tolist()], index=frame.index, dtype=object)


def parse_street(parsed: ParsedCSV, *, file: str) -> tuple[Batch, list[str]]:
    """Validate the rows of a police.uk street-level file.

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
    df = parsed.table
    lines = parsed.lines
    n = len(df)

    def col(name: str) -> pd.Series:
        return df[cols[name]] if name in cols else pd.Series([""] * n, dtype="string[pyarrow]")

    reason = np.full(n, "", dtype=object)
    month_text = col("Month").str.strip()
    bad_month = ~month_text.str.match(_MONTH_RE).to_numpy(dtype=bool)
    if bad_month.any():
        idx = np.flatnonzero(bad_month)
        reason[idx] = [f"Month {v!r} is not a month written YYYY-MM" for v in month_text.to_numpy()[idx]]
    category = col("Crime type").str.strip()
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
    lon, lat, missing, coord_reason, swapped = _coordinates(col("Longitude"), col("Latitude"))
    take = (reason == "") & (coord_reason != "")
    reason[take] = coord_reason[take]
    ok = reason == ""
    rejected = _rejected_rows(parsed, file=file, ok=ok, reason=reason)
    okx = np.flatnonzero(ok)
    every = len(okx) == n

    def take(series: pd.Series) -> pd.Series:
        return (series if every else series.iloc[okx]).reset_index(drop=True)

    month_ok = take(month_text)
    # months are few: parse the distinct values once
    month_values = pd.to_datetime(pd.Series(month_ok.unique()).astype(object) + "-01", format="%Y-%m-%d")
    month = month_ok.map(dict(zip(month_ok.unique(), month_values, strict=True))).astype("datetime64[us]")
    outcome = take(col("Last outcome category"))
    inc = pd.DataFrame(
        {
            "incident_id": take(col("Crime ID").str.strip()),
            "source": POLICE_SOURCE,
            "month": month,
            "occurred_at": pd.Series(pd.NaT, index=month.index, dtype="datetime64[us]"),
            "category": take(category),
            "outcome": outcome.where(outcome != "", None),
            "location_name": take(col("Location")),
            "lsoa_code_reported": take(col("LSOA code")),
            "lon": np.where(missing[okx], np.nan, lon[okx]),
            "lat": np.where(missing[okx], np.nan, lat[okx]),
            "flags": np.where(missing[okx], "no_location", np.where(swapped[okx], "coords_swapped", "")),
            "file": file,
            "line": lines[okx],
        }
    )
    no_id = (inc["incident_id"] == "").to_numpy()
    if no_id.any():
        sub = inc.loc[no_id]
        ids = deterministic_ids(
            sub.assign(
                lon6=sub["lon"].round(6),
                lat6=sub["lat"].round(6),
                reported=take(col("Reported by")).to_numpy()[no_id],
            ),
            ["month", "reported", "lon6", "lat6", "location_name", "category", "lsoa_code_reported"],
            prefix="pu-",
        )
        inc["incident_id"] = inc["incident_id"].astype(object)
        inc.loc[no_id, "incident_id"] = ids.to_numpy()
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
    raw = np.asarray(parsed.raw, dtype=object)
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
            "raw": raw[lines[ok] - 1],
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
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, parsed.header, n=1, cutoff=0.6)
            hints.append(f"{c!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InputError(
            f"the mapping names column(s) {', '.join(hints)} that the file does not have; "
            f"the header has: {', '.join(parsed.header)}",
            file=file,
            line=1,
        )
    used = set(mapping.columns())
    warnings = []
    extra = [h for h in parsed.header if h not in used]
    if extra:
        warnings.append(f"{file}: columns not in the mapping are ignored: {', '.join(extra)}")
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
        occurred = when
        month = when.dt.to_period("M").dt.to_timestamp()
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
    else:
        category = pd.Series(mapping.category_value, index=df.index, dtype=object)
    en = mapping.easting is not None
    xcol, ycol = (mapping.easting, mapping.northing) if en else (mapping.lon, mapping.lat)
    a, b, missing, coord_reason, swapped = _coordinates(df[xcol], df[ycol], en=en)
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
    if mapping.id:
        inc["incident_id"] = source + ":" + inc["incident_id"].astype(str)
    no_id = inc["incident_id"].isin(["", f"{source}:"])
    if no_id.any():
        inc.loc[no_id, "incident_id"] = deterministic_ids(
            inc.loc[no_id].assign(lon6=inc["lon"].round(6), lat6=inc["lat"].round(6)),
            ["source", "month", "occurred_at", "lon6", "lat6", "location_name", "category"],
            prefix=f"{source}:h",
        )
    return Batch(incidents=inc, rejected=rejected), warnings


# ---------------------------------------------------------------------------- store writes
@dataclass
class _Parsed:
    """One input parsed and validated, waiting to be written."""

    report: FileReport
    batch: Batch


def parse_input(
    name: str,
    files: list[InputFile],
    *,
    sha: str,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    warnings: list[str] | None = None,
) -> _Parsed:
    """Read and validate one input (a CSV, or the CSVs of one zip) without touching the store.

    Raises
    ------
    InputError
        If the input cannot be read at all.
    """
    report = FileReport(file=name, sha256=sha, source=source or POLICE_SOURCE, warnings=list(warnings or []))
    batches: list[Batch] = []
    kinds = set()
    for f in files:
        parsed = read_csv_text(f.data, file=f.name)
        report.encoding = report.encoding or parsed.encoding
        report.blank_lines += parsed.blank_lines
        if parsed.encoding == "cp1252":
            report.warnings.append(f"{f.name}: not UTF-8; read as Windows-1252 (cp1252)")
        if parsed.blank_lines:
            report.warnings.append(f"{f.name}: {parsed.blank_lines} blank line(s) skipped")
        report.rows_read += len(parsed.table) + len(parsed.bad)
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
        if len(batch.incidents):
            raw = np.asarray(parsed.raw, dtype=object)
            batch.incidents["raw"] = raw[batch.incidents["line"].to_numpy() - 1]
        report.warnings.extend(w)
        batches.append(batch)
    if len(kinds) > 1:
        raise InputError(
            f"the archive mixes file kinds ({', '.join(sorted(kinds))}); load them separately", file=name
        )
    report.kind = kinds.pop()
    incs = [b.incidents for b in batches if len(b.incidents)]
    merged = Batch(
        incidents=pd.concat(incs, ignore_index=True) if incs else pd.DataFrame(columns=["incident_id"]),
        rejected=pd.concat([b.rejected for b in batches], ignore_index=True),
        outcomes=(
            pd.concat([b.outcomes for b in batches], ignore_index=True) if report.kind == "outcomes" else None
        ),
    )
    return _Parsed(report=report, batch=merged)


def _write(
    store: Store, items: list[_Parsed], *, started: float, fail_after: Callable[[str], None] | None = None
) -> None:
    """Write parsed inputs in one transaction: dedupe, locations, incidents, rejected rows, load log.

    Each input keeps its own line in the load log; the counts are attributed per input.
    """
    geo = store.geography()
    with store.transaction() as con:
        first_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests").fetchall()[0][0]
        for k, item in enumerate(items):
            item.batch.incidents["input_no"] = k
            item.batch.rejected["input_no"] = k
            if item.batch.outcomes is not None:
                item.batch.outcomes["input_no"] = k
        incs = [it.batch.incidents for it in items if len(it.batch.incidents)]
        rejected = [it.batch.rejected for it in items]
        dup_frames: list[pd.DataFrame] = []
        if incs:
            cols = [
                "incident_id",
                "source",
                "month",
                "occurred_at",
                "category",
                "outcome",
                "location_name",
                "lsoa_code_reported",
                "lon",
                "lat",
                "flags",
                "file",
                "line",
                "raw",
                "input_no",
            ]
            tables = [pa.Table.from_pandas(_typed(i[cols]), preserve_index=False) for i in incs]
            con.register("batch_in", pa.concat_tables(tables, promote_options="permissive"))
            # rank rows of each incident id: the first month (then load order) is kept
            con.execute(
                "CREATE OR REPLACE TEMP TABLE b AS SELECT *, row_number() OVER (PARTITION BY incident_id "
                "ORDER BY month, input_no, file, line) AS rn FROM batch_in"
            )
            con.unregister("batch_in")
            # duplicates within this load, and the latest outcome of each repeated id
            dups = con.execute(
                "SELECT d.input_no, d.file, d.line, d.raw, d.incident_id, "
                "'Crime ID already seen at ' || f.file || ' line ' || f.line || ' (' || strftime(f.month, '%Y-%m') "
                "|| '); the first month is kept' AS reason FROM b d JOIN b f ON f.incident_id = d.incident_id "
                "AND f.rn = 1 WHERE d.rn > 1"
            ).df()
            if len(dups):
                dup_frames.append(dups)
            con.execute("ALTER TABLE b ADD COLUMN outcome_month DATE")
            con.execute("UPDATE b SET outcome_month = CAST(month AS DATE)")
            if len(dups):
                con.execute(
                    "UPDATE b SET outcome = u.outcome, outcome_month = CAST(u.month AS DATE) FROM (SELECT "
                    "incident_id, arg_max(outcome, month) AS outcome, max(month) AS month FROM b GROUP BY "
                    "incident_id HAVING count(*) > 1) u WHERE b.incident_id = u.incident_id AND b.rn = 1"
                )
            # ids already in the store: duplicates; a later month may update the stored outcome
            existing = con.execute(
                "SELECT c.incident_id, c.month AS new_month, c.outcome AS new_outcome, c.outcome_month AS "
                "new_outcome_month, c.input_no, c.file, c.line, c.raw, i.month AS old_month, "
                "i.outcome_month, g.file AS old_file, i.line AS old_line FROM b c JOIN incidents i "
                "USING (incident_id) JOIN ingests g ON g.ingest_id = i.ingest_id WHERE c.rn = 1"
            ).df()
            if len(existing):
                dup_frames.append(
                    pd.DataFrame(
                        {
                            "input_no": existing["input_no"],
                            "file": existing["file"],
                            "line": existing["line"],
                            "raw": existing["raw"],
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
                    "UPDATE incidents SET outcome = c.outcome, outcome_month = c.outcome_month FROM b c "
                    "WHERE c.rn = 1 AND incidents.incident_id = c.incident_id AND c.outcome IS NOT NULL "
                    "AND c.outcome_month > incidents.outcome_month"
                )
                con.execute("DELETE FROM b USING incidents i WHERE b.incident_id = i.incident_id")
            con.execute("DELETE FROM b WHERE rn > 1")
            if fail_after is not None:
                fail_after("dedupe")
            pts = con.execute(
                "SELECT DISTINCT round(lon, 6) AS lon, round(lat, 6) AS lat FROM b WHERE lon IS NOT NULL "
                "AND NOT isnan(lon)"
            ).df()
            assign_locations(con, pts["lon"].to_numpy(float), pts["lat"].to_numpy(float), geo)
            if fail_after is not None:
                fail_after("locations")
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
            con.execute("DROP TABLE b")
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
            rej = pd.concat(
                [rej, pd.concat(dup_frames, ignore_index=True).assign(kind="duplicate")], ignore_index=True
            )
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


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Fix column types so every input's table has the same Arrow schema."""
    out = df.copy()
    for c in (
        "incident_id",
        "source",
        "category",
        "outcome",
        "location_name",
        "lsoa_code_reported",
        "flags",
        "file",
        "raw",
    ):
        out[c] = out[c].astype("string[pyarrow]")
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[us]")
    out["occurred_at"] = pd.to_datetime(out["occurred_at"]).astype("datetime64[us]")
    out["lon"] = out["lon"].astype("float64")
    out["lat"] = out["lat"].astype("float64")
    out["line"] = out["line"].astype("int64")
    out["input_no"] = out["input_no"].astype("int64")
    return out


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
) -> FileReport:
    """Load one input (a CSV, or all the CSVs of one zip) in one transaction.

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
    item = parse_input(name, files, sha=sha, source=source, mapping=mapping, warnings=warnings)
    _write(store, [item], started=started, fail_after=fail_after)
    log.info(item.report.line())
    return item.report


def ingest(
    paths: Iterable[Path | str],
    *,
    store: Store,
    source: str | None = None,
    mapping: PartnerMapping | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[FileReport]:
    """Load files, folders and zips into the store in one vectorised pass and one transaction.

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
    # parsing releases the GIL in Arrow's CSV reader and string kernels: use both cores
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for i, result in enumerate(pool.map(parse_one, todo)):
            if progress is not None:
                progress(i + 1, len(todo) + 1, todo[i][0])
            if isinstance(result, FileReport):
                reports.append(result)
            else:
                parsed.append(result)
                reports.append(result.report)
    if parsed:
        _write(store, parsed, started=started)
    if progress is not None:
        progress(len(plan), len(plan), "")
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
