"""Turn a world and its ops into a :class:`~launderbench.simulator.dataset.Dataset` via the kernel."""

from __future__ import annotations

import os
import shutil

import numpy as np

from .dataset import Dataset, Table
from .errors import ScenarioUnsatisfiable
from .kernel import ERR_CAPACITY, ERR_HARD_FUNDS, ERR_LINK, OK, execute
from .ops import FRESH, OP_ISSUE, OP_LINKED, OP_PAY, OpStream, release_free_memory
from .schema import (
    SCHEMA_VERSION,
    SERVICE_OF_ENTITY,
    EntityKind,
    Role,
    ServiceKind,
    Stage,
    Typology,
)
from .tempdirs import make_temp_dir
from .version import GENERATOR_VERSION
from .world import World

#: entity kinds at which laundered funds are integrated (cash-out points)
CASHOUT_KINDS = (
    EntityKind.EXCHANGE, EntityKind.OTC, EntityKind.MARKETPLACE, EntityKind.MERCHANT,
    EntityKind.PAYMENT_PROCESSOR,
)


def _static_tables(world: World):
    chain_model = np.array([int(c.model) for c in world.chains], np.int8)
    n_assets = len(world.assets)
    asset_local = np.zeros(n_assets, np.int64)
    counts: dict[str, int] = {}
    for i, a in enumerate(world.assets):
        asset_local[i] = counts.get(a.chain, 0)
        counts[a.chain] = asset_local[i] + 1
    asset_native = np.array([a.native for a in world.assets], np.bool_)
    asset_dust = np.array([a.dust for a in world.assets], np.int64)
    return chain_model, asset_local, asset_native, asset_dust, max(counts.values())


def build(world: World, stream: OpStream, *, rng: np.random.Generator, meta: dict,
          seed_ops: dict[int, np.ndarray] | None = None, sink=None, horizon: int | None = None):
    """Execute ``stream`` in ``world`` and assemble the dataset.

    ``seed_ops`` maps incident id to the (insertion-order) indices of its announced hack ops.
    Without ``sink`` the result is a :class:`Dataset`. With ``sink`` (a callable taking a
    table name and a :class:`Table`, e.g. a :class:`~launderbench.simulator.dataset.DatasetWriter`) each
    table is handed over as soon as it is built and only the metadata is returned, so that
    large datasets never sit in memory whole. ``horizon`` (a timestamp) ends the observation
    window: ops from then on are not executed (see :meth:`~launderbench.simulator.ops.OpStream.finalize`).
    """
    ops, outs, parts = stream.finalize(horizon)
    n_ops = len(ops["t"])
    held = {"ops": ops, "outs": outs, "parts": parts}  # the only references from here on
    del outs, parts
    # The kernel never reads these columns: they wait on disk while it runs (out-of-core),
    # and come back afterwards for the ops that became transactions.
    spill = str(make_temp_dir("launderbench-ops-"))
    try:
        for key in _SPILLED:
            np.save(os.path.join(spill, key + ".npy"), ops.pop(key))
        release_free_memory()
        del ops
        return _build(world, stream, held, n_ops, spill, rng=rng, meta=meta,
                      seed_ops=seed_ops, sink=sink)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


#: op columns kept on disk while the kernel runs
_SPILLED = ("t", "stage", "typology", "memo")


def _build(world, stream, held, n_ops, spill, *, rng, meta, seed_ops, sink):
    ops, outs, parts = held.pop("ops"), held.pop("outs"), held.pop("parts")
    chain_model, asset_local, asset_native, asset_dust, n_local = _static_tables(world)

    n_addr0 = world.addresses.n
    # Exact upper bounds: change (and a fresh change address) only on UTXO PAY/LINKED ops,
    # one input per account op, at most every UTXO output spent once.
    utxo_op = chain_model[ops["chain"]] == 0
    may_change = utxo_op & ((ops["code"] == OP_PAY) | (ops["code"] == OP_LINKED))
    n_parts = len(parts["wallet"])
    n_fresh = int((may_change & (ops["change"] == FRESH)).sum()
                  + (outs["addr"] == FRESH).sum() + 2 * n_parts)
    cap_addr = n_addr0 + n_fresh + 8192
    addr_wallet = np.empty(cap_addr, np.int32)
    addr_chain = np.empty(cap_addr, np.int16)
    addr_wallet[:n_addr0] = world.addresses.column("wallet")
    addr_chain[:n_addr0] = world.addresses.column("chain")
    # account balances are kept for account-chain addresses only (a row each)
    addr_slot = np.full(cap_addr, -1, np.int32)
    acct0 = np.flatnonzero(chain_model[addr_chain[:n_addr0]] == 1)
    addr_slot[acct0] = np.arange(len(acct0), dtype=np.int32)
    acct_op_out = np.repeat(~utxo_op, ops["out_count"])
    cap_slot = len(acct0) + int((acct_op_out & (outs["addr"] == FRESH)).sum()) + 8192
    del acct_op_out
    cap_out = int(ops["out_count"].sum() + may_change.sum() + 2 * n_parts + 16)
    utxo_outs = int(ops["out_count"][utxo_op].sum() + may_change.sum() + 2 * n_parts)
    cap_in = utxo_outs + int((~utxo_op).sum()) + 16
    cap_link = int((ops["link"] >= 0).sum() + 1)
    # ops that LINKED ops refer to get a slot for the amount they realise
    targets = np.unique(ops["link"][ops["link"] >= 0])
    rslot = np.full(n_ops, -1, np.int32)
    rslot[targets] = np.arange(len(targets), dtype=np.int32)

    wallet_incident = world.wallets.column("incident").astype(np.int32)
    wallet_main = world.wallets.column("main")
    wallet_lifo = np.zeros(max(world.wallets.n, 1), np.bool_)
    wallet_lifo[:world.wallets.n] = world.wallets.column("lifo")
    res = execute(
        ops["code"], ops["chain"], ops["asset"], ops["src"], ops["fee_rate"],
        ops["change"], ops["hard"], ops["incident"], ops["link"], ops["link_kind"],
        ops["rate"], ops["aux"], ops["out_count"], ops["part_count"], rslot, len(targets),
        outs["addr"], outs["wallet"], outs["value"], outs["incident"],
        parts["wallet"], parts["addr"], parts["denom"],
        chain_model, asset_local, asset_native, asset_dust, n_local,
        addr_wallet, addr_chain, n_addr0, wallet_incident, wallet_main, wallet_lifo,
        max(world.wallets.n, 1), addr_slot, len(acct0), cap_slot,
        max(n_ops, 1), cap_in, cap_out, cap_link,
    )
    (status, bad_op, ntx, nin, nout, nlink, naddr,
     tx_op, tx_fee, tx_nin, tx_nout,
     in_tx, in_idx, in_addr, in_amount, in_spent,
     o_tx, o_idx, o_addr, o_amount, o_inc,
     l_kind, l_in, l_out, l_inc, l_ain, l_aout, realized, op_tx) = res
    def unspill(key):
        return np.load(os.path.join(spill, key + ".npy"), mmap_mode="r")

    if status != OK:
        ops["typology"] = unspill("typology")
        _raise_status(status, bad_op, ops, world)

    tx_op = tx_op[:ntx]
    # Keep only what the tables need from the ops, then let the ops go (memory).
    txf = {k: ops[k][tx_op] for k in ("chain", "asset", "fee_rate", "code", "incident")}
    seed_rows = []
    for inc, idx in sorted((seed_ops or {}).items()):
        pos = stream.position(np.asarray(idx, np.int64))
        txs = op_tx[pos[pos >= 0]]  # a hack op past the horizon was never announced
        seed_rows += [(inc, int(t)) for t in txs if t >= 0]
    del ops, outs, parts, realized, op_tx, rslot, targets
    stream.release()  # the stream cached the op arrays: now nothing holds them
    release_free_memory()
    for key in _SPILLED:  # back from disk, for the ops that became transactions only
        txf[key] = np.asarray(unspill(key)[tx_op])
    del tx_op
    # Right-size the kernel's capacity-sized buffers one at a time: the dict holds the only
    # reference, so each original is freed as soon as its copy exists (memory).
    del res
    k = {"txf": txf, "tx_fee": tx_fee, "tx_nin": tx_nin, "tx_nout": tx_nout,
         "in_tx": in_tx, "in_idx": in_idx, "in_addr": in_addr, "in_amount": in_amount,
         "in_spent": in_spent, "o_tx": o_tx, "o_idx": o_idx, "o_addr": o_addr,
         "o_amount": o_amount, "o_inc": o_inc}
    del tx_fee, tx_nin, tx_nout, in_tx, in_idx, in_addr, in_amount, in_spent
    del o_tx, o_idx, o_addr, o_amount, o_inc
    for name in list(k):
        if name != "txf":
            n = ntx if name.startswith("tx_") else nin if name.startswith("in_") else nout
            k[name] = k[name][:n].copy()
            release_free_memory()
    k.update({
        "links": (l_kind[:nlink], l_in[:nlink], l_out[:nlink], l_inc[:nlink], l_ain[:nlink],
                  l_aout[:nlink]),
        "addr_wallet": addr_wallet[:naddr], "addr_chain": addr_chain[:naddr],
        "seed_rows": seed_rows, "chain_model": chain_model,
    })
    del txf, addr_wallet, addr_chain
    release_free_memory()
    meta = dict(meta)
    meta.setdefault("generator_version", GENERATOR_VERSION)
    meta["schema_version"] = SCHEMA_VERSION
    meta["t0"] = world.t0
    meta["counts"] = {"transactions": int(ntx), "inputs": int(nin), "outputs": int(nout),
                      "addresses": int(naddr), "ops": int(n_ops),
                      "skipped_ops": int(n_ops - ntx)}
    produced = _produce_tables(world, k, rng)
    if sink is None:
        return Dataset({name: Table(name, cols) for name, cols in produced}, meta)
    for name, cols in produced:
        sink(name, Table(name, cols))
    return meta


def _produce_tables(world: World, k: dict, rng: np.random.Generator):
    """Yield ``(name, columns)`` one table at a time, dropping kernel arrays once used.

    The order is fixed (it fixes the order of random draws) and chosen so that the largest
    arrays are released early; with a streaming sink only one table is alive at a time.
    """
    txf = k["txf"]
    chain, asset, ts = txf["chain"], txf["asset"], txf["t"]
    ntx, naddr = len(ts), len(k["addr_wallet"])
    interval = np.array([c.block_interval for c in world.chains], np.int64)

    # Public address ids are a random permutation: they carry no information.
    perm = rng.permutation(naddr).astype(np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(naddr)

    yield "chains", {
        "chain_id": np.arange(len(world.chains)),
        "name": np.array([c.name for c in world.chains], object),
        "model": k["chain_model"],
        "block_interval": interval,
    }
    yield "assets", {
        "asset_id": np.arange(len(world.assets)),
        "symbol": np.array([a.symbol for a in world.assets], object),
        "chain_id": np.array([world.chain_id(a.chain) for a in world.assets]),
        "decimals": np.array([a.decimals for a in world.assets]),
        "usd_price": np.array([a.usd_price for a in world.assets]),
    }
    yield "transactions", {
        "tx_id": np.arange(ntx), "chain_id": chain, "asset_id": asset, "timestamp": ts,
        "block_height": (ts - world.t0) // interval[chain], "fee": k.pop("tx_fee"),
        "fee_rate": txf["fee_rate"], "n_inputs": k.pop("tx_nin"),
        "n_outputs": k.pop("tx_nout"), "is_issuance": txf["code"] == OP_ISSUE,
        "memo": txf["memo"],
    }
    in_tx, o_tx, o_idx = k.pop("in_tx"), k["o_tx"], k.pop("o_idx")
    spent = k.pop("in_spent")
    has_prev = spent >= 0
    safe = np.where(has_prev, spent, 0)
    yield "inputs", {
        "tx_id": in_tx, "index": k.pop("in_idx"), "address_id": perm[k.pop("in_addr")],
        "asset_id": asset[in_tx], "amount": k.pop("in_amount"), "spent_output_id": spent,
        "prev_tx_id": np.where(has_prev, o_tx[safe], -1),
        "prev_index": np.where(has_prev, o_idx[safe], -1),
    }
    del in_tx, spent, has_prev, safe

    # truth about addresses, from the outputs before they go
    aw = k.pop("addr_wallet")
    w_entity = world.wallets.column("entity")
    e_kind = world.entities.column("kind")
    e_name = world.entities.column("name")
    a_entity = w_entity[aw]
    a_kind = e_kind[a_entity]
    role = world.wallets.column("role")[aw].copy()
    a_inc = world.wallets.column("incident")[aw].astype(np.int32)
    o_addr, o_inc, o_amount = k.pop("o_addr"), k.pop("o_inc"), k.pop("o_amount")
    # Addresses of cash-out services that receive integration outputs and nothing untainted
    # (a deposit address the launderer uses alone) become CASHOUT; shared endpoints such as
    # a desk's or an escrow's public address, used by benign customers too, stay benign.
    integ = (txf["stage"][o_tx] == Stage.INTEGRATION) & (o_inc >= 0)
    clean_in = np.bincount(o_addr[o_inc < 0], minlength=naddr)
    recv = o_addr[integ]
    is_cash = ((a_inc[recv] < 0) & (clean_in[recv] == 0)
               & np.isin(a_kind[recv], [int(c) for c in CASHOUT_KINDS]))
    role[recv[is_cash]] = Role.CASHOUT
    a_inc[recv[is_cash]] = o_inc[integ][is_cash]
    for addr, (r, inc) in world.role_overrides.items():
        role[addr] = r
        a_inc[addr] = inc
    del integ, recv, is_cash
    tainted = np.flatnonzero(o_inc >= 0)
    yield "taint", {
        "output_id": tainted, "incident_id": o_inc[tainted], "amount": o_amount[tainted],
    }
    del tainted, o_inc
    yield "outputs", {
        "output_id": np.arange(len(o_tx)), "tx_id": o_tx, "index": o_idx,
        "address_id": perm[o_addr], "asset_id": asset[o_tx], "amount": o_amount,
    }
    del o_tx, o_idx, o_addr, o_amount
    k.pop("o_tx")
    yield "tx_truth", {
        "tx_id": np.arange(ntx), "incident_id": txf["incident"], "stage": txf["stage"],
        "typology": txf["typology"],
    }
    service = np.zeros(naddr, np.int8)
    for ek, sk in SERVICE_OF_ENTITY.items():
        service[a_kind == ek] = sk
    attributed = rng.random(naddr) < world.wallets.column("attribution")[aw]
    service = np.where(attributed, service, ServiceKind.NONE).astype(np.int8)
    names = np.where(service != ServiceKind.NONE, e_name[a_entity], None)
    yield "addresses", {
        "address_id": np.arange(naddr), "chain_id": k.pop("addr_chain")[inv],
        "service_kind": service[inv], "service_name": names[inv],
    }
    yield "address_truth", {
        "address_id": np.arange(naddr), "entity_id": a_entity[inv], "role": role[inv],
        "incident_id": a_inc[inv],
    }
    yield "entities", {
        "entity_id": np.arange(world.entities.n), "kind": e_kind, "name": e_name,
    }
    l_kind, l_in, l_out, l_inc, l_ain, l_aout = k.pop("links")
    yield "links", {
        "kind": l_kind, "in_tx_id": l_in, "out_tx_id": l_out, "incident_id": l_inc,
        "amount_in": l_ain, "amount_out": l_aout,
    }
    rows = k.pop("seed_rows")
    yield "seeds", {
        "incident_id": np.array([r[0] for r in rows], np.int32),
        "tx_id": np.array([r[1] for r in rows], np.int64),
    }


def _raise_status(status, bad_op, ops, world):
    if status == ERR_HARD_FUNDS or status == ERR_LINK:
        inc = int(ops["incident"][bad_op])
        typ = Typology(int(ops["typology"][bad_op])).name.lower()
        asset = world.assets[int(ops["asset"][bad_op])].symbol
        what = "its funds" if status == ERR_HARD_FUNDS else "the payment it depends on"
        raise ScenarioUnsatisfiable(
            f"scenario cannot be satisfied: incident {inc} step '{typ}' ({asset}) lacks {what}; "
            "route less value or give the step more time"
        )
    if status == ERR_CAPACITY:
        raise ScenarioUnsatisfiable(
            "scenario cannot be satisfied: a single step has more than 4000 outputs or "
            "participants; split it into smaller steps"
        )
    raise RuntimeError(f"ledger kernel failed with status {status}")
