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
:mod:`hotspots.csv_input`; checking rows and making incident batches of them in
:mod:`hotspots.rows` (the names of both are importable from here too).
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
from hotspots.rows import (  # noqa: F401 (the constants and parsers: part of this module's interface)
    GB_EAST,
    GB_LAT,
    GB_LON,
    GB_NORTH,
    HISTORIC_CATEGORIES,
    INCIDENT_SCHEMA,
    KNOWN_CATEGORIES,
    OUTCOME_COLUMNS,
    POLICE_CATEGORIES,
    POLICE_SOURCE,
    STOP_SEARCH_MARKERS,
    STREET_COLUMNS,
    STREET_REQUIRED,
    Batch,
    deterministic_ids,
    parse_outcomes,
    parse_partner,
    parse_street,
)
from hotspots.store import Store

log = logging.getLogger(__name__)


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
