"""The trends subcommands end to end on a store loaded with the real 2025 sample."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from hotspots._errors import InputError
from hotspots.cli import main
from hotspots.cli_trends import TREND_COLUMNS, change_sentence, draw_profile

ASB = "Anti-social behaviour"
VIOLENCE = "Violence and sexual offences"


@pytest.fixture(scope="module")
def store(tmp_path_factory, sample_raw):
    from conftest import SAMPLE_ZIP

    path = tmp_path_factory.mktemp("store") / "hotspots.duckdb"
    assert main(["ingest", str(SAMPLE_ZIP), "--store", str(path)]) == 0
    return str(path)


def test_trends_by_district(store, tmp_path, capsys, real_incidents):
    out = tmp_path / "trends.csv"
    rc = main(["trends", "--store", store, "--level", "district", "--category", ASB, "--out", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert list(df.columns[: len(TREND_COLUMNS)]) == TREND_COLUMNS
    assert len(df) == 9 * 12 and set(df["category"]) == {ASB}
    assert df["area_name"].notna().all()
    assert (df["model"] == "trend only").all()
    assert df.groupby("area_code")["count"].sum().sum() == (real_incidents["category"] == ASB).sum() - (
        real_incidents.loc[real_incidents["category"] == ASB, "district_code"].isna().sum()
    )
    dec = df[df["month"] == "2025-12-01"]
    assert (
        dec["rolling_12"] == df.groupby("area_code")["count"].sum().reindex(dec["area_code"]).to_numpy()
    ).all()
    printed = capsys.readouterr().out
    assert "In the 12 months to the end of December 2025 there were 15,455 incidents" in printed
    assert "no change can be given" in printed


def test_trends_excel_has_comparison_and_forecast(store, tmp_path):
    out = tmp_path / "trends.xlsx"
    assert main(["trends", "--store", store, "--whole-area", "--out", str(out)]) == 0
    sheets = pd.read_excel(out, sheet_name=None)
    assert {"trends", "last12_vs_previous12", "forecast", "about"} <= set(sheets)
    assert sheets["trends"]["area_code"].eq("all").all()
    assert len(sheets["forecast"]) == 3


def test_seasonality_with_figure(store, tmp_path, capsys):
    out, fig = tmp_path / "season.csv", tmp_path / "season.svg"
    rc = main(
        [
            "seasonality",
            "--store",
            store,
            "--category",
            ASB,
            VIOLENCE,
            "--out",
            str(out),
            "--figure",
            str(fig),
        ]
    )
    assert rc == 0
    df = pd.read_csv(out)
    assert len(df) == 24 and (df["n_years"] == 1).all()
    asb = df[df["category"] == ASB].set_index("month_of_year")
    assert asb.loc[7, "index"] > 1.2 > 0.7 > asb.loc[1, "index"]
    assert fig.read_text().startswith("<svg")
    assert "season cannot be separated from trend" in capsys.readouterr().out


def test_emerging_writes_geometry(store, tmp_path, capsys):
    out = tmp_path / "emerging.gpkg"
    rc = main(["emerging", "--store", store, "--category", ASB, "--cell-size", "2000", "--out", str(out)])
    assert rc == 0
    gdf = gpd.read_file(out, layer="emerging")
    assert gdf.crs.to_epsg() == 27700
    assert {"cell_id", "category", "mk_z", "mk_p", "pattern"} <= set(gdf.columns)
    assert "persistent hot spot" in set(gdf["category"])
    assert "12 periods 2025-01 to 2025-12" in capsys.readouterr().out


def test_change_by_area_and_grid(store, tmp_path, capsys):
    args = [
        "--before-from",
        "2025-01",
        "--before-to",
        "2025-03",
        "--after-from",
        "2025-07",
        "--after-to",
        "2025-09",
    ]
    out = tmp_path / "change.csv"
    assert (
        main(["change", "--store", store, "--category", ASB, "--level", "district", *args, "--out", str(out)])
        == 0
    )
    df = pd.read_csv(out)
    assert len(df) == 9 and (df["direction"] == "increase").all()
    assert "9 significant increases" in capsys.readouterr().out
    geo = tmp_path / "change.geojson"
    assert (
        main(
            [
                "change",
                "--store",
                store,
                "--category",
                ASB,
                "--grid",
                "--cell-size",
                "3000",
                *args,
                "--out",
                str(geo),
            ]
        )
        == 0
    )
    assert len(gpd.read_file(geo)) > 0
    areas = tmp_path / "change_areas.geojson"
    assert main(["change", "--store", store, "--level", "district", *args, "--out", str(areas)]) == 0
    assert gpd.read_file(areas).geometry.notna().all()


def test_change_sentence_wording():
    row = {
        "period_a": "2023-11 to 2024-10",
        "period_b": "2024-11 to 2025-10",
        "count_a": 3200,
        "count_b": 3472,
        "pct_change": 8.5,
        "p_value": 0.0009,
        "direction": "increase",
    }
    assert change_sentence(pd.Series(row)) == (
        "In the 12 months to the end of October 2025 there were 3,472 incidents, "
        "8% more than the previous 12 months (3,200; p = 0.0009)."
    )
    row.update(count_b=3250, pct_change=1.6, p_value=0.53, direction="no significant change")
    assert "no significant change on the previous 12 months" in change_sentence(pd.Series(row))
    row.update(count_b=pd.NA, direction="not estimated")
    assert "are not all loaded" in change_sentence(pd.Series(row))


# ---------------------------------------------------------------------------- checks inputs
def test_errors_are_reported(store, tmp_path, capsys):
    out = str(tmp_path / "x.csv")
    assert main(["trends", "--store", store, "--category", "Shed theft", "--out", out]) == 1
    assert "no incidents with category 'Shed theft'" in capsys.readouterr().err
    args = [
        "--before-from",
        "2025-01",
        "--before-to",
        "2025-06",
        "--after-from",
        "2025-06",
        "--after-to",
        "2025-09",
    ]
    assert main(["change", "--store", store, *args, "--out", out]) == 1
    assert "the periods overlap" in capsys.readouterr().err
    assert main(["emerging", "--store", store, "--from", "2025-06", "--out", out]) == 1
    assert "needs at least 10 periods" in capsys.readouterr().err
    assert main(["trends", "--store", store, "--level", "district", "--out", str(tmp_path / "x.gpkg")]) == 1
    assert "this result has no geometry" in capsys.readouterr().err


def test_draw_profile_checks(tmp_path):
    prof = pd.DataFrame({"index": [float("nan")]})
    with pytest.raises(InputError, match=r"cannot draw x.jpg: the figure must end in .png or .svg"):
        draw_profile(prof, tmp_path / "x.jpg")
    with pytest.raises(InputError, match="nothing to draw"):
        draw_profile(prof, tmp_path / "x.png")
