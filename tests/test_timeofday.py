"""The hour-of-day profile across sources: partner times in, police.uk months and bare dates said and left out.

Reference: the constructed STATS19-layout CSV (tests/data, see its README) read by hand with pandas.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.filters import Filter
from hotspots.harm import HarmWeights
from hotspots.ingest import PartnerMapping, ingest
from hotspots.store import Store
from hotspots.timeofday import hour_profile, left_out_sentence, timed_sources

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(DATA / "stats19_constructed.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def mixed(sample_store_path, tmp_path_factory, raw):
    """The real police.uk sample, the collisions (date + time) and the same rows as dates only."""
    tmp = tmp_path_factory.mktemp("timeofday")
    path = tmp / "store.duckdb"
    shutil.copy(sample_store_path, path)
    dated = tmp / "dated.csv"
    raw.assign(Accident_Index="D" + raw["Accident_Index"]).to_csv(dated, index=False)
    no_time = tmp / "dated.toml"
    no_time.write_text(
        "\n".join(
            line for line in (DATA / "stats19.toml").read_text().splitlines() if not line.startswith("time ")
        )
    )
    with Store(path) as store:
        m = PartnerMapping.from_file(DATA / "stats19.toml")
        assert (
            ingest([DATA / "stats19_constructed.csv"], store=store, source="collisions", mapping=m)[0].status
            == "loaded"
        )
        r = ingest([dated], store=store, source="dated", mapping=PartnerMapping.from_file(no_time))[0]
        assert r.status == "loaded", r.error
    with Store(path, read_only=True) as store:
        return store.incidents()


def hand_counts(raw: pd.DataFrame, keep=None) -> pd.DataFrame:
    timed = raw[raw["Time"] != ""]
    if keep is not None:
        timed = timed[keep(timed)]
    when = pd.to_datetime(timed["Date"] + " " + timed["Time"], format="%d/%m/%Y %H:%M")
    return pd.crosstab(when.dt.day_of_week, when.dt.hour).reindex(
        index=range(7), columns=range(24), fill_value=0
    )


# ---------------------------------------------------------------------------- checks outputs
def test_profile_counts_the_collisions_by_hand_and_says_what_is_left_out(mixed, raw):
    assert timed_sources(mixed) == {"collisions": "time", "dated": "date", "police.uk": "month"}
    prof = hour_profile(mixed)
    assert prof["count"].tolist() == hand_counts(raw).to_numpy().ravel().tolist()
    n_timed = int((raw["Time"] != "").sum())
    assert prof.attrs["n_timed"] == n_timed and prof["count"].sum() == n_timed
    assert prof.attrs["in_profile"] == {"collisions": n_timed}
    assert hour_profile(mixed, filt=Filter(sources=("police.uk",))).attrs["in_profile"] == {}
    assert prof.attrs["left_out"] == {
        "police.uk": 102_451,
        "dated": len(raw),  # dates at midnight are not a peak at 00:00
        "collisions": len(raw) - n_timed,  # rows with an empty Time
    }
    text = left_out_sentence(prof)
    assert "police.uk: 102,451 incidents (the source publishes the month only" in text
    assert f"dated: {len(raw):,} incidents (the source has dates without times)" in text
    assert f"collisions: {len(raw) - n_timed} incidents (no time recorded)" in text


def test_profile_follows_the_filter_and_weighs_harm(mixed, raw):
    slight = Filter(categories=("Slight",), month_from="2025-03", month_to="2025-08")
    w = HarmWeights((("Fatal", 100.0), ("Serious", 10.0)), default=1.0, name="t")
    prof = hour_profile(mixed, filt=slight, measure="harm", weights=w)

    def keep(t):
        d = pd.to_datetime(t["Date"], format="%d/%m/%Y")
        return (t["Accident_Severity"] == "3") & (d >= "2025-03-01") & (d < "2025-09-01")

    hand = hand_counts(raw, keep).to_numpy().ravel()
    assert prof["count"].tolist() == hand.tolist()
    assert prof["harm"].tolist() == pytest.approx(hand * 1.0)  # Slight weighs 1
    fatal = hour_profile(mixed, filt=Filter(categories=("Fatal",)), measure="harm", weights=w)
    assert fatal["harm"].sum() == pytest.approx(100.0 * fatal["count"].sum()) and fatal["count"].sum() > 0


def test_police_only_gives_an_empty_profile_that_says_why(real_incidents):
    prof = hour_profile(real_incidents)
    assert len(prof) == 168 and prof["count"].sum() == 0 and prof.attrs["n_timed"] == 0
    assert left_out_sentence(prof).startswith("Not in this profile: police.uk: 102,451 incidents (")


# ---------------------------------------------------------------------------- checks inputs
def test_bad_measure_is_refused(real_incidents):
    with pytest.raises(InputError, match="`measure` must be one of count, harm; got 'hours'"):
        hour_profile(real_incidents, measure="hours")
