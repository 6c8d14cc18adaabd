"""Upload limits and zip bombs: refused with clear messages, before anything is decompressed."""

from __future__ import annotations

import io
import zipfile

import pytest
from conftest import SAMPLE_ZIP

from dashboard.loading import load_upload, set_boundaries, set_localities
from hotspots._errors import InputError
from hotspots.ingest import iter_inputs, read_zip
from hotspots.limits import MB, Limits, check_upload, check_zip, limits
from hotspots.store import Store


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """A real zip bomb in miniature: 50 MB of one repeated byte deflates to ~50 kB (1000:1)."""
    return _zip({"2025-01/2025-01-staffordshire-street.csv": b"0" * (50 * MB)})


def test_defaults_and_environment(monkeypatch):
    for var in ("HOTSPOTS_MAX_UPLOAD_MB", "HOTSPOTS_MAX_UNZIPPED_MB", "HOTSPOTS_MAX_ZIP_RATIO"):
        monkeypatch.delenv(var, raising=False)
    assert limits() == Limits(200 * MB, 1024 * MB, 100.0)
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "0.5")
    monkeypatch.setenv("HOTSPOTS_MAX_ZIP_RATIO", "20")
    assert limits() == Limits(MB // 2, 1024 * MB, 20.0)


@pytest.mark.parametrize("value", ["lots", "-3", "0"])
def test_bad_environment_value_is_named(monkeypatch, value):
    monkeypatch.setenv("HOTSPOTS_MAX_UNZIPPED_MB", value)
    with pytest.raises(
        InputError, match=rf"HOTSPOTS_MAX_UNZIPPED_MB must be a positive number, got '{value}'"
    ):
        limits()


def test_real_police_archive_passes_the_default_limits():
    data = SAMPLE_ZIP.read_bytes()
    check_upload(SAMPLE_ZIP.name, data)  # 5 MB zip expanding 4.7 times to 24 MB
    files, _ = read_zip(SAMPLE_ZIP)
    assert len(files) == 12


def test_upload_over_the_limit_is_refused_with_sizes():
    lim = Limits(max_upload_bytes=4 * MB)
    with pytest.raises(InputError, match=r"big\.csv: the file is 4\.8 MB, over the upload limit of 4\.0 MB"):
        check_upload("big.csv", SAMPLE_ZIP.read_bytes()[: int(4.8 * MB)], limit=lim)


def test_zip_bomb_is_refused_by_ratio(bomb):
    with pytest.raises(InputError, match=r"bomb\.zip: member '2025-01/.*' expands [\d,]+ times .* zip bomb"):
        read_zip("bomb.zip", data=bomb)
    with pytest.raises(InputError, match="expands .* times"):
        check_upload("bomb.zip", bomb)


def test_zip_refused_by_total_expanded_size(tmp_path):
    # twelve honest members (about 5:1) that together expand past a 20 MB limit
    data = SAMPLE_ZIP.read_bytes()
    lim = Limits(max_unzipped_bytes=20 * MB)
    with pytest.raises(InputError, match=r"would expand to 22\.5 MB, over the limit of 20\.0 MB"):
        check_upload("sample.zip", data, limit=lim)
    with zipfile.ZipFile(SAMPLE_ZIP) as zf:
        with pytest.raises(InputError, match="HOTSPOTS_MAX_UNZIPPED_MB"):
            check_zip("sample.zip", zf.infolist(), limit=lim)


def test_environment_limit_applies_to_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTSPOTS_MAX_UNZIPPED_MB", "10")
    with pytest.raises(InputError, match="would expand to 22.5 MB, over the limit of 10.0 MB"):
        iter_inputs(SAMPLE_ZIP)


def test_small_repetitive_member_is_not_a_bomb():
    # 500 kB of blank lines compresses ~1000:1 but is under the 1 MB floor: harmless, read
    files, _ = read_zip("blank.zip", data=_zip({"a.csv": b"Crime ID\n" + b"\n" * 500_000}))
    assert len(files[0].data) == 500_009


def test_zip_lying_about_its_size_fails_cleanly():
    # the directory says 10 bytes; the data expands to 100 kB: zipfile stops at 10 and the CRC fails
    data = bytearray(_zip({"a.csv": b"x" * 100_000}))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size in the central directory
    with pytest.raises(InputError, match=r"lie\.zip: member 'a\.csv' cannot be read"):
        read_zip("lie.zip", data=bytes(data))


def test_truncated_zip_upload_is_refused():
    data = SAMPLE_ZIP.read_bytes()[:100_000]
    with pytest.raises(InputError, match=r"cut\.zip: not a readable zip archive"):
        check_upload("cut.zip", data)


def test_dashboard_uploads_report_the_limit(tmp_path, bomb, monkeypatch):
    store = Store(tmp_path / "s.duckdb")
    report = load_upload(store, "bomb.zip", bomb)
    assert report.status == "failed" and "zip bomb" in report.error
    monkeypatch.setenv("HOTSPOTS_MAX_UPLOAD_MB", "1")
    report = load_upload(store, "sample.zip", SAMPLE_ZIP.read_bytes())
    assert report.status == "failed" and "over the upload limit of 1.0 MB" in report.error
    assert store.is_empty()
    with pytest.raises(InputError, match="over the upload limit"):
        set_localities(store, "loc.csv", b"ward_code,locality\n" + b"E05000001,x\n" * 100_000)
    monkeypatch.delenv("HOTSPOTS_MAX_UPLOAD_MB")
    with pytest.raises(InputError, match=r"shapes\.zip: member 'lsoa\.shp' expands"):
        set_boundaries(store, "shapes.zip", _zip({"lsoa.shp": b"\0" * (2 * MB), "lsoa.dbf": b""}))
    store.close()


# ---------------------------------------------------------------------------- found by the fuzz test
@pytest.mark.parametrize(
    ("data", "match"),
    [
        (
            b"\xef\xbb\xbfCrime ID,Month\nab,2025-0\xbd\n",
            r"x\.csv, line 2: the file starts with a UTF-8 byte-order mark but byte 28 \(bd\) is not UTF-8",
        ),
        (
            "Crime ID,Month\n".encode("utf-16") + b"\x00",
            r"x\.csv, line 2: the file starts with a UTF-16 byte-order mark but byte 33 \(00\) is not UTF-16",
        ),
    ],
)
def test_bytes_that_break_their_byte_order_mark_are_named(data, match):
    from hotspots.ingest import decode

    with pytest.raises(InputError, match=match):
        decode(data, file="x.csv")


def test_a_quoted_field_too_big_for_the_csv_module_is_named():
    # found by the long fuzz run: a 200,000-character quoted field next to a quoted line break
    from hotspots.ingest import read_csv_text

    data = ('a,b\n1,"x\ny"\n2,"' + "z" * 200_000 + '"\n').encode()
    with pytest.raises(InputError, match=r"f\.csv: cannot be read as CSV \(field larger than field limit"):
        read_csv_text(data, file="f.csv")


def test_dashboard_loads_are_audited_as_the_local_user(tmp_path):
    from hotspots import audit

    store = Store(tmp_path / "a.duckdb")
    month = zipfile.ZipFile(SAMPLE_ZIP).read("2025-02/2025-02-staffordshire-street.csv")
    ok = load_upload(store, "2025-02.csv", month)
    bad = load_upload(store, "bomb.zip", _zip({"a.csv": b"0" * (3 * MB)}))
    assert (ok.status, bad.status) == ("loaded", "failed")
    log = audit.entries(store, action="load")
    assert log["user"].tolist() == ["local", "local"] and set(log["via"]) == {"dashboard"}
    assert (
        log["detail"].iloc[0].startswith("bomb.zip: bomb.zip: FAILED") and "zip bomb" in log["detail"].iloc[0]
    )
    assert log["detail"].iloc[1].startswith("2025-02.csv: 2025-02.csv [street, police.uk]")
    store.close()
