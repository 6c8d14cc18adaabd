"""Fuzzing the loader: mutated real police.uk and partner files end as a load or a clear InputError.

Hypothesis mutates real rows of the 2025 Staffordshire sample (a police.uk street file, and a
partner file made from the same rows with a case reference, a date and easting/northing):
bytes inserted, deleted and flipped, other encodings, quotes, line ends, huge fields,
impossible coordinates, duplicated and cut rows. Every input must end as

* a load whose report satisfies ``rows_read = accepted + duplicate + rejected`` and agrees with
  the store (incidents added, rejected rows added, the load log line), or
* an :class:`~hotspots._errors.InputError` with a message, the store unchanged,

never any other exception.

``make test`` runs the short version (:data:`SHORT` examples per file kind, derandomised so CI
is reproducible). The long run (5,000 per kind, 10,000 in all, random) is marked ``fuzz`` and
left out by default::

    .venv/bin/python -m pytest -m fuzz tests/test_fuzz_ingest.py -p no:cacheprovider

``HOTSPOTS_FUZZ_EXAMPLES=N`` changes the long run's count per kind.
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from hotspots._errors import InputError
from hotspots.ingest import InputFile, PartnerMapping, load_input
from hotspots.store import Store

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / "sample_data" / "staffordshire-2025-street.zip"
SHORT = 150
LONG = int(os.environ.get("HOTSPOTS_FUZZ_EXAMPLES", "5000"))
MAPPING = PartnerMapping(
    id="CaseRef", date="Reported", category="Type", easting="Easting", northing="Northing", location="Street"
)


def _real_lines() -> list[str]:
    """The header and 25 real rows of March 2025: crimes with ids, ASB without, rows without location."""
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        lines = zf.read("2025-03/2025-03-staffordshire-street.csv").decode("utf-8").splitlines()
    no_loc = [ln for ln in lines[1:] if ",,,No Location," in ln][:2]
    asb = [ln for ln in lines[1:] if ln.startswith(",") and "Anti-social" in ln][:8]
    return [lines[0], *lines[1:16], *asb, *no_loc]


POLICE = _real_lines()


def _partner_lines() -> list[str]:
    """A council-style partner file built from the same real rows (BNG coordinates, UK dates)."""
    import csv

    from pyproj import Transformer

    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    rows = list(csv.reader(POLICE[1:]))
    out = ["CaseRef,Reported,Type,Easting,Northing,Street,Notes"]
    for i, r in enumerate(rows):
        lon, lat = (float(r[4]), float(r[5])) if r[4] else (float("nan"), float("nan"))
        e, n = to_bng.transform(lon, lat)
        en = ("", "") if r[4] == "" else (f"{e:.0f}", f"{n:.0f}")
        day = f"{(i % 28) + 1:02d}/{r[1][5:7]}/{r[1][:4]} 1{i % 10}:30"
        out.append(f'ASB{i:04d},{day},{r[9]},{en[0]},{en[1]},"{r[6]}","from the 2025 sample, row {i}"')
    return out


PARTNER = _partner_lines()

FIELD_VALUES = [
    "",
    '"',
    '""',
    '"a,b"',
    "x" * 200_000,  # a huge field
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-0",
    "99999999999999999999",
    "52.8,-2.1",
    "\x00",
    "\u202e<script>",
    "\ufeff",
    "ðŸ˜€",
    "😀",
    "=cmd|' /C calc'!A0",
    "2025-13",
    "0000-00",
    "31/02/2025",
    "Anti-social behaviour",
    "\r",
    "\n",
    "\t",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1", "utf-32"]
LINE_ENDS = ["\n", "\r\n", "\r", "\n\n", "\r\r\n", "\u2028"]


@st.composite
def mutated(draw: st.DrawFn, lines: list[str]) -> bytes:
    """Real lines, mutated at the text level, encoded, then mutated at the byte level."""
    rows = [ln.split(",") for ln in lines]
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["field", "drop_row", "dup_row", "swap", "cut_row", "header"]))
        i = draw(st.integers(0, len(rows) - 1))
        row = rows[i]
        if op == "field" and row:
            j = draw(st.integers(0, len(row) - 1))
            row[j] = draw(st.sampled_from(FIELD_VALUES) | st.text(max_size=30))
        elif op == "drop_row" and len(rows) > 1:
            rows.pop(i)
        elif op == "dup_row":
            rows.insert(i, list(row))
        elif op == "swap" and len(row) > 5:
            row[4], row[5] = row[5], row[4]
        elif op == "cut_row":
            rows[i] = row[: draw(st.integers(0, len(row)))]
        elif op == "header":
            rows[0] = [draw(st.sampled_from(["Crime ID", "", "crime id ", "Month", "x" * 300])), *rows[0][1:]]
    text = draw(st.sampled_from(LINE_ENDS)).join(",".join(r) for r in rows)
    if draw(st.booleans()):
        text += draw(st.sampled_from(LINE_ENDS))
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    if enc == "utf-16":
        data = data if draw(st.booleans()) else data.removeprefix(codecs.BOM_UTF16_LE)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "truncate"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "insert":
            data = data[:pos] + draw(st.binary(min_size=1, max_size=8)) + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + draw(st.integers(1, 50)) :]
        elif op == "flip" and data:
            data = data[:pos] + bytes([data[pos] ^ (1 << draw(st.integers(0, 7)))]) + data[pos + 1 :]
        elif op == "truncate":
            data = data[:pos]
    return data


def _counts(store: Store) -> tuple[int, int, int]:
    c = store.counts()
    return c["incidents"], c["rejected"], c["ingests"]


def check_one(store: Store, data: bytes, *, partner: bool, as_zip: bool = False) -> None:
    """Load one mutated input; how it ended ('loaded', 'already loaded', 'refused') is a Hypothesis event."""
    event(_check_one(store, data, partner=partner, as_zip=as_zip))


def _check_one(store: Store, data: bytes, *, partner: bool, as_zip: bool = False) -> str:
    name = "fuzz.csv"
    files = [InputFile(name, data)]
    if as_zip:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("2025-03/2025-03-staffordshire-street.csv", data)
        from hotspots.ingest import read_zip

        try:
            files, _ = read_zip("fuzz.zip", data=buf.getvalue())
        except InputError as exc:
            assert str(exc)
            return "refused"
    before = _counts(store)
    try:
        r = load_input(
            store,
            name,
            files,
            source="council-asb" if partner else None,
            mapping=MAPPING if partner else None,
        )
    except InputError as exc:
        assert str(exc).strip(), "an InputError must say what is wrong"
        assert _counts(store) == before, "a refused file must leave the store as it was"
        return "refused"
    if r.status == "already loaded":
        assert _counts(store) == before
        return r.status
    assert r.status == "loaded", r
    assert r.rows_read == r.accepted + r.duplicate + r.rejected, r
    inc, rej, ing = _counts(store)
    assert (inc - before[0], rej - before[1], ing - before[2]) == (r.accepted, r.duplicate + r.rejected, 1), r
    return r.status


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb")
    yield store
    store.close()


def test_unmutated_seeds_load_completely(tmp_path):
    store = Store(tmp_path / "seed.duckdb")
    police = load_input(store, "p.csv", [InputFile("p.csv", "\n".join(POLICE).encode())])
    partner = load_input(
        store,
        "c.csv",
        [InputFile("c.csv", "\n".join(PARTNER).encode())],
        source="council-asb",
        mapping=MAPPING,
    )
    n = len(POLICE) - 1
    assert (police.rows_read, police.accepted, police.rejected, police.no_location) == (n, n, 0, 2)
    assert (partner.rows_read, partner.accepted, partner.rejected, partner.no_location) == (n, n, 0, 2)
    store.close()


SHORT_SETTINGS = settings(
    max_examples=SHORT,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.generate],
)
LONG_SETTINGS = settings(
    SHORT_SETTINGS, max_examples=LONG, derandomize=False, phases=[Phase.generate, Phase.shrink]
)


@SHORT_SETTINGS
@given(data=mutated(POLICE), as_zip=st.booleans())
def test_mutated_police_files_load_or_are_refused_clearly(fuzz_store, data, as_zip):
    check_one(fuzz_store, data, partner=False, as_zip=as_zip)


@SHORT_SETTINGS
@given(data=mutated(PARTNER))
def test_mutated_partner_files_load_or_are_refused_clearly(fuzz_store, data):
    check_one(fuzz_store, data, partner=True)


@pytest.mark.fuzz
@LONG_SETTINGS
@given(data=mutated(POLICE), as_zip=st.booleans())
def test_long_fuzz_police(fuzz_store, data, as_zip):
    check_one(fuzz_store, data, partner=False, as_zip=as_zip)


@pytest.mark.fuzz
@LONG_SETTINGS
@given(data=mutated(PARTNER))
def test_long_fuzz_partner(fuzz_store, data):
    check_one(fuzz_store, data, partner=True)
