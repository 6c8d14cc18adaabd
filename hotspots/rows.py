"""Row validation: police.uk street and outcomes rows, and partner rows, to incident batches.

Each function takes one input's parsed CSV (:class:`hotspots.csv_input.ParsedCSV`) and returns a
:class:`Batch`: the candidate incidents as an Arrow table in :data:`INCIDENT_SCHEMA`, and the
rejected rows with their file, line, raw text and reason. Nothing here touches the store;
:mod:`hotspots.ingest` writes the batches (and re-exports these names).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from hotspots._errors import InputError
from hotspots.csv_input import ParsedCSV, missing_hints, resolve_columns
from hotspots.partner_mapping import PartnerMapping

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
