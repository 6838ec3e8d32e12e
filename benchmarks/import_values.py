"""Exact parsing of the cells of an imported table: amounts, timestamps, ids and addresses.

Every cell arrives as text (:func:`_read` reads a CSV or Parquet table so), so nothing is
guessed by a CSV reader and no value passes through floating point. Each function raises
:class:`~launderbench.simulator.errors.DatasetError` with one line naming the column, the
first bad row (1-based, header excluded) and its text.

Amounts are decimal strings (``12.5``, ``1e30``, ``1500000000000000000000``) read with
:class:`decimal.Decimal`; :func:`to_base_units` turns them into int64 base units with a
number of decimals per asset that is either given or chosen so that the asset's total fits
in int64, and says which rows cannot fit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal, localcontext
from pathlib import Path

import numpy as np

from launderbench.simulator.errors import DatasetError

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
#: most decimals an asset is given automatically (ETH's wei)
MAX_DECIMALS = 18
#: numeric timestamps later than this many seconds (year 3000) are not seconds
LATEST_SECONDS = 32_503_680_000

_DECIMAL = re.compile(r"^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_INTEGER = re.compile(r"^[+-]?\d+(\.0*)?$")
_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_EXACT = Context(prec=200)


#: approximate USD per unit of the currencies named in IBM's AML data (documented reference
#: rates; only USD-weighted metrics use them)
USD_RATES = {
    "us dollar": 1.0, "euro": 1.08, "yuan": 0.14, "yen": 0.0067, "rupee": 0.012,
    "ruble": 0.011, "uk pound": 1.27, "canadian dollar": 0.74, "australian dollar": 0.66,
    "swiss franc": 1.13, "mexican peso": 0.058, "brazil real": 0.2, "shekel": 0.27,
    "saudi riyal": 0.27, "bitcoin": 60_000.0, "usd": 1.0, "btc": 60_000.0, "eth": 3_000.0,
    "ether": 3_000.0, "usdt": 1.0, "usdc": 1.0, "dai": 1.0,
}
def _read(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV (duplicate header names deduplicated as pandas does) or Parquet."""
    import pyarrow as pa

    if not path.is_file():
        raise DatasetError(f"table not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            table = pa.table({n: _as_text(table.column(n)) for n in table.column_names})
        else:
            import pyarrow.csv as pcsv

            with open(path, encoding="utf-8", errors="replace") as f:
                header = f.readline().rstrip("\r\n")
            if not header:
                raise DatasetError(f"{path}: empty file")
            import csv

            names = next(csv.reader([header]))
            seen: dict[str, int] = {}
            dedup = []
            for n in names:
                n = n.strip()
                if n in seen:
                    seen[n] += 1
                    dedup.append(f"{n}.{seen[n]}")
                else:
                    seen[n] = 0
                    dedup.append(n)
            table = pcsv.read_csv(
                path, read_options=pcsv.ReadOptions(column_names=dedup, skip_rows=1),
                convert_options=pcsv.ConvertOptions(
                    column_types={n: pa.string() for n in dedup}, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException, OSError, UnicodeDecodeError) as e:
        msg = (str(e).splitlines() or [type(e).__name__])[0]
        raise DatasetError(f"cannot read {path}: {msg}") from None
    return {name: table.column(name) for name in table.column_names}


def _as_text(col):
    """A Parquet column as text: timestamps as ISO 8601 (UTC), nulls as empty strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_timestamp(col.type):
        col = pc.strftime(pc.cast(col, pa.timestamp("s", tz=col.type.tz)),
                          format="%Y-%m-%dT%H:%M:%S")
    elif not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, "")


def _np(col) -> np.ndarray:
    return col.to_numpy(zero_copy_only=False).astype(str)


def _row_error(column: str, what: str, row: int, text, why: str = "") -> DatasetError:
    why = f" ({why})" if why else ""
    return DatasetError(f"column '{column}': {what} at row {row + 1}{why}: {str(text)!r}")


def _by_unique(values: np.ndarray, parse) -> list:
    """``parse`` applied once per distinct text, returned per row."""
    uniq, inv = np.unique(values, return_inverse=True)
    parsed = [parse(u) for u in uniq]
    return [parsed[i] for i in inv]


def parse_amounts(values: np.ndarray, column: str, scale=0) -> list[Decimal]:
    """Non-negative decimals, one per row, each divided by ``10**scale`` (amounts given in
    base units such as wei: ``scale=18``; one scale, or one per row)."""
    values = np.char.strip(values.astype(str))
    ok = np.array([bool(_DECIMAL.match(v)) for v in values], bool)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        what = "missing" if not values[i] else "not a non-negative decimal"
        raise _row_error(column, "bad amount", i, values[i], what)
    scale = np.broadcast_to(np.asarray(scale, np.int64), values.shape)
    with localcontext(_EXACT):
        if (scale == scale.flat[0]).all() if scale.size else True:
            k = int(scale.flat[0]) if scale.size else 0
            return _by_unique(values, lambda v: Decimal(v).scaleb(-k))
        return [Decimal(v).scaleb(-int(k)) for v, k in zip(values, scale)]


def _frac_digits(d: Decimal) -> int:
    exp = d.normalize(_EXACT).as_tuple().exponent
    return max(0, -int(exp))


def choose_decimals(amounts: list[Decimal], least: int = 0) -> tuple[int, bool]:
    """Decimals for one asset: as many as the amounts use and at least ``least`` (at most
    :data:`MAX_DECIMALS`), fewer where their total would not fit in int64. Returns
    (decimals, rounded); -1 when not even whole units fit."""
    need = min(MAX_DECIMALS, max([least, *(_frac_digits(a) for a in set(amounts))]))
    with localcontext(_EXACT):
        total = sum(amounts, Decimal(0))
        d = need
        while d >= 0 and total.scaleb(d) > INT64_MAX:
            d -= 1
    return d, d < need


def to_base_units(amounts: list[Decimal], rows: np.ndarray, decimals: int, column: str,
                  asset: str) -> np.ndarray:
    """int64 base units (``amount * 10**decimals``, rounded half to even); an amount that
    does not fit is an error naming its row (``rows`` maps each amount to its file row)."""
    out = np.zeros(len(amounts), np.int64)
    with localcontext(_EXACT):
        for k, a in enumerate(amounts):
            u = int(a.scaleb(decimals).to_integral_value(ROUND_HALF_EVEN))
            if u > INT64_MAX:
                raise DatasetError(
                    f"column '{column}': amount at row {int(rows[k]) + 1} ({a}) does not fit "
                    f"in int64 base units of {asset} with {decimals} decimals")
            out[k] = u
    return out


def parse_time_unit(text: str | None) -> tuple[str, Decimal]:
    """``s``, ``ms`` or ``step:SECONDS`` as (name, seconds per unit)."""
    text = (text or "s").strip().lower()
    if text == "s":
        return "s", Decimal(1)
    if text == "ms":
        return "ms", Decimal("0.001")
    if text.startswith("step:"):
        length = text[5:]
        if _NUMBER.match(length) and Decimal(length) > 0:
            return text, Decimal(length)
    raise DatasetError(f"bad time unit '{text}': s, ms or step:SECONDS (e.g. step:86400)")


def _iso_seconds(text: str) -> int | None:
    t = text.replace("/", "-").removesuffix(" UTC")
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    if len(t) < 8 or "-" not in t[1:]:
        return None
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() // 1)


def parse_timestamps(values: np.ndarray, column: str, unit: str | None = None) -> np.ndarray:
    """int64 unix seconds from numbers in ``unit`` (seconds by default, ``ms``,
    ``step:SECONDS``) or from ISO 8601 text (no zone: UTC)."""
    name, per = parse_time_unit(unit)
    values = np.char.strip(values.astype(str))
    empty = values == ""
    if empty.any():
        raise _row_error(column, "missing timestamp", int(np.flatnonzero(empty)[0]), "")
    numeric = np.array([bool(_NUMBER.match(v)) for v in values], bool)
    if numeric[0]:
        if not numeric.all():
            i = int(np.flatnonzero(~numeric)[0])
            raise _row_error(column, f"not a number of {name} like the rows before", i,
                             values[i])
        with localcontext(_EXACT):
            secs = _by_unique(values, lambda v: int((Decimal(v) * per).to_integral_value(
                rounding=ROUND_FLOOR)))
        big = [k for k, v in enumerate(secs) if abs(v) > LATEST_SECONDS]
        if big:
            i = big[0]
            hint = "ms or step:SECONDS" if name == "s" else "a smaller unit"
            raise _row_error(column, f"timestamp past the year 3000 as {name} (give "
                             f"--time-unit {hint})", i, values[i])
        return np.array(secs, np.int64)
    secs = _by_unique(values, _iso_seconds)
    bad = [k for k, v in enumerate(secs) if v is None]
    if bad:
        raise _row_error(column, "cannot parse timestamp", bad[0], values[bad[0]],
                         "not ISO 8601 or a number")
    return np.array(secs, np.int64)


def parse_incidents(values: np.ndarray, column: str) -> np.ndarray:
    """Incident ids: whole numbers in int32 (empty or negative: none, -1)."""
    values = np.char.strip(values.astype(str))

    def one(v: str) -> int | None:
        if v == "" or v.lower() in ("nan", "none", "null"):
            return -1
        if not _INTEGER.match(v):
            return None
        i = int(v.split(".")[0])
        return -1 if i < 0 else i

    ids = _by_unique(values, one)
    for k, v in enumerate(ids):
        if v is None:
            raise _row_error(column, "incident id is not a whole number", k, values[k])
        if v > INT32_MAX:
            raise _row_error(column, f"incident id over {INT32_MAX:,}", k, values[k])
    return np.array(ids, np.int64)


def normalise_addresses(src: np.ndarray, dst: np.ndarray, names: tuple[str, str]
                        ) -> tuple[np.ndarray, np.ndarray, bool]:
    """Address strings as kept: stripped; when any is an EVM address (``0x`` and 40 hex
    digits) all must be, and they are lowercased so that checksummed and lowercase forms are
    one address. Returns (sources, targets, evm)."""
    out = []
    for vals in (src, dst):
        out.append(np.char.strip(vals.astype(str)))
    evm = any(bool(_EVM.match(v)) for v in out[0][:1000]) or any(
        bool(_EVM.match(v)) for v in out[1][:1000])
    for vals, column in zip(out, names):
        empty = vals == ""
        if empty.any():
            raise _row_error(column, "missing address", int(np.flatnonzero(empty)[0]), "")
        if evm:
            ok = np.array([bool(_EVM.match(v)) for v in vals], bool)
            if not ok.all():
                i = int(np.flatnonzero(~ok)[0])
                raise _row_error(column, "not an EVM address (0x and 40 hex digits)", i,
                                 vals[i])
    if evm:
        out = [np.char.lower(v) for v in out]
    return out[0], out[1], evm


__all__ = ["USD_RATES", "parse_amounts", "choose_decimals", "to_base_units", "parse_timestamps",
           "parse_time_unit", "parse_incidents", "normalise_addresses", "INT64_MAX"]
