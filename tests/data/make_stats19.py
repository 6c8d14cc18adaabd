"""Write ``stats19_constructed.csv``: a CONSTRUCTED road-collision extract in the DfT STATS19 layout.

Not real collisions. Rows are made by this script (seed 19) and placed on real police.uk map
points of the 2025 Staffordshire sample, so that the file exercises a partner mapping the way a
real STATS19 extract would (separate ``Date`` dd/mm/yyyy and ``Time`` HH:MM, coded
``Accident_Severity`` 1/2/3, coded ``Speed_limit``/``Light_Conditions``/``Weather_Conditions``).

The known answer: four map points (``PERSISTENT``) get at least one collision in every month
of 2025; the other rows fall on 150 random map points, at most one per point per month.
Run ``python tests/data/make_stats19.py`` to rebuild the file (it is committed).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

HERE = Path(__file__).parent
SAMPLE = HERE.parents[1] / "sample_data" / "staffordshire-2025-street.zip"
OUT = HERE / "stats19_constructed.csv"
COLUMNS = [
    "Accident_Index",
    "Location_Easting_OSGR",
    "Location_Northing_OSGR",
    "Longitude",
    "Latitude",
    "Police_Force",
    "Accident_Severity",
    "Number_of_Vehicles",
    "Number_of_Casualties",
    "Date",
    "Day_of_Week",
    "Time",
    "Local_Authority_(District)",
    "Local_Authority_(Highway)",
    "1st_Road_Class",
    "1st_Road_Number",
    "Road_Type",
    "Speed_limit",
    "Junction_Detail",
    "Junction_Control",
    "2nd_Road_Class",
    "2nd_Road_Number",
    "Pedestrian_Crossing-Human_Control",
    "Pedestrian_Crossing-Physical_Facilities",
    "Light_Conditions",
    "Weather_Conditions",
    "Road_Surface_Conditions",
    "Special_Conditions_at_Site",
    "Carriageway_Hazards",
    "Urban_or_Rural_Area",
    "Did_Police_Officer_Attend_Scene_of_Accident",
    "LSOA_of_Accident_Location",
]
# police.uk "On or near" map points with the most incidents in 2025 (Stafford, Hanley, Tamworth, Burton)
N_PERSISTENT = 4


def map_points() -> pd.DataFrame:
    frames = []
    with zipfile.ZipFile(SAMPLE) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".csv")):
            with zf.open(name) as fh:
                frames.append(pd.read_csv(fh, usecols=["Longitude", "Latitude", "LSOA code"]))
    df = pd.concat(frames).dropna()
    return df.groupby(["Longitude", "Latitude"], as_index=False).agg(
        n=("LSOA code", "size"), lsoa=("LSOA code", "first")
    )


def main() -> None:
    rng = np.random.default_rng(19)
    pts = map_points().sort_values(["n", "Longitude"], ascending=[False, True], ignore_index=True)
    # spread the persistent points: the busiest point of four different LSOAs, far apart
    persistent = pts.drop_duplicates("lsoa").iloc[[0, 7, 19, 41]].reset_index(drop=True)
    others = pts[
        ~pts.set_index(["Longitude", "Latitude"]).index.isin(
            persistent.set_index(["Longitude", "Latitude"]).index
        )
    ].sample(150, random_state=19)
    rows = []
    for month in range(1, 13):
        for _, p in persistent.iterrows():
            for _ in range(int(rng.integers(1, 4))):
                rows.append((p, month))
        for _, p in others.sample(12, random_state=int(rng.integers(1 << 30))).iterrows():
            rows.append((p, month))
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    out = []
    for k, (p, month) in enumerate(rows):
        day = int(rng.integers(1, 29))
        date = pd.Timestamp(2025, month, day)
        hour, minute = int(rng.choice(24, p=_HOURS)), int(rng.integers(0, 60))
        e, n = to_bng.transform(p["Longitude"], p["Latitude"])
        out.append(
            {
                "Accident_Index": f"2025210{k:06d}",
                "Location_Easting_OSGR": int(round(e)),
                "Location_Northing_OSGR": int(round(n)),
                "Longitude": f"{p['Longitude']:.6f}",
                "Latitude": f"{p['Latitude']:.6f}",
                "Police_Force": 21,
                "Accident_Severity": int(rng.choice([1, 2, 3], p=[0.02, 0.18, 0.80])),
                "Number_of_Vehicles": int(rng.integers(1, 4)),
                "Number_of_Casualties": int(rng.integers(1, 3)),
                "Date": date.strftime("%d/%m/%Y"),
                "Day_of_Week": (date.day_of_week + 1) % 7 + 1,  # STATS19: 1 = Sunday … 7 = Saturday
                "Time": "" if k % 97 == 5 else f"{hour:02d}:{minute:02d}",
                "Local_Authority_(District)": 0,
                "Local_Authority_(Highway)": "E10000028",
                "1st_Road_Class": int(rng.choice([1, 3, 4, 5, 6])),
                "1st_Road_Number": int(rng.integers(0, 600)),
                "Road_Type": int(rng.choice([1, 2, 3, 6, 7, 9])),
                "Speed_limit": int(
                    rng.choice([20, 30, 40, 50, 60, 70], p=[0.1, 0.5, 0.15, 0.05, 0.15, 0.05])
                ),
                "Junction_Detail": int(rng.choice([0, 1, 3, 6])),
                "Junction_Control": int(rng.choice([-1, 2, 4])),
                "2nd_Road_Class": -1,
                "2nd_Road_Number": 0,
                "Pedestrian_Crossing-Human_Control": 0,
                "Pedestrian_Crossing-Physical_Facilities": 0,
                "Light_Conditions": 1 if 7 <= hour < 18 else 4,
                "Weather_Conditions": int(rng.choice([1, 2, 3, 9], p=[0.8, 0.12, 0.03, 0.05])),
                "Road_Surface_Conditions": int(rng.choice([1, 2])),
                "Special_Conditions_at_Site": 0,
                "Carriageway_Hazards": 0,
                "Urban_or_Rural_Area": 1,
                "Did_Police_Officer_Attend_Scene_of_Accident": int(rng.choice([1, 2])),
                "LSOA_of_Accident_Location": p["lsoa"],
            }
        )
    pd.DataFrame(out, columns=COLUMNS).to_csv(OUT, index=False)
    persistent[["Longitude", "Latitude", "lsoa"]].to_csv(
        HERE / "stats19_constructed_persistent.csv", index=False
    )
    print(f"wrote {len(out)} rows to {OUT.name}")


_HOURS = np.array([1, 1, 1, 1, 1, 2, 3, 6, 8, 6, 5, 5, 6, 6, 6, 7, 8, 9, 7, 5, 4, 3, 2, 1], dtype=float)
_HOURS /= _HOURS.sum()

if __name__ == "__main__":
    main()
