"""Import an external transaction table as a launderbench dataset.

So that every detector and metric runs on data launderbench did not generate:

>>> from launderbench.benchmarks.importer import import_table
>>> ds = import_table("HI-Small_Trans.csv")                     # doctest: +SKIP
>>> ds.save("data/ibm-hi-small")                                # doctest: +SKIP

Accepted input: a CSV or Parquet edge list, one row per transfer, with a source account, a
target account, an amount and a timestamp, and optionally a laundering label, an incident
(alert) id and a currency. Three layouts are recognised from the header:

``amlsim``  AMLSim's transaction log (Altman/IBM ``AMLSim``): ``tran_id, orig_acct,
            bene_acct, tx_type, base_amt, tran_timestamp, is_sar, alert_id``.
``ibm``     IBM's AML data sets (AMLworld, Altman et al. NeurIPS 2023): ``Timestamp, From Bank,
            Account, To Bank, Account, Amount Received, Receiving Currency, Amount Paid,
            Payment Currency, Payment Format, Is Laundering``. An account is (bank, account);
            the amount paid in the payment currency is the transfer.
``generic`` any table, with the columns named by the caller (``columns=``).

Each row becomes a one-input, one-output transaction on a single account-model chain named
``imported``, in the row's currency, without a fee. Every cell is read as text and parsed
exactly (:mod:`launderbench.benchmarks.import_values`): amounts are decimals, never floats,
stored in int64 base units of one asset per currency, with the decimals the amounts need (at
least two, eight for Bitcoin, at most 18; fewer, with a warning, where the asset's total would
not fit) unless given; a row that cannot fit, a missing or unparsable timestamp, an incident
id beyond int32 or an address that breaks the column's form (EVM: ``0x`` and 40 hex digits,
lowercased) is an error naming the row. Numeric timestamps are seconds unless a unit is
given (``ms``, ``step:SECONDS``); text is ISO 8601. With the ``generic`` layout, columns
named like the fields (``source``, ``target``, ``amount``, ``timestamp``, ``label``,
``incident``, ``currency``) need no naming. Transactions are sorted by time (stable). Laundering rows become
truth: ``tx_truth`` with the row's incident (the AMLSim alert, else 0), their outputs fully
tainted, and every address on a laundering row is a laundering address of that incident.
The temporal split is the default 60 / 20 / 20 by time. Stages and typologies are unknown
(``none``). With ``announce_first=True`` the first laundering transaction of each incident is
announced as a seed, so that the tracing task runs too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from launderbench.simulator.dataset import Dataset
from launderbench.simulator.errors import DatasetError
from launderbench.simulator.schema import ChainModel, EntityKind, Role, ServiceKind

from .import_knowledge import (
    apply_attribution,
    read_attribution,
    read_seed_file,
    seed_transactions,
)
from .import_values import (
    MAX_DECIMALS,
    USD_RATES,
    _np,
    _read,
    choose_decimals,
    normalise_addresses,
    parse_amounts,
    parse_incidents,
    parse_time_unit,
    parse_timestamps,
    to_base_units,
)

TRUE = ("1", "1.0", "true", "t", "yes")
FALSE = ("0", "0.0", "false", "f", "no", "")

LAYOUTS = {
    "amlsim": {"source": "orig_acct", "target": "bene_acct", "amount": "base_amt",
               "timestamp": "tran_timestamp", "label": "is_sar", "incident": "alert_id"},
    "ibm": {"source": ("From Bank", "Account"), "target": ("To Bank", "Account.1"),
            "amount": "Amount Paid", "timestamp": "Timestamp", "label": "Is Laundering",
            "currency": "Payment Currency"},
    # a list: the first of these columns the table has
    "amlsim-log": {"source": "nameOrig", "target": "nameDest", "amount": "amount",
                   "timestamp": "step", "label": "isSAR", "incident": ["alertID", "patternID"]},
    "evm": {"tx_hash": ["hash", "transaction_hash", "Transaction Hash", "Txhash", "tx_hash"],
            "source": ["from_address", "from", "From"], "target": ["to_address", "to", "To"],
            "amount": ["value", "Value", "TokenValue"],
            "timestamp": ["block_timestamp", "timeStamp", "timestamp", "UnixTimestamp"],
            "currency": ["tokenSymbol", "token_symbol", "TokenSymbol", "token_address",
                         "ContractAddress"],
            "decimals": ["tokenDecimal", "token_decimals", "TokenDecimal"]},
}
#: the time unit of a layout's numeric timestamps when none is given (AMLSim steps are days)
LAYOUT_TIME_UNIT = {"amlsim-log": "step:86400"}
FIELDS = ("source", "target", "amount", "timestamp", "label", "incident", "currency",
          "tx_hash", "decimals")
#: what to do with pseudo-accounts (negative integer ids: AMLSim's cash source and sink)
PSEUDO = ("keep", "drop", "service")
#: the side tables the importer writes beside the dataset's tables: the original strings
IDENTITY_FILES = {"address": "address_names.parquet", "tx": "tx_hashes.parquet"}


def _utxo_pair(paths) -> bool:
    """Two tables of which one lists spent outputs: a UTXO chain's outputs and inputs."""
    from .import_utxo import INPUT_COLUMNS

    return sum(any(c in _read(p) for c in INPUT_COLUMNS["spent_tx"]) for p in paths) == 1


def _layout_spec(path: Path, cols: dict, layout: str, columns: dict | None):
    """(columns, layout, field -> column) of one table, checked."""
    if layout == "auto":
        layout = detect_layout(cols)
    if layout not in (*LAYOUTS, "generic"):
        raise DatasetError(f"unknown layout '{layout}' ({', '.join(LAYOUTS)}, generic or "
                           "auto)")
    spec = _resolve(LAYOUTS.get(layout, {}), cols)
    if layout == "generic":
        spec.update({f: f for f in FIELDS if f in cols})
    spec.update(columns or {})
    unknown = set(spec) - set(FIELDS)
    if unknown:
        raise DatasetError(f"unknown field(s) {sorted(unknown)}; fields are {', '.join(FIELDS)}")
    for f in ("source", "target", "amount", "timestamp"):
        if f not in spec:
            raise DatasetError(f"{path.name}: no '{f}' column given for the {layout} layout "
                               f"(columns: {', '.join(cols)})")
    for f, v in spec.items():
        for c in (v if isinstance(v, tuple) else (v,)):
            if c not in cols:
                raise DatasetError(f"{path.name}: column '{c}' ({f}) not found "
                                   f"(columns: {', '.join(cols)})")
    if not cols or len(next(iter(cols.values()))) == 0:
        raise DatasetError(f"{path.name}: no rows")
    return cols, layout, spec


def _concatenate(parts) -> tuple[dict, dict]:
    """Several tables of one layout as one, by field (a field one table lacks is empty
    there: native transfers have no token); rows are numbered across the tables."""
    import pyarrow as pa

    fields = [f for f in FIELDS if any(f in spec for _, _, spec in parts)]
    cols = {}
    for f in fields:
        chunks = []
        for c, _, spec in parts:
            m = len(next(iter(c.values())))
            chunks.append(_keys(c, spec[f]) if f in spec else np.full(m, ""))
        cols[f] = pa.array(np.concatenate(chunks).astype(object), pa.string())
    return cols, {f: f for f in fields}


def _resolve(spec: dict, cols) -> dict:
    """A layout's columns with each list of alternatives replaced by the first the table has
    (dropped when it has none)."""
    out = {}
    for f, v in spec.items():
        if isinstance(v, list):
            v = next((c for c in v if c in cols), None)
            if v is None:
                continue
        out[f] = v
    return out


def detect_layout(columns) -> str:
    cols = set(columns)
    for name, spec in LAYOUTS.items():
        spec = _resolve(spec, cols)
        need = set()
        for f in ("source", "target", "amount", "timestamp"):
            v = spec.get(f, "\0")
            need |= set(v) if isinstance(v, tuple) else {v}
        if need <= cols:
            return name
    return "generic"


def _keys(cols, spec) -> np.ndarray:
    names = spec if isinstance(spec, tuple) else (spec,)
    parts = [np.char.strip(_np(cols[n])) for n in names]
    if len(parts) == 1:
        return parts[0]
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + ":" + p.astype(object)
    return out.astype(str)


def _pseudo(names: np.ndarray) -> np.ndarray:
    """Pseudo-accounts: ids that are negative integers."""
    s = np.char.lstrip(names.astype(str), "-")
    return np.char.startswith(names.astype(str), "-") & np.char.isdigit(s) & (s != "")


def _labels(col, name) -> np.ndarray:
    v = _np(col)
    s = np.char.lower(np.char.strip(v))
    ok = np.isin(s, (*TRUE, *FALSE))
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DatasetError(f"column '{name}': not a label at row {i + 1}: {v[i]!r}")
    return np.isin(s, TRUE)


def parse_asset_option(text: str) -> tuple[str, dict]:
    """``SYMBOL[:decimals=N][:usd=PRICE]`` (the ``--asset`` option) as (symbol, settings)."""
    parts = [p.strip() for p in text.split(":")]
    symbol, out = parts[0], {}
    if not symbol:
        raise DatasetError(f"--asset '{text}': no symbol (SYMBOL:decimals=N:usd=PRICE)")
    for p in parts[1:]:
        key, _, val = p.partition("=")
        try:
            if key == "decimals" and 0 <= int(val) <= MAX_DECIMALS:
                out["decimals"] = int(val)
                continue
            if key == "usd" and float(val) > 0:
                out["usd"] = float(val)
                continue
        except ValueError:
            pass
        raise DatasetError(f"--asset '{text}': bad setting '{p}' (decimals=0..{MAX_DECIMALS} "
                           f"or usd=PRICE>0)")
    return symbol, out


def import_table(path, layout: str = "auto", columns: dict | None = None,
                 announce_first: bool = False, name: str | None = None,
                 assets: dict | None = None, time_unit: str | None = None,
                 amount_scale: int | None = None, seed_addresses=(), seed_txs=(),
                 seeds_file=None, attribution=None, native: str | None = None,
                 pseudo: str = "keep") -> Dataset:
    """Read an external transaction table into a :class:`~launderbench.simulator.dataset.Dataset`.

    Parameters
    ----------
    path : CSV or Parquet file, or a list of them
        Several tables of one layout are read as one, in the order given (an explorer's
        native and token transfers); a field a table lacks is empty there.
    layout : "auto", "amlsim", "ibm", "amlsim-log", "evm", "utxo" or "generic"
        ``utxo``: two tables, a chain's outputs and inputs
        (:mod:`launderbench.benchmarks.import_utxo`); two such tables are recognised.
    columns : dict, optional
        Column names per field (``source``, ``target``, ``amount``, ``timestamp``, ``label``,
        ``incident``, ``currency``), overriding the layout's.
    announce_first : bool
        Announce the first laundering transaction of each incident as a seed.
    name : str, optional
        Dataset name (``meta["scenario"]``); default ``imported:<file stem>``.
    assets : dict, optional
        Per currency symbol (case-insensitive) ``{"decimals": N, "usd": PRICE}``, either key
        optional. Without a currency column, a single entry names the table's currency.
    time_unit : "s", "ms" or "step:SECONDS"
        Unit of numeric timestamps (default seconds; ``amlsim-log``: daily steps); ISO 8601
        text needs none.
    amount_scale : int or None
        Amounts are given in units of ``10**-amount_scale`` (wei: 18). Rows with a
        ``decimals`` cell (explorer exports: ``tokenDecimal``) use it instead. Default: 18
        for the ``evm`` layout (values in wei), else 0.
    native : str
        ``evm`` layout: the symbol of rows without a token (default ``ETH``); ``utxo``
        layout: the coin (default ``BTC``).
    pseudo : "keep", "drop" or "service"
        Accounts whose id is a negative integer (a simulator's cash source or sink): kept as
        ordinary addresses, dropped with their rows, or kept and attributed as services
        (``exchange``, named ``pseudo:<id>``: where cash enters or leaves).
    seed_addresses, seed_txs, seeds_file :
        Where tracing starts, independent of any labels (incident 0):
        :mod:`launderbench.benchmarks.import_knowledge`. Transaction hashes need a
        ``tx_hash`` column.
    attribution : path, optional
        CSV ``address, kind, name`` filling the observable service labels.

    The original address strings and transaction hashes are kept in ``ds.identity``
    (``{"address": ..., "tx": ... or None}``, by id); :func:`save_imported` writes them
    beside the dataset and :func:`read_identity` reads them back.

    Warnings (an amount rounded, a USD price assumed, data spanning under a day) are listed
    in ``meta["source"]["warnings"]``.
    """
    paths = [Path(p) for p in (path if isinstance(path, (list, tuple)) else [path])]
    if not paths:
        raise DatasetError("no table given")
    if pseudo not in PSEUDO:
        raise DatasetError(f"pseudo-accounts: '{pseudo}' is not one of {', '.join(PSEUDO)}")
    if layout == "utxo" or (layout == "auto" and len(paths) == 2 and _utxo_pair(paths)):
        from .import_utxo import import_utxo

        if columns:
            raise DatasetError("the utxo layout takes its columns from the tables' headers "
                               f"(no --{next(iter(columns)).replace('_', '-')})")
        return import_utxo(paths, name=name, assets=assets, time_unit=time_unit,
                           amount_scale=amount_scale, native=native, seed_addresses=seed_addresses,
                           seed_txs=seed_txs, seeds_file=seeds_file, attribution=attribution)
    native = native or "ETH"
    parts = [_layout_spec(p, _read(p), layout, columns) for p in paths]
    layouts = sorted({lay for _, lay, _ in parts})
    if len(layouts) > 1:
        raise DatasetError(f"the tables have different layouts ({', '.join(layouts)}); give "
                           "--layout and the columns")
    layout = layouts[0]
    if len(parts) == 1:
        cols, layout, spec = parts[0]
    else:  # one table of the fields, files in the order given
        cols, spec = _concatenate(parts)
    path = paths[0]
    n = n_rows = len(next(iter(cols.values())))
    time_unit = time_unit or LAYOUT_TIME_UNIT.get(layout)
    if amount_scale is None:
        amount_scale = 18 if layout == "evm" else 0
    if not 0 <= amount_scale <= 36:
        raise DatasetError(f"amount scale {amount_scale}: 0 to 36 decimals")
    settings = {k.lower(): dict(v) for k, v in (assets or {}).items()}
    warnings: list[str] = []

    src, dst, evm = normalise_addresses(
        _keys(cols, spec["source"]), _keys(cols, spec["target"]),
        tuple("+".join(v) if isinstance(v, tuple) else v
              for v in (spec["source"], spec["target"])))
    ts = parse_timestamps(_np(cols[spec["timestamp"]]), spec["timestamp"], time_unit)
    scale = np.full(n, amount_scale, np.int64)
    if "decimals" in spec:
        dec_text = np.char.strip(_np(cols[spec["decimals"]]))
        given_dec = dec_text != ""
        ok = np.char.isdigit(dec_text) | ~given_dec
        if not ok.all() or (given_dec & (np.char.str_len(dec_text) > 2)).any():
            i = int(np.flatnonzero(~ok | (np.char.str_len(dec_text) > 2))[0])
            raise DatasetError(f"column '{spec['decimals']}': not a number of decimals at row "
                               f"{i + 1}: {str(dec_text[i])!r}")
        scale[given_dec] = dec_text[given_dec].astype(np.int64)
    amounts = parse_amounts(_np(cols[spec["amount"]]), spec["amount"], scale)
    label = (_labels(cols[spec["label"]], spec["label"]) if "label" in spec
             else np.zeros(n, bool))
    incident = np.where(label, 0, -1).astype(np.int64)
    if "incident" in spec:
        inc = parse_incidents(_np(cols[spec["incident"]]), spec["incident"])
        incident = np.where(label, np.where(inc >= 0, inc, 0), -1)
    if "currency" in spec:
        currency = np.char.strip(_np(cols[spec["currency"]]))
        if layout == "evm":
            currency = np.where(currency == "", native, currency)
        elif (currency == "").any():
            i = int(np.flatnonzero(currency == "")[0])
            raise DatasetError(f"column '{spec['currency']}': missing currency at row {i + 1}")
    elif layout == "evm":
        currency = np.full(n, native)
    else:
        only = next(iter(assets)) if assets and len(assets) == 1 else "USD"
        currency = np.full(n, only)

    tx_hash = (np.char.strip(_np(cols[spec["tx_hash"]])) if "tx_hash" in spec else None)
    if tx_hash is not None and (tx_hash == "").any():
        i = int(np.flatnonzero(tx_hash == "")[0])
        raise DatasetError(f"column '{spec['tx_hash']}': missing transaction hash at row "
                           f"{i + 1}")

    fake = _pseudo(src) | _pseudo(dst)
    kept = np.flatnonzero(~fake) if pseudo == "drop" else np.arange(n)
    if not len(kept):
        raise DatasetError(f"{path.name}: no rows left once pseudo-accounts are dropped")
    order = kept[np.lexsort((kept, ts[kept]))]
    src, dst, ts, label, incident, currency = (a[order] for a in (
        src, dst, ts, label, incident, currency))
    tx_hash = None if tx_hash is None else tx_hash[order]
    amounts = [amounts[i] for i in order]
    n = len(order)

    # assets: one per currency, ids in order of first use
    cur_names, cur_first, cur_inv = np.unique(currency, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(cur_first))
    asset = rank[cur_inv].astype(np.int64)
    cur_sorted = cur_names[np.argsort(cur_first)]
    decimals, price = [], []
    units = np.zeros(n, np.int64)
    for k, sym in enumerate(cur_sorted):
        rows = np.flatnonzero(asset == k)
        mine = [amounts[i] for i in rows]
        given = settings.get(sym.lower(), {})
        if "decimals" in given:
            d = given["decimals"]
        else:
            d, rounded = choose_decimals(mine, 8 if sym.lower() in ("bitcoin", "btc") else 2)
            if d < 0:
                big = int(rows[int(np.argmax([float(a) for a in mine]))])
                raise DatasetError(
                    f"column '{spec['amount']}': amount at row {int(order[big]) + 1} "
                    f"({amounts[big]}) does not fit in int64 base units of {sym} (the "
                    f"total of {sym} exceeds 9.2e18 whole units)")
            if rounded:
                warnings.append(f"{sym}: amounts rounded to {d} decimals so that they fit "
                                "in int64")
        units[rows] = to_base_units(mine, order[rows], d, spec["amount"], sym)
        decimals.append(d)
        if "usd" in given:
            price.append(given["usd"])
        elif sym.lower() in USD_RATES:
            price.append(USD_RATES[sym.lower()])
        else:
            price.append(1.0)
            warnings.append(f"{sym}: no USD price known, 1.0 assumed (give --asset "
                            f"{sym}:usd=PRICE)")
    decimals, price = np.array(decimals, np.int64), np.array(price, float)
    unused = sorted(set(settings) - {c.lower() for c in cur_sorted})
    if unused:
        warnings.append(f"--asset {', '.join(unused)}: no such currency in the data "
                        f"({', '.join(cur_sorted)})")
    span = int(ts.max() - ts.min())
    if span < 86400:
        warnings.append(f"the data spans {span:,} seconds, under a day (numeric timestamps "
                        "are read in --time-unit, seconds by default)")

    # addresses: ids in order of first appearance (source before target)
    both = np.column_stack([src, dst]).ravel()
    keys, first, inv = np.unique(both, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    aid = rank[inv].astype(np.int64)
    a_src, a_dst = aid[0::2], aid[1::2]
    n_addr = len(keys)

    tx_id = np.arange(n, dtype=np.int64)
    zeros = np.zeros(n, np.int64)
    laundering = incident >= 0
    role = np.zeros(n_addr, np.int64)
    addr_inc = np.full(n_addr, -1, np.int64)
    lt = np.flatnonzero(laundering)
    for a in (a_src, a_dst):  # first laundering incident an address takes part in
        rev = lt[::-1]
        addr_inc[a[rev]] = incident[rev]
        role[a[lt]] = int(Role.INTERMEDIARY)
    seeds_inc, seeds_tx = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if announce_first and len(lt):
        incs, first_tx = np.unique(incident[lt], return_index=True)
        seeds_inc, seeds_tx = incs.astype(np.int64), lt[first_tx].astype(np.int64)
    addr_names = keys[np.argsort(rank)]
    listed = list(seed_addresses) + (read_seed_file(seeds_file) if seeds_file else [])
    given = seed_transactions(listed, list(seed_txs), addr_names, a_src, tx_hash, evm)
    if len(given):
        keep = ~np.isin(seeds_tx, given) | (seeds_inc != 0)
        seeds_inc = np.concatenate([seeds_inc[keep], np.zeros(len(given), np.int64)])
        seeds_tx = np.concatenate([seeds_tx[keep], given])
        o = np.lexsort((seeds_tx, seeds_inc))
        seeds_inc, seeds_tx = seeds_inc[o], seeds_tx[o]
    service_kind, service_name = np.zeros(n_addr, np.int64), np.full(n_addr, "", object)
    tagged = 0
    if attribution is not None:
        service_kind, service_name, tagged = apply_attribution(
            read_attribution(attribution, evm), addr_names)
    if pseudo == "service":
        mark = _pseudo(addr_names)
        service_kind[mark] = int(ServiceKind.EXCHANGE)
        service_name[mark] = np.char.add("pseudo:", addr_names[mark].astype(str)).astype(object)
    # truth, as the generator has it: an attributed service (an exchange's hot wallet, a
    # mixer or bridge contract) is never one of the launderer's addresses, even on a labelled
    # row; a service that sends an announced theft is its victim (left out of the tasks)
    svc = service_kind != int(ServiceKind.NONE)
    if svc.any() and len(lt):
        role[svc] = int(Role.BENIGN)
        addr_inc[svc] = -1
        if len(seeds_tx):
            victim = np.zeros(n_addr, bool)
            victim[a_src[seeds_tx]] = True
            victim &= svc
            role[victim] = int(Role.VICTIM)
            first_inc = np.full(n_addr, -1, np.int64)
            first_inc[a_src[seeds_tx[::-1]]] = seeds_inc[::-1]
            addr_inc[victim] = first_inc[victim]
    t0 = int(ts.min())
    tables = {
        "chains": {"chain_id": [0], "name": np.array(["imported"], object),
                   "model": [int(ChainModel.ACCOUNT)], "block_interval": [1]},
        "assets": {"asset_id": np.arange(len(cur_sorted)),
                   "symbol": cur_sorted.astype(object), "chain_id": np.zeros(len(cur_sorted)),
                   "decimals": decimals, "usd_price": price},
        "transactions": {"tx_id": tx_id, "chain_id": zeros, "asset_id": asset,
                         "timestamp": ts, "block_height": ts - t0, "fee": zeros,
                         "fee_rate": zeros, "n_inputs": np.ones(n, np.int64),
                         "n_outputs": np.ones(n, np.int64), "is_issuance": np.zeros(n, bool),
                         "memo": np.full(n, -1, np.int64)},
        "inputs": {"tx_id": tx_id, "index": zeros, "address_id": a_src, "asset_id": asset,
                   "amount": units, "spent_output_id": np.full(n, -1, np.int64),
                   "prev_tx_id": np.full(n, -1, np.int64), "prev_index": np.full(n, -1, np.int64)},
        "outputs": {"output_id": tx_id, "tx_id": tx_id, "index": zeros, "address_id": a_dst,
                    "asset_id": asset, "amount": units},
        "addresses": {"address_id": np.arange(n_addr), "chain_id": np.zeros(n_addr),
                      "service_kind": service_kind, "service_name": service_name},
        "seeds": {"incident_id": seeds_inc, "tx_id": seeds_tx},
        "entities": {"entity_id": np.arange(n_addr),
                     "kind": np.full(n_addr, int(EntityKind.RETAIL)),
                     "name": addr_names.astype(object)},
        "address_truth": {"address_id": np.arange(n_addr), "entity_id": np.arange(n_addr),
                          "role": role, "incident_id": addr_inc},
        "tx_truth": {"tx_id": tx_id, "incident_id": incident, "stage": zeros,
                     "typology": zeros},
        "taint": {"output_id": lt, "incident_id": incident[lt], "amount": units[lt]},
    }
    incs = np.unique(incident[lt])
    meta = {"scenario": name or f"imported:{path.stem}", "seed": None, "partial": True,
            "source": {"file": ", ".join(p.name for p in paths), "layout": layout,
                       "evm_addresses": evm,
                       "time_unit": parse_time_unit(time_unit)[0],
                       "amount_scale": amount_scale, "warnings": warnings,
                       "pseudo_accounts": pseudo, "dropped_rows": int(n_rows - n),
                       "seeds_given": len(listed) + len(seed_txs),
                       "attribution": None if attribution is None else {
                           "file": Path(attribution).name, "tagged_addresses": tagged},
                       "columns": {k: list(v) if isinstance(v, tuple) else v
                                   for k, v in spec.items()}},
            "incidents": [{"incident_id": int(i)} for i in incs], "t0": t0}
    ds = Dataset(tables, meta)
    ds.identity = {"address": addr_names.astype(object),
                   "tx": None if tx_hash is None else tx_hash.astype(object)}
    return ds


def save_imported(ds: Dataset, path) -> Path:
    """Save an imported dataset with its original address strings and transaction hashes
    (:data:`IDENTITY_FILES`) beside its tables, in one atomic step."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from launderbench.simulator.dataset import DatasetWriter
    from launderbench.simulator.schema import ALL_TABLES

    identity = getattr(ds, "identity", None) or {}
    with DatasetWriter(path) as w:
        for name in ALL_TABLES:
            w(name, ds.tables[name])
        for key, file in IDENTITY_FILES.items():
            if identity.get(key) is not None:
                col = "address_id" if key == "address" else "tx_id"
                pq.write_table(pa.table({col: np.arange(len(identity[key]), dtype=np.int64),
                                         "text": pa.array(identity[key], pa.string())}),
                               w.tmp / file)
        w.finish(ds.meta)
    return Path(path)


def read_identity(path) -> dict:
    """The original strings of a saved imported dataset: ``{"address": array or None,
    "tx": array or None}`` indexed by address id and transaction id."""
    import pyarrow.parquet as pq

    out = {}
    for key, file in IDENTITY_FILES.items():
        f = Path(path) / file
        out[key] = (pq.read_table(f).column("text").to_numpy(zero_copy_only=False)
                    if f.is_file() else None)
    return out


__all__ = ["import_table", "save_imported", "read_identity", "detect_layout",
           "parse_asset_option", "LAYOUTS",
           "USD_RATES"]
