"""hotspots.pack: the meeting pack PDF for the sample, read back as text (issue 10, item 4).

The pages are also written to tests/artifacts/meeting_pack.pdf to look at (pdftoppm -png).
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from hotspots._errors import InputError
from hotspots.pack import meeting_pack
from hotspots.store import Store


@pytest.fixture(scope="module")
def pdf(cycle_store_path, cycle_agenda, artifacts) -> bytes:
    store = Store(cycle_store_path, read_only=True)
    out = meeting_pack(store, group="Stoke Central", agenda=cycle_agenda)
    store.close()
    (artifacts / "meeting_pack.pdf").write_bytes(out)
    return out


def test_pack_pages_and_text(pdf, cycle_agenda):
    reader = PdfReader(io.BytesIO(pdf))
    # cover, agenda (two pages here), one page per place of the group
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) >= 4
    for p in reader.pages:  # A4 landscape
        assert round(float(p.mediabox.width)) == 842 and round(float(p.mediabox.height)) == 595
    assert all("Open Government Licence v3.0" in t for t in pages)
    cover = pages[0]
    assert "Stoke Central: meeting pack, December 2025" in cover
    assert "district Stoke-on-Trent (E06000021)" in cover
    assert "police.uk: 102,451 incidents, 2025-01 to 2025-12" in cover
    text = "\n".join(pages)
    assert "Agenda: what changed since 2025-11" in text
    ev = cycle_agenda.evaluations[1]
    hanley = next(t for t in pages if "Place #1 " in t)
    for figure in (ev.treated_before, ev.treated_after, ev.buffer_before, ev.buffer_after, ev.control_before):
        assert f"{figure:,}" in hanley
    assert "Hanley bus station" in hanley and "Dispersal order and extra PCSO patrols" in hanley
    assert "start 2025-08" in hanley
    assert " ".join(ev.verdict.split()[:6]) in " ".join(hanley.split())
    quiet = next(t for t in pages if "Place #2 " in t)
    assert "Quiet corner" in quiet and "Not evaluated: no intervention start is set." in quiet
    top = cycle_agenda.repeat_locations.iloc[0]
    assert top["location_name"] in text and f"{top['count']}" in text


def test_pack_for_another_groups_agenda_is_refused(cycle_store_path, cycle_agenda):
    store = Store(cycle_store_path, read_only=True)
    with pytest.raises(InputError, match="`agenda` is for group 'Stoke Central', not 'Tamworth'"):
        meeting_pack(store, group="Tamworth", agenda=cycle_agenda)
    store.close()
