"""Turn a world and its ops into a :class:`~simulator.dataset.Dataset` via the kernel."""

from __future__ import annotations

import numpy as np

from . import __version__
from .dataset import Dataset
from .errors import ScenarioUnsatisfiable
from .kernel import ERR_CAPACITY, ERR_HARD_FUNDS, ERR_LINK, OK, execute
from .ops import FRESH, OP_ISSUE, OP_LINKED, OP_PAY, OpStream
from .schema import (
    SCHEMA_VERSION,
    SERVICE_OF_ENTITY,
    EntityKind,
    Role,
    ServiceKind,
    Stage,
    Typology,
)
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
          seed_ops: dict[int, np.ndarray] | None = None, progress=None) -> Dataset:
    """Execute ``stream`` in ``world`` and assemble the dataset.

    ``seed_ops`` maps incident id to the (insertion-order) indices of its announced hack ops.
    """
    ops, outs, parts = stream.finalize()
    n_ops = len(ops["t"])
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
    addr_wallet = np.empty(cap_addr, np.int64)
    addr_chain = np.empty(cap_addr, np.int16)
    addr_wallet[:n_addr0] = world.addresses.column("wallet")
    addr_chain[:n_addr0] = world.addresses.column("chain")
    cap_out = int(ops["out_count"].sum() + may_change.sum() + 2 * n_parts + 16)
    utxo_outs = int(ops["out_count"][utxo_op].sum() + may_change.sum() + 2 * n_parts)
    cap_in = utxo_outs + int((~utxo_op).sum()) + 16
    cap_link = int((ops["link"] >= 0).sum() + 1)

    wallet_incident = world.wallets.column("incident").astype(np.int32)
    wallet_main = world.wallets.column("main")
    res = execute(
        ops["code"], ops["chain"], ops["asset"], ops["src"], ops["amount"], ops["fee_rate"],
        ops["change"], ops["hard"], ops["incident"], ops["link"], ops["link_kind"],
        ops["rate"], ops["aux"], ops["out_start"], ops["out_count"], ops["part_start"],
        ops["part_count"],
        outs["addr"], outs["wallet"], outs["value"], outs["incident"],
        parts["wallet"], parts["addr"],
        chain_model, asset_local, asset_native, asset_dust, n_local,
        addr_wallet, addr_chain, n_addr0, wallet_incident, wallet_main,
        max(world.wallets.n, 1),
        max(n_ops, 1), cap_in, cap_out, cap_link,
    )
    (status, bad_op, ntx, nin, nout, nlink, naddr,
     tx_op, tx_fee, tx_nin, tx_nout,
     in_tx, in_idx, in_addr, in_amount, in_spent,
     o_tx, o_idx, o_addr, o_amount, o_inc,
     l_kind, l_in, l_out, l_inc, l_ain, l_aout, realized, op_tx) = res
    if status != OK:
        _raise_status(status, bad_op, ops, world)

    tx_op = tx_op[:ntx]
    # Keep only what the tables need from the ops, then let the ops go (memory).
    txf = {k: ops[k][tx_op] for k in ("chain", "asset", "t", "fee_rate", "code", "stage",
                                      "incident", "typology", "memo")}
    seed_rows = []
    for inc, idx in sorted((seed_ops or {}).items()):
        txs = op_tx[stream.position(np.asarray(idx, np.int64))]
        seed_rows += [(inc, int(t)) for t in txs if t >= 0]
    del ops, outs, parts, res, realized, op_tx
    stream.release()
    in_sl, out_sl, l_sl = slice(0, nin), slice(0, nout), slice(0, nlink)
    chain = txf["chain"]
    asset = txf["asset"]
    ts = txf["t"]
    interval = np.array([c.block_interval for c in world.chains], np.int64)
    block = (ts - world.t0) // interval[chain]

    # Public address ids are a random permutation: they carry no information.
    perm = rng.permutation(naddr).astype(np.int64)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(naddr)
    spent = in_spent[in_sl]
    has_prev = spent >= 0
    prev_tx = np.where(has_prev, o_tx[np.where(has_prev, spent, 0)], -1)
    prev_idx = np.where(has_prev, o_idx[np.where(has_prev, spent, 0)], -1)

    tables: dict[str, dict] = {}
    tables["chains"] = {
        "chain_id": np.arange(len(world.chains)),
        "name": np.array([c.name for c in world.chains], object),
        "model": chain_model,
        "block_interval": interval,
    }
    tables["assets"] = {
        "asset_id": np.arange(len(world.assets)),
        "symbol": np.array([a.symbol for a in world.assets], object),
        "chain_id": np.array([world.chain_id(a.chain) for a in world.assets]),
        "decimals": np.array([a.decimals for a in world.assets]),
        "usd_price": np.array([a.usd_price for a in world.assets]),
    }
    tables["transactions"] = {
        "tx_id": np.arange(ntx), "chain_id": chain, "asset_id": asset, "timestamp": ts,
        "block_height": block, "fee": tx_fee[:ntx], "fee_rate": txf["fee_rate"],
        "n_inputs": tx_nin[:ntx], "n_outputs": tx_nout[:ntx],
        "is_issuance": txf["code"] == OP_ISSUE, "memo": txf["memo"],
    }
    tables["inputs"] = {
        "tx_id": in_tx[in_sl], "index": in_idx[in_sl], "address_id": perm[in_addr[in_sl]],
        "asset_id": asset[in_tx[in_sl]], "amount": in_amount[in_sl],
        "spent_output_id": spent, "prev_tx_id": prev_tx, "prev_index": prev_idx,
    }
    tables["outputs"] = {
        "output_id": np.arange(nout), "tx_id": o_tx[out_sl], "index": o_idx[out_sl],
        "address_id": perm[o_addr[out_sl]], "asset_id": asset[o_tx[out_sl]],
        "amount": o_amount[out_sl],
    }

    # addresses (internal order first, then permuted)
    aw = addr_wallet[:naddr]
    w_entity = world.wallets.column("entity")
    e_kind = world.entities.column("kind")
    e_name = world.entities.column("name")
    a_entity = w_entity[aw]
    a_kind = e_kind[a_entity]
    service = np.zeros(naddr, np.int8)
    for ek, sk in SERVICE_OF_ENTITY.items():
        service[a_kind == ek] = sk
    attributed = rng.random(naddr) < world.wallets.column("attribution")[aw]
    service = np.where(attributed, service, ServiceKind.NONE).astype(np.int8)
    names = np.where(service != ServiceKind.NONE, e_name[a_entity], None)
    tables["addresses"] = {
        "address_id": np.arange(naddr), "chain_id": addr_chain[:naddr][inv],
        "service_kind": service[inv], "service_name": names[inv],
    }

    # truth
    role = world.wallets.column("role")[aw].copy()
    a_inc = world.wallets.column("incident")[aw].astype(np.int32).copy()
    op_stage = txf["stage"]
    tx_inc = txf["incident"]
    # benign wallets at cash-out services that receive integration outputs become CASHOUT
    o_a = o_addr[out_sl]
    integ = (op_stage[o_tx[out_sl]] == Stage.INTEGRATION) & (o_inc[out_sl] >= 0)
    recv = o_a[integ]
    is_cash = (a_inc[recv] < 0) & np.isin(a_kind[recv], [int(k) for k in CASHOUT_KINDS])
    role[recv[is_cash]] = Role.CASHOUT
    a_inc[recv[is_cash]] = o_inc[out_sl][integ][is_cash]
    for addr, (r, inc) in world.role_overrides.items():
        role[addr] = r
        a_inc[addr] = inc
    tables["entities"] = {
        "entity_id": np.arange(world.entities.n), "kind": e_kind, "name": e_name,
    }
    tables["address_truth"] = {
        "address_id": np.arange(naddr), "entity_id": a_entity[inv], "role": role[inv],
        "incident_id": a_inc[inv],
    }
    tables["tx_truth"] = {
        "tx_id": np.arange(ntx), "incident_id": tx_inc, "stage": op_stage,
        "typology": txf["typology"],
    }
    tainted = np.flatnonzero(o_inc[out_sl] >= 0)
    tables["taint"] = {
        "output_id": tainted, "incident_id": o_inc[tainted], "amount": o_amount[tainted],
    }
    tables["links"] = {
        "kind": l_kind[l_sl], "in_tx_id": l_in[l_sl], "out_tx_id": l_out[l_sl],
        "incident_id": l_inc[l_sl], "amount_in": l_ain[l_sl], "amount_out": l_aout[l_sl],
    }
    tables["seeds"] = {
        "incident_id": np.array([r[0] for r in seed_rows], np.int32),
        "tx_id": np.array([r[1] for r in seed_rows], np.int64),
    }
    meta = dict(meta)
    meta.setdefault("generator_version", __version__)
    meta["schema_version"] = SCHEMA_VERSION
    meta["t0"] = world.t0
    meta["counts"] = {"transactions": int(ntx), "inputs": int(nin), "outputs": int(nout),
                      "addresses": int(naddr), "ops": int(n_ops),
                      "skipped_ops": int(n_ops - ntx)}
    return Dataset(tables, meta)


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
