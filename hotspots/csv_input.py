"""Reading inputs for :mod:`hotspots.ingest`: files, folders and zips to bytes, bytes to CSV rows.

* :func:`iter_inputs` expands a path (a CSV, a folder of them, a police.uk archive zip) into
  loads; :func:`read_zip` reads a zip's CSV members without extracting it, refusing unsafe
  paths and zip bombs (:func:`hotspots.limits.check_zip`).
* :func:`decode` turns bytes into text (UTF-8 with or without BOM, UTF-16 with BOM, else
  cp1252) and refuses binary files; :func:`read_csv_text` splits the text into rows, keeping
  each row's line number and raw text, so that a rejected row can be reported and kept.
* :func:`resolve_columns` matches a header to the expected names (case, spaces and
  underscores aside) and names each missing column.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from hotspots._errors import InputError
from hotspots.limits import check_zip

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
        letter), would expand too far (:func:`hotspots.limits.check_zip`: a zip bomb), or
        holds no CSV file.
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
        check_zip(name, [i for i in infos if i.filename.lower().endswith(".csv")])
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
            except (
                zipfile.BadZipFile,
                OSError,
                RuntimeError,
                NotImplementedError,
                EOFError,
                zlib.error,
            ) as exc:
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
    if not data or data.isspace():
        raise InputError("the file is empty", file=file)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_declared(data, "utf-16", file=file), "utf-16"
    head = data[:8192]
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise InputError(
            "this is not a CSV text file (it looks binary: a spreadsheet, zip or image?); save it as CSV",
            file=file,
        )
    if data.startswith(codecs.BOM_UTF8):
        return _decode_declared(data[3:], "utf-8", file=file, offset=3), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _decode_declared(data: bytes, encoding: str, *, file: str, offset: int = 0) -> str:
    """Decode bytes whose byte-order mark declares ``encoding``; a clear error where they are not."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        raise InputError(
            f"the file starts with a {encoding.upper()} byte-order mark but byte {offset + exc.start + 1:,} "
            f"({data[exc.start : exc.start + 1].hex()}) is not {encoding.upper()} ({exc.reason}); "
            f"re-save the file as {encoding.upper()} or as CSV without a byte-order mark",
            file=file,
            line=line,
        ) from None


def norm_name(name: str) -> str:
    """A column name compared loosely: lower case, runs of spaces, ``_`` and ``-`` as one space."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


# line breaks that str.splitlines honours besides "\n" and "\r\n" (as UTF-8 bytes), found by
# a byte they must contain (a fast memchr) before the exact sequence is looked for
_OTHER_BREAKS = (
    (b"\x0b", b"\x0b"),
    (b"\x0c", b"\x0c"),
    (b"\x1c", b"\x1c"),
    (b"\x1d", b"\x1d"),
    (b"\x1e", b"\x1e"),
    (b"\x85", b"\xc2\x85"),
    (b"\xa8", b"\xe2\x80\xa8"),
    (b"\xa9", b"\xe2\x80\xa9"),
)


def _has_other_breaks(buf: bytes) -> bool:
    r"""True when ``buf`` has line breaks other than "\n" and "\r\n" (old Mac "\r", form feeds…)."""
    if b"\r" in buf and buf.count(b"\r") != buf.count(b"\r\n"):
        return True
    return any(probe in buf and seq in buf for probe, seq in _OTHER_BREAKS)


_SPACE_BYTES = np.zeros(256, dtype=bool)
_SPACE_BYTES[[9, 10, 11, 12, 13, 32]] = True


@dataclass
class ParsedCSV:
    """A CSV read as text columns, with physical line numbers and the rows that failed.

    ``arrow`` holds every column as strings; ``table`` is the same as a pandas frame (built on
    first use). The raw text of any line is read back with :meth:`raw_lines`, so the text of
    a million accepted rows is never copied.
    """

    header: list[str]
    arrow: pa.Table  # all columns as strings, one row per parsed record
    lines: np.ndarray  # physical 1-based line number of each parsed record
    bad: list[tuple[int, str, str]]  # (line, raw, reason) for records with the wrong field count
    blank_lines: int
    encoding: str
    _buf: bytes = b""  # the text as UTF-8 (when lines are split on "\n")
    _starts: np.ndarray | None = None  # byte offset of each physical line in _buf
    _ends: np.ndarray | None = None  # byte offset of its end (without "\r\n")

    @cached_property
    def table(self) -> pd.DataFrame:
        """The records as a pandas frame of strings (columns named as in the header)."""
        df = self.arrow.to_pandas(
            types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None
        )
        df.columns = self.header
        return df

    def raw_lines(self, lines: np.ndarray | Iterable[int]) -> np.ndarray:
        """The text of physical lines (1-based numbers), as an object array of str."""
        idx = np.asarray(lines, dtype=np.int64) - 1
        buf, s, e = self._buf, self._starts, self._ends
        return np.array([buf[s[i] : e[i]].decode("utf-8", errors="replace") for i in idx], dtype=object)


def _split_lines(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Byte offsets of the start and end (without the line break) of every line in ``buf``."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1)).astype(np.int64)
    ends = np.concatenate((nl, [len(arr)])).astype(np.int64)
    if starts[-1] == len(arr):  # the text ends with a line break: no last empty line
        starts, ends = starts[:-1], ends[:-1]
    cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    return starts, ends


def _blank_mask(buf: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True for lines with nothing but white space."""
    arr = np.frombuffer(buf, dtype=np.uint8)
    empty = ends <= starts
    first = np.zeros(len(starts), dtype=bool)
    some = ~empty
    first[some] = _SPACE_BYTES[arr[starts[some]]] | (arr[starts[some]] == 0xC2) | (arr[starts[some]] == 0xE2)
    blank = empty.copy()
    for i in np.flatnonzero(first):  # lines starting with a space: look closer (rare)
        blank[i] = buf[starts[i] : ends[i]].decode("utf-8", errors="replace").strip() == ""
    return blank


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
    if encoding == "utf-8":
        buf = data
    elif encoding == "utf-8-sig":
        buf = data[3:]
    else:
        buf = text.encode("utf-8")
    raw_list: list[str] | None = None
    if _has_other_breaks(buf):
        # line breaks other than "\n" / "\r\n" (old Mac "\r", form feeds…): split as Python does
        raw_list = text.splitlines()
        buf = "\n".join(raw_list).encode("utf-8")
    starts, ends = _split_lines(buf)
    blank = _blank_mask(buf, starts, ends)
    nonblank = np.flatnonzero(~blank) + 1
    if len(nonblank) == 0:
        raise InputError("the file is empty", file=file)
    h = int(nonblank[0])
    header_line = buf[starts[h - 1] : ends[h - 1]].decode("utf-8", errors="replace")
    try:
        header = next(csv.reader([header_line]))
    except csv.Error as exc:
        raise InputError(f"the header row cannot be read ({exc})", file=file, line=h) from exc
    if len(header) < 2:
        raise InputError(
            f"this does not look like a CSV file: the first line has one column ({header_line[:60]!r})",
            file=file,
            line=h,
        )
    if len(set(header)) != len(header):
        dup = [c for c in header if header.count(c) > 1][0]
        raise InputError(f"the column {dup!r} appears twice in the header", file=file, line=h)
    names = [f"c{i}" for i in range(len(header))]
    body_lines = nonblank[1:]
    n_blank = int(blank[h:].sum())
    if n_blank == 0 and len(body_lines):
        body = memoryview(buf)[starts[body_lines[0] - 1] :]
    else:
        body = b"\n".join(buf[starts[i - 1] : ends[i - 1]] for i in body_lines)
    bad_rows: list[tuple[int, str, int, int]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        bad_rows.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    def parse(threads: bool) -> pa.Table:
        bad_rows.clear()
        try:
            return pacsv.read_csv(
                pa.py_buffer(body),
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
    # pyarrow numbers rows from 1 over the non-blank body lines we passed it
    bad = []
    for number, row_text, expected, actual in bad_rows:
        line = int(body_lines[number - 1]) if 0 < number <= len(body_lines) else -1
        what = "too few" if actual < expected else "too many"
        hint = " (a truncated line?)" if actual < expected else " (an unquoted comma?)"
        bad.append((line, row_text, f"has {actual} fields, expected {expected}: {what} fields{hint}"))
    keep = np.ones(len(body_lines), dtype=bool)
    if bad_rows:
        keep[np.array([b[0] for b in bad_rows], dtype=np.int64) - 1] = False
    good_lines = body_lines[keep]
    if len(good_lines) != table.num_rows:  # quoted newlines: fall back to the csv module for numbering
        try:
            good_lines, bad = _lines_with_csv_module(
                text if raw_list is None else "\n".join(raw_list), len(header)
            )
        except csv.Error as exc:  # a field over the csv module's limit: an unclosed quote, or a huge field
            raise InputError(
                f"cannot be read as CSV ({exc}): a quote that is never closed, or a field of more than "
                f"{csv.field_size_limit():,} characters; check the quotes, or shorten the field",
                file=file,
            ) from None
        if len(good_lines) != table.num_rows:
            raise InputError("cannot match records to lines (unbalanced quotes?)", file=file)
    return ParsedCSV(
        header=header,
        arrow=table,
        lines=good_lines,
        bad=bad,
        blank_lines=n_blank,
        encoding=encoding,
        _buf=buf,
        _starts=starts,
        _ends=ends,
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
    by_norm = {norm_name(h): h for h in header}
    mapping: dict[str, str] = {}
    warnings: list[str] = []
    missing = []
    for col in known:
        if col in header:
            mapping[col] = col
        elif norm_name(col) in by_norm:
            mapping[col] = by_norm[norm_name(col)]
            warnings.append(f"{file}: column {by_norm[norm_name(col)]!r} read as {col!r}")
        elif col in required:
            missing.append(col)
    if missing:
        hints = missing_hints(missing, header, "is {!r} it, renamed?")
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {hints} for a {kind} file; "
            f"the header has: {', '.join(header)}",
            file=file,
            line=1,
        )
    extra = [h for h in header if h not in mapping.values()]
    if extra:
        warnings.append(f"{file}: extra column{'s' if len(extra) > 1 else ''} ignored: {', '.join(extra)}")
    return mapping, warnings


def missing_hints(missing: Sequence[str], header: Sequence[str], suggestion: str) -> str:
    """The ``missing`` column names for an error message, each with the closest header name.

    ``suggestion`` words the closest name, e.g. ``"did you mean {!r}?"``:
    ``'Latitude' (did you mean 'latitude '?), 'Month'``.
    """
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, list(header), n=1, cutoff=0.6)
        hints.append(f"{col!r}" + (f" ({suggestion.format(close[0])})" if close else ""))
    return ", ".join(hints)


__all__ = [
    "InputFile",
    "ParsedCSV",
    "decode",
    "iter_inputs",
    "missing_hints",
    "norm_name",
    "read_csv_text",
    "read_zip",
    "resolve_columns",
]
