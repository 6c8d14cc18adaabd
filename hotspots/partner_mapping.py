"""The column mapping of a partner CSV: which columns hold the date, category and place.

A partner file (council fly-tipping, ASB cases, collisions…) comes with a mapping, written as
TOML or JSON or built in the Data page's form; :class:`PartnerMapping` holds and checks it, and
:func:`hotspots.rows.parse_partner` reads the rows with it (this class is importable from
:mod:`hotspots.ingest` too).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hotspots._errors import InputError


@dataclass
class PartnerMapping:
    """How a partner CSV's columns map to the incident record.

    Give either ``date`` (a date or date-time column) or ``month`` (``YYYY-MM``), and either
    ``lon``/``lat`` (WGS84) or ``easting``/``northing`` (British National Grid).

    Attributes
    ----------
    id
        Column with a unique case reference (optional; a deterministic id is made without it).
    date, month
        Column with the date (or date and time) of the incident, or with its month.
    date_format
        strftime format of ``date`` (optional; ISO and day-first UK dates are read without it).
    category
        Column with the category; or ``category_value`` for one fixed category for all rows.
    lon, lat, easting, northing
        Coordinate columns.
    location
        Column with a place description (optional).
    outcome
        Column with an outcome or status (optional).
    time
        Column with the time of day (``HH:MM`` or ``HH:MM:SS``) when it is separate from
        ``date`` (road collision extracts: ``Date`` and ``Time``); needs ``date``. Rows with an
        empty time keep their date and month but no exact time (day and hour filters leave
        them out); a time that cannot be read rejects the row.
    category_labels
        Labels for coded categories, code → label: ``{1 = "Fatal", 2 = "Serious", 3 = "Slight"}``.
        Codes without a label are kept as they are (and named in the load's warnings).
    labels
        Labels for coded ``extra`` (or outcome) columns: column → {code → label}.
    extra
        Further columns to keep with each incident (a list of names, or ``"*"`` for every
        column the mapping does not use otherwise): stored as text, offered as filters
        (``Filter.extra``, ``--extra COLUMN=VALUE``) and written into incident exports.
    """

    id: str | None = None
    date: str | None = None
    month: str | None = None
    date_format: str | None = None
    category: str | None = None
    category_value: str | None = None
    lon: str | None = None
    lat: str | None = None
    easting: str | None = None
    northing: str | None = None
    location: str | None = None
    outcome: str | None = None
    time: str | None = None
    category_labels: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    extra: list[str] | str = field(default_factory=list)

    def __post_init__(self) -> None:
        self.category_labels = _label_table(self.category_labels, "category_labels")
        if not isinstance(self.labels, dict):
            raise InputError(
                f"`labels` must be a table of column → {{code → label}}; got {type(self.labels).__name__}"
            )
        self.labels = {str(c): _label_table(v, f"labels.{c}") for c, v in self.labels.items()}
        if isinstance(self.extra, str):
            if self.extra != "*":
                raise InputError(
                    f'`extra` must be a list of column names or "*" (every other column); got {self.extra!r}'
                )
        elif isinstance(self.extra, (list, tuple)):
            self.extra = [str(c) for c in self.extra]
        else:
            raise InputError(
                f'`extra` must be a list of column names or "*"; got {type(self.extra).__name__}'
            )
        if self.time and not self.date:
            raise InputError(
                "the mapping gives `time` without `date`; `time` is the time of day of the `date` column"
            )
        if self.category_labels and not self.category:
            raise InputError("the mapping gives `category_labels` without `category` (the coded column)")
        if not (self.date or self.month):
            raise InputError("the mapping needs `date` or `month`: the column with when it happened")
        if self.date and self.month:
            raise InputError("the mapping gives both `date` and `month`; give one of them")
        if not (self.category or self.category_value):
            raise InputError(
                "the mapping needs `category` (a column) or `category_value` (one fixed category)"
            )
        has_ll = bool(self.lon and self.lat)
        has_en = bool(self.easting and self.northing)
        if has_ll == has_en:
            raise InputError(
                "the mapping needs coordinates: `lon` and `lat` (WGS84) or `easting` and `northing` "
                "(British National Grid), not both or neither"
            )

    _SINGLE = (
        "id",
        "date",
        "month",
        "category",
        "lon",
        "lat",
        "easting",
        "northing",
        "location",
        "outcome",
        "time",
    )

    def columns(self) -> list[str]:
        """The CSV columns the mapping reads (``extra = "*"`` is expanded by :meth:`extra_columns`)."""
        cols = [getattr(self, k) for k in self._SINGLE if getattr(self, k)]
        return cols + (list(self.extra) if isinstance(self.extra, list) else [])

    def extra_columns(self, header: list[str]) -> list[str]:
        """The extra columns kept for a file with this header."""
        if self.extra == "*":
            used = {getattr(self, k) for k in self._SINGLE if getattr(self, k)}
            return [h for h in header if h not in used]
        return list(self.extra)

    def to_dict(self) -> dict:
        """The mapping as plain values (keys that are set), as a mapping file would give them."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {})}

    @classmethod
    def from_file(cls, path: Path | str) -> PartnerMapping:
        """Read a mapping from a TOML or JSON file (keys as the attributes).

        Raises
        ------
        InputError
            If the file cannot be read or has unknown keys.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the mapping: {exc}", file=path.name) from exc
        data = data.get("mapping", data)
        return cls.from_dict(data, file=path.name)

    @classmethod
    def from_dict(cls, data: dict, *, file: str | None = None) -> PartnerMapping:
        """Build a mapping from a dict, rejecting unknown keys with the list of valid ones."""
        valid = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - valid)
        if unknown:
            raise InputError(
                f"unknown mapping key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(valid))}",
                file=file,
            )
        plain = {k: (str(v) if v is not None else None) for k, v in data.items() if k not in _STRUCTURED}
        try:
            return cls(**plain, **{k: v for k, v in data.items() if k in _STRUCTURED})
        except InputError as exc:
            raise InputError(exc.reason, file=file) from None


_STRUCTURED = ("category_labels", "labels", "extra")


def _label_table(value: object, name: str) -> dict[str, str]:
    """Code → label with both as text (TOML/JSON keys are text; 1 and "1" are the same code)."""
    if not isinstance(value, dict):
        raise InputError(f'`{name}` must be a table of code → label, such as {{1 = "Fatal"}}; got {value!r}')
    out = {}
    for k, v in value.items():
        code = str(k).strip()
        if code.endswith(".0") and code[:-2].isdigit():
            code = code[:-2]
        out[code] = str(v)
    return out
