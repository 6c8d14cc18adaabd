"""Census 2021 usual residents (TS021) per 2021 LSOA, England and Wales.

Wards, districts, partnerships and forces have the sum of their LSOAs' residents (the
best-fit rule of :mod:`boundaries.lookups`), so every resident is counted once.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from boundaries.lookups import DATA

POPULATION_FILE = DATA / "census2021_ts021_lsoa21_total_usual_residents.csv.gz"


@lru_cache(maxsize=1)
def population() -> pd.Series:
    """Census 2021 usual residents, indexed by 2021 LSOA code (England and Wales)."""
    df = pd.read_csv(POPULATION_FILE, dtype={"lsoa21_code": object, "total_residents": "int64"})
    out = df.set_index("lsoa21_code")["total_residents"]
    out.index = pd.Index(out.index.to_numpy(dtype=object), name="lsoa21_code", dtype=object)  # fast lookups
    return out


def residents(codes) -> pd.Series:
    """Residents of the given 2021 LSOA codes, in their order; 0 for a code not in Census 2021."""
    return population().reindex(pd.Index(codes, dtype=object)).fillna(0).astype("int64")
