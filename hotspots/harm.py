"""Harm weights: count incidents, or weigh each by the harm of its category.

Every count in the library (area tables, trends, ward profiles, hotspot scores) can be
measured as ``count`` (each incident 1) or ``harm`` (each incident its category's weight).

Default weights
---------------
``hotspots/data/harm_weights.csv``: one weight per police.uk category, derived from the ONS
Crime Severity Score (CSS, experimental statistics, ONS 2016 onwards), whose offence weights
are the average sentence of each offence in days of custody equivalent. What ships, and why:

* The ONS "list of weights" by Home Office offence code could not be obtained on this
  machine. The offence weights used are a public transcription of the ONS CSS data tool
  grouped by police.uk category (``hotspots/data/css_offence_weights_transcribed.csv``;
  it gives the weights of each category's offences but not their offence codes). Its
  headline values agree with the published figures (homicide 7,979, attempted murder 4,663,
  possession of cannabis 3), but the grouping was not checked against the ONS file.
* A category's weight is the **median** of its offence weights. The count-weighted mean
  (weights by how often each offence is recorded) needs offence-level counts, which
  police.uk does not publish; the plain mean is dominated by the rarest, most serious
  offence of each category (homicide in violence, arson in criminal damage) while most
  recorded offences are the low-weight ones, so the median is the closer stand-in.
* Anti-social behaviour has no CSS weight (ASB incidents are not notifiable crimes): it is
  set to 10, the lowest weight of the public order offences (the crimes nearest ASB).
  Partner categories (fly-tipping, collisions …) have no CSS weight either: they take the
  ``default`` weight, 1, unless a weights file names them.

Every weight is user-settable: a CSV of ``category,weight`` rows (``--weights FILE`` on the
command line, the weights editor on the dashboard). A row ``*,w`` sets the weight of
categories the file does not name.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hotspots._errors import InputError

MEASURES = ("count", "harm")
DATA = Path(__file__).parent / "data"
DEFAULT_FILE = DATA / "harm_weights.csv"
TRANSCRIPTION_FILE = DATA / "css_offence_weights_transcribed.csv"
DEFAULT_NAME = "ONS Crime Severity Score, median offence weight per category (hotspots/data/harm_weights.csv)"
#: Weight of categories a weights table does not name (partner categories), unless set by ``*``.
OTHER_WEIGHT = 1.0


@dataclass(frozen=True)
class HarmWeights:
    """Weight per category: a plain, hashable value (a cache key, written into exports).

    Attributes
    ----------
    weights
        ``(category, weight)`` pairs, sorted by category.
    default
        Weight of categories not named.
    name
        Where the weights came from (shipped defaults, a file, the dashboard editor).
    """

    weights: tuple[tuple[str, float], ...]
    default: float = OTHER_WEIGHT
    name: str = ""

    def __post_init__(self) -> None:
        pairs = tuple(sorted((str(c), float(w)) for c, w in self.weights))
        for c, w in pairs:
            if not np.isfinite(w) or w < 0:
                raise InputError(f"the harm weight of {c!r} must be a number of 0 or more; got {w}")
        if not np.isfinite(self.default) or self.default < 0:
            raise InputError(f"the default harm weight must be a number of 0 or more; got {self.default}")
        object.__setattr__(self, "weights", pairs)
        object.__setattr__(self, "default", float(self.default))

    def as_dict(self) -> dict[str, float]:
        """Category → weight."""
        return dict(self.weights)

    def weight(self, category: str) -> float:
        """The weight of one category (``default`` if it is not named)."""
        return self.as_dict().get(str(category), self.default)

    def replace(self, changes: dict[str, float], *, name: str | None = None) -> HarmWeights:
        """A copy with some categories' weights changed (or added)."""
        merged = self.as_dict() | {str(k): float(v) for k, v in changes.items()}
        return HarmWeights(tuple(merged.items()), default=self.default, name=name or f"{self.name}, edited")

    def of(self, incidents: pd.DataFrame) -> np.ndarray:
        """The weight of each incident (float64, one per row), from its ``category``.

        Looked up once per distinct category (categorical codes), not per row.
        """
        cat = incidents["category"]
        if not isinstance(cat.dtype, pd.CategoricalDtype):
            cat = cat.astype("category")
        table = self.as_dict()
        per_code = np.array([table.get(str(c), self.default) for c in cat.cat.categories] + [0.0])
        return per_code[cat.cat.codes.to_numpy()]

    def to_dict(self) -> dict:
        """Plain JSON-ready form (written into exports)."""
        return {"name": self.name, "default": self.default, "weights": self.as_dict()}

    def to_json(self) -> str:
        """The weights as one JSON line."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_frame(self) -> pd.DataFrame:
        """A ``category, weight`` table (for the editor and for writing a weights file)."""
        return pd.DataFrame(self.weights, columns=["category", "weight"])

    def describe(self) -> str:
        """One line for captions and export headers."""
        top = ", ".join(f"{c} {w:g}" for c, w in sorted(self.weights, key=lambda p: -p[1])[:3])
        return f"harm weights: {self.name} (highest: {top}; other categories {self.default:g})"


def default_weights() -> HarmWeights:
    """The shipped weights (ONS Crime Severity Score per police.uk category; module notes)."""
    w = read_weights(DEFAULT_FILE)
    return HarmWeights(w.weights, default=w.default, name=DEFAULT_NAME)


def read_weights(source: Path | str | bytes, *, name: str | None = None) -> HarmWeights:
    """Read a weights CSV: a header row with ``category`` and ``weight``, one row per category.

    Parameters
    ----------
    source
        A path, or the file's bytes (uploads).
    name
        Name to report the weights by (default: the file name).

    Returns
    -------
    HarmWeights
        Extra columns (such as ``basis``) are ignored. A ``*`` category sets ``default``.

    Raises
    ------
    InputError
        If the file cannot be read, lacks the columns, repeats a category or has a weight
        that is not a number of 0 or more (naming the line).
    """
    if isinstance(source, bytes):
        file = name or "weights"
        text = source.decode("utf-8-sig", errors="replace")
    else:
        file = Path(source).name
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read the weights file: {exc.strerror or exc}", file=file) from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputError("the weights file is empty; expected a header `category,weight`", file=file)
    header = [h.strip().lower() for h in rows[0]]
    if "category" not in header or "weight" not in header:
        raise InputError(
            f"the weights file needs columns `category` and `weight`; the header has: {', '.join(rows[0])}",
            file=file,
            line=1,
        )
    ci, wi = header.index("category"), header.index("weight")
    weights: dict[str, float] = {}
    default = OTHER_WEIGHT
    for n, row in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in row):
            continue
        if len(row) <= max(ci, wi):
            raise InputError(f"expected a category and a weight; got {','.join(row)!r}", file=file, line=n)
        cat, raw = row[ci].strip(), row[wi].strip()
        try:
            w = float(raw)
        except ValueError:
            w = float("nan")
        if not np.isfinite(w) or w < 0:
            raise InputError(
                f"the weight of {cat!r} must be a number of 0 or more; got {raw!r}", file=file, line=n
            )
        if cat == "*":
            default = w
            continue
        if cat in weights:
            raise InputError(f"the category {cat!r} is given twice", file=file, line=n)
        weights[cat] = w
    return HarmWeights(tuple(weights.items()), default=default, name=name or file)


def check_measure(measure: str) -> str:
    """Return ``measure`` if it is ``count`` or ``harm``.

    Raises
    ------
    InputError
        For any other value, with the valid ones.
    """
    if measure not in MEASURES:
        raise InputError(f"`measure` must be one of {', '.join(MEASURES)}; got {measure!r}")
    return measure


def incident_weights(
    incidents: pd.DataFrame, *, measure: str = "count", weights: HarmWeights | None = None
) -> np.ndarray:
    """What each incident counts for: 1 (``count``) or its category's harm weight (``harm``).

    Parameters
    ----------
    incidents
        Incident frame with a ``category`` column.
    measure
        ``count`` or ``harm``.
    weights
        Harm weights (None: :func:`default_weights`); unused for ``count``.

    Returns
    -------
    numpy.ndarray
        float64, one value per row.

    Raises
    ------
    InputError
        If ``measure`` is not ``count`` or ``harm``.
    """
    check_measure(measure)
    if measure == "count":
        return np.ones(len(incidents))
    return (weights or default_weights()).of(incidents)


__all__ = [
    "MEASURES",
    "HarmWeights",
    "default_weights",
    "read_weights",
    "check_measure",
    "incident_weights",
]
