"""The store's portable SQL, as the embedded store (DuckDB) takes it, translated to PostgreSQL.

The library writes one dialect: ``VARCHAR``, ``INTEGER``/``BIGINT``, ``DOUBLE``, ``DATE``,
``TIMESTAMP``, ``BOOLEAN``, ``BLOB``, ``?`` parameters, ``strftime`` and DuckDB's ``GROUP BY
ALL``. :func:`to_postgres` turns it into PostgreSQL for the server store
(:mod:`hotspots.store_server`), whose connections apply it to every query they run.
"""

from __future__ import annotations

import re


def to_postgres(query: str, *, params: bool = False) -> str:
    """Translate the store's portable (DuckDB) SQL to PostgreSQL.

    Parameters
    ----------
    query
        SQL as the embedded store takes it.
    params
        True when the query has ``?`` parameters: they become ``%s`` and a literal ``%``
        becomes ``%%`` (psycopg's placeholder syntax).

    Returns
    -------
    The query with ``DOUBLE`` → ``DOUBLE PRECISION``, ``BLOB`` → ``BYTEA``,
    ``strftime(x, '%Y-%m')`` → ``to_char(x, 'YYYY-MM')`` and a final ``GROUP BY ALL`` →
    ``GROUP BY 1, …``; string literals are left alone except inside ``strftime``.
    """
    out = []
    for k, part in enumerate(re.split(r"('(?:[^']|'')*')", query)):
        if k % 2:  # a string literal
            out.append(part.replace("%", "%%") if params else part)
            continue
        part = re.sub(r"\bDOUBLE\b(?!\s+PRECISION)", "DOUBLE PRECISION", part, flags=re.IGNORECASE)
        part = re.sub(r"\bBLOB\b", "BYTEA", part, flags=re.IGNORECASE)
        if params:
            part = part.replace("%", "%%").replace("?", "%s")
        out.append(part)
    text = "".join(out)

    def _strftime(m: re.Match) -> str:
        fmt = m.group(2).replace("%%", "%")
        for a, b in (("%Y", "YYYY"), ("%m", "MM"), ("%d", "DD"), ("%H", "HH24"), ("%M", "MI")):
            fmt = fmt.replace(a, b)
        return f"to_char({m.group(1)}, '{fmt}')"

    text = re.sub(r"strftime\(([^,()]+(?:\([^()]*\))?),\s*'([^']*)'\)", _strftime, text)
    return _alias_subqueries(_group_by_all(text))


def _alias_subqueries(query: str) -> str:
    """Name every ``FROM (subquery)`` that has no alias (PostgreSQL 15 requires one; DuckDB not)."""
    out, k, n = [], 0, 0
    for m in re.finditer(r"\bFROM\s*\(", query, flags=re.IGNORECASE):
        if m.start() < k:
            continue
        depth, j = 0, m.end() - 1
        while j < len(query):
            depth += {"(": 1, ")": -1}.get(query[j], 0)
            if depth == 0:
                break
            j += 1
        rest = query[j + 1 :]
        if re.match(
            r"\s*($|\)|WHERE\b|GROUP\b|ORDER\b|LIMIT\b|UNION\b|JOIN\b|LEFT\b|,)", rest, re.IGNORECASE
        ):
            out.append(query[k : j + 1] + f" AS _q{n}")
            n += 1
            k = j + 1
    out.append(query[k:])
    return "".join(out)


_AGGREGATE = re.compile(
    r"\b(count|sum|min|max|avg|string_agg|array_agg|bool_or|bool_and)\s*\(", re.IGNORECASE
)


def _group_by_all(query: str) -> str:
    """DuckDB's ``GROUP BY ALL`` at the end of a query → ``GROUP BY 1, …, k``.

    ``k`` counts the outer select list's leading items that are not aggregates (the form the
    library writes: keys first, then aggregates).
    """
    m = re.search(r"GROUP BY ALL\s*$", query, flags=re.IGNORECASE)
    if m is None:
        return query
    start = re.match(r"\s*SELECT\s+", query, flags=re.IGNORECASE)
    if start is None:
        return query
    depth, items, begin, k = 0, [], start.end(), start.end()
    while k < len(query):
        ch = query[k]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch == ",":
            items.append(query[begin:k])
            begin = k + 1
        elif depth == 0 and re.match(r"\s+FROM\s", query[k:], flags=re.IGNORECASE):
            items.append(query[begin:k])
            break
        k += 1
    keys = 0
    for item in items:
        if _AGGREGATE.search(item):
            break
        keys += 1
    return query[: m.start()] + "GROUP BY " + ", ".join(str(i + 1) for i in range(keys))
