"""Turn a world and its ops into a :class:`~launderbench.simulator.dataset.Dataset` via the kernel."""

from __future__ import annotations

import os
import shutil

import numpy as np

from . import kernel as kn
from .dataset import Dataset, Spool, Table
from .errors import ScenarioUnsatisfiable
from .kernel import ERR_CAPACITY, ERR_HARD_FUNDS, ERR_LINK, OK
from .ops import (
    _OP_FIELDS,
    _OUT_FIELDS,
    _PART_FIELDS,
    FRESH,
    OP_ISSUE,
    OP_LINKED,
    OP_PAY,
    SPILLED_BY_NAME,
    OpStream,
    SortedOps,
    release_free_memory,
)
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


#: ops per kernel shard by default: the kernel runs over this many ops at a time and their
#: rows go to the tables before the next shard runs (the output does not depend on it)
SHARD_OPS = 1 << 18

#: input rows a shard's buffer has room for beyond four per op; a shard stops early when an
#: op would overflow it, and the buffer grows when a single op needs more
_MIN_IN_ROWS = 8192

#: tables whose rows come out of the kernel shard by shard; the others are built at the end
SHARDED_TABLES = ("transactions", "inputs", "outputs", "taint", "tx_truth", "links")


def build(world: World, stream: OpStream, *, rng: np.random.Generator, meta: dict,
          seed_ops: dict[int, np.ndarray] | None = None, sink=None, horizon: int | None = None,
          shard_size: int | None = None):
    """Execute ``stream`` in ``world`` and assemble the dataset.

    ``seed_ops`` maps incident id to the (insertion-order) indices of its announced hack ops.
    Without ``sink`` the result is a :class:`Dataset`. With ``sink`` (a
    :class:`~launderbench.simulator.dataset.DatasetWriter`, or any callable taking a table
    name and a :class:`Table`) the rows of each kernel shard go to raw column files on disk
    and every table is handed over once complete (a writer takes the large ones a row group
    at a time), and only the metadata is returned, so that large datasets never sit in memory
    whole. ``horizon`` (a timestamp) ends the observation window: ops from then on are not
    executed (see :meth:`~launderbench.simulator.ops.OpStream.finalize`).

    ``shard_size`` (ops per kernel call; default :data:`SHARD_OPS`, 0 for one call over all
    ops) changes memory use, never the output: the kernel carries its state from one shard
    to the next, and the tables are the same row for row.
    """
    spill = str(make_temp_dir("launderbench-ops-"))
    try:
        final = stream.finalize(horizon, spill=spill)
        if isinstance(final, SortedOps):  # the planned ops went to disk and were sorted there
            source = _OpsOnDisk(final)
        else:
            ops, outs, parts = final
            del final
            # The kernel never reads these columns: they wait on disk while it runs
            # (out-of-core), and come back shard by shard for the ops that became
            # transactions.
            for key in SPILLED_BY_NAME:
                np.save(os.path.join(spill, key + ".npy"), ops.pop(key))
            release_free_memory()
            source = _OpsInMemory(ops, outs, parts)
            del ops, outs, parts
        return _build(world, stream, source, spill, rng=rng, meta=meta,
                      seed_ops=seed_ops, sink=sink, shard_size=shard_size)
    finally:
        shutil.rmtree(spill, ignore_errors=True)


class _OpsInMemory:
    """The time-ordered ops as columns in memory (what the kernel's set-up reads)."""

    def __init__(self, ops, outs, parts):
        self.cols = {"op": ops, "out": outs, "part": parts}
        self.n_ops = len(ops["code"])
        self.n_parts = len(parts["wallet"])

    def column(self, kind: str, key: str) -> np.ndarray:
        return self.cols[kind][key]

    def shards(self, step: int):
        """``(first op, ops, outs, parts)`` per shard; each shard's columns are dropped
        here once handed over (the columns are cut into shards first, see :func:`_split`)."""
        cols = self.cols
        self.cols = None
        shards = _split(cols["op"], cols["out"], cols["part"], step)
        del cols
        shards.reverse()
        while shards:
            yield shards.pop()


class _OpsOnDisk:
    """The time-ordered ops in ``.npy`` files (:class:`~launderbench.simulator.ops.SortedOps`):
    whole columns are read only for the kernel's set-up, one at a time, and each shard's rows
    when it runs."""

    def __init__(self, sorted_ops: SortedOps):
        self.ops = sorted_ops
        self.n_ops, self.n_parts = sorted_ops.n_ops, sorted_ops.n_parts

    def column(self, kind: str, key: str) -> np.ndarray:
        return self.ops.column(kind, key)

    def shards(self, step: int):
        n = self.n_ops
        if n == 0:
            return
        starts = np.arange(0, n, step, dtype=np.int64)
        cuts = {"op": np.append(starts, n),
                "out": _row_cuts(self.ops.column("op", "out_count"), starts),
                "part": _row_cuts(self.ops.column("op", "part_count"), starts)}
        fields = {"op": [k for k in _OP_FIELDS if k not in SPILLED_BY_NAME and k != "amount"],
                  "out": list(_OUT_FIELDS), "part": [*_PART_FIELDS, "denom"]}
        for j, a in enumerate(starts):
            yield (int(a), *({k: self.ops.rows(kind, k, cuts[kind][j], cuts[kind][j + 1])
                              for k in fields[kind]} for kind in ("op", "out", "part")))


def _unspill(spill: str, key: str, rows: np.ndarray) -> np.ndarray:
    """The spilled op column ``key`` at ``rows`` (the mapping is closed right after)."""
    col = np.load(os.path.join(spill, key + ".npy"), mmap_mode="r")
    out = np.asarray(col[rows])
    del col
    return out


def _build(world, stream, source, spill, *, rng, meta, seed_ops, sink, shard_size):
    n_ops = source.n_ops
    chain_model, asset_local, asset_native, asset_dust, n_local = _static_tables(world)

    n_addr0 = world.addresses.n
    # Exact upper bounds: change (and a fresh change address) only on UTXO PAY/LINKED ops,
    # one input per account op, at most every UTXO output spent once. Whole columns are
    # read one at a time (from disk when the ops are there).
    utxo_op = chain_model[source.column("op", "chain")] == 0
    code = source.column("op", "code")
    may_change = utxo_op & ((code == OP_PAY) | (code == OP_LINKED))
    del code
    n_parts = source.n_parts
    out_addr = source.column("out", "addr")
    n_fresh = int((may_change & (source.column("op", "change") == FRESH)).sum()
                  + (out_addr == FRESH).sum() + 2 * n_parts)
    cap_addr = n_addr0 + n_fresh + 8192
    addr_wallet = np.empty(cap_addr, np.int32)
    addr_chain = np.empty(cap_addr, np.int16)
    addr_wallet[:n_addr0] = world.addresses.column("wallet")
    addr_chain[:n_addr0] = world.addresses.column("chain")
    # account balances are kept for account-chain addresses only (a row each)
    addr_slot = np.full(cap_addr, -1, np.int32)
    acct0 = np.flatnonzero(chain_model[addr_chain[:n_addr0]] == 1)
    addr_slot[acct0] = np.arange(len(acct0), dtype=np.int32)
    out_count = source.column("op", "out_count")
    acct_op_out = np.repeat(~utxo_op, out_count)
    cap_slot = len(acct0) + int((acct_op_out & (out_addr == FRESH)).sum()) + 8192
    del acct_op_out, out_addr
    cap_out = int(out_count.sum() + may_change.sum() + 2 * n_parts + 16)
    cap_in = int(out_count[utxo_op].sum() + may_change.sum() + 2 * n_parts
                 + (~utxo_op).sum() + 16)
    del utxo_op, may_change, out_count
    # ops that LINKED ops refer to get a slot for the amount they realise and the transaction
    # they become, and so do the announced thefts (for the seeds table)
    link = source.column("op", "link")
    seed_pos = {inc: stream.position(np.asarray(idx, np.int64))
                for inc, idx in sorted((seed_ops or {}).items())}
    # sorted distinct positions; a sort, since numpy 2.4's plain np.unique hashes and is many
    # times slower on millions of mostly distinct ids
    targets = np.sort(np.concatenate(
        [link[link >= 0], *(p[p >= 0] for p in seed_pos.values())]).astype(np.int64))
    targets = targets[np.r_[True, targets[1:] != targets[:-1]]] if len(targets) else targets
    del link
    rslot = np.full(n_ops, -1, np.int32)
    rslot[targets] = np.arange(len(targets), dtype=np.int32)

    wallet_incident = world.wallets.column("incident").astype(np.int32)
    wallet_main = world.wallets.column("main")
    n_wallets = max(world.wallets.n, 1)
    wallet_lifo = np.zeros(n_wallets, np.bool_)
    wallet_lifo[:world.wallets.n] = world.wallets.column("lifo")
    step = n_ops if not shard_size else max(int(shard_size), 1)
    shards = source.shards(max(step, 1))  # each shard's columns go once it ran
    del source
    # the kernel's state, carried from shard to shard
    st = {
        "w_head": np.full(n_wallets, -1, np.int32), "w_tail": np.full(n_wallets, -1, np.int32),
        "w_bal": np.zeros(n_wallets, np.int64), "bal": np.zeros((cap_slot, n_local), np.int64),
        "o_next": np.full(cap_out, -1, np.int32), "o_amount": np.empty(cap_out, np.int64),
        "o_addr": np.empty(cap_out, np.int32), "o_tx": np.empty(cap_out, np.int32),
        "o_idx": np.empty(cap_out, np.int32), "realized": np.zeros(len(targets) + 1, np.int64),
        "slot_tx": np.full(len(targets) + 1, -1, np.int32),
        "ctr": np.zeros(kn.N_CTR, np.int64),
    }
    del targets
    ctr = st["ctr"]
    ctr[kn.C_NADDR] = n_addr0
    ctr[kn.C_NSLOT] = len(acct0)
    ctr[kn.C_CAPTX] = max(n_ops, 1)
    spools = {name: Spool(name, spill if sink is not None else None) for name in SHARDED_TABLES}
    rows = _ShardRows(world, spill, st, spools, cap_addr)
    cap_in_shard = 0
    for op0, ops, outs, parts in shards:
        n_c = len(ops["code"])
        ctr[kn.C_OP0] = op0
        ctr[kn.C_OUT] = 0  # cursors into this shard's outputs and participants
        ctr[kn.C_PART] = 0
        i = 0
        while i < n_c:  # more than once when a call stops early for room
            n = n_c - i
            cap_in_shard = min(cap_in, max(cap_in_shard, 4 * n + _MIN_IN_ROWS))
            cap_o = int(ops["out_count"][i:].sum() + n + 2 * ops["part_count"][i:].sum() + 2)
            cap_l = int((ops["link"][i:] >= 0).sum() + 1)
            buf = {
                "tx_op": np.empty(n, np.int32), "tx_fee": np.empty(n, np.int64),
                "tx_nin": np.empty(n, np.int32), "tx_nout": np.empty(n, np.int32),
                "in_tx": np.empty(cap_in_shard, np.int32),
                "in_idx": np.empty(cap_in_shard, np.int32),
                "in_addr": np.empty(cap_in_shard, np.int32),
                "in_amount": np.empty(cap_in_shard, np.int64),
                "in_spent": np.empty(cap_in_shard, np.int32), "o_inc": np.empty(cap_o, np.int32),
                "l_kind": np.empty(cap_l, np.int8), "l_in": np.empty(cap_l, np.int64),
                "l_out": np.empty(cap_l, np.int64), "l_inc": np.empty(cap_l, np.int32),
                "l_ain": np.empty(cap_l, np.int64), "l_aout": np.empty(cap_l, np.int64),
            }
            for base, count in ((kn.C_TX0, kn.C_NTX), (kn.C_IN0, kn.C_NIN),
                                (kn.C_OUT0, kn.C_NOUT), (kn.C_LINK0, kn.C_NLINK)):
                ctr[base] = ctr[count]
            kn.execute(
                i, n_c, ops["code"], ops["chain"], ops["asset"], ops["src"], ops["fee_rate"],
                ops["change"], ops["hard"], ops["incident"], ops["link"], ops["link_kind"],
                ops["rate"], ops["aux"], ops["out_count"], ops["part_count"], rslot,
                outs["addr"], outs["wallet"], outs["value"], outs["incident"],
                parts["wallet"], parts["addr"], parts["denom"],
                chain_model, asset_local, asset_native, asset_dust,
                addr_wallet, addr_chain, wallet_incident, wallet_main, wallet_lifo, addr_slot,
                st["w_head"], st["w_tail"], st["w_bal"], st["bal"], st["o_next"],
                st["o_amount"], st["o_addr"], st["o_tx"], st["o_idx"], st["realized"],
                st["slot_tx"], ctr, *buf.values(),
            )
            if ctr[kn.C_STATUS] != OK:
                bad = int(ctr[kn.C_BAD])
                typology = np.load(os.path.join(spill, "typology.npy"), mmap_mode="r")
                at = {"incident": ops["incident"][[bad - op0]],
                      "asset": ops["asset"][[bad - op0]], "typology": typology[[bad]]}
                _raise_status(int(ctr[kn.C_STATUS]), 0, at, world)
            rows.add(buf, ops, op0)
            del buf
            nxt = int(ctr[kn.C_NEXT])
            if nxt == i:  # one op's inputs did not fit an empty buffer: room for more
                cap_in_shard *= 2
            i = nxt
        del ops, outs, parts
        release_free_memory()

    ntx, nin, nout, nlink, naddr = (int(ctr[c]) for c in (
        kn.C_NTX, kn.C_NIN, kn.C_NOUT, kn.C_NLINK, kn.C_NADDR))
    seed_rows = []
    for inc, pos in seed_pos.items():
        # a hack op past the horizon was never announced, one that was skipped never ran
        txs = st["slot_tx"][rslot[pos[pos >= 0]]]
        seed_rows += [(inc, int(t)) for t in txs if t >= 0]
    cash = rows.cashout()
    del rslot, st, rows
    stream.release()  # the stream cached the op arrays: now nothing holds them
    release_free_memory()
    meta = dict(meta)
    meta.setdefault("generator_version", GENERATOR_VERSION)
    meta["schema_version"] = SCHEMA_VERSION
    meta["t0"] = world.t0
    meta["counts"] = {"transactions": ntx, "inputs": nin, "outputs": nout,
                      "addresses": naddr, "ops": int(n_ops), "skipped_ops": int(n_ops - ntx)}
    aw, ac = addr_wallet[:naddr].copy(), addr_chain[:naddr].copy()
    del addr_wallet, addr_chain, addr_slot
    release_free_memory()
    perm = rng.permutation(naddr).astype(np.int64, copy=False)
    remap = {"address_id": perm}
    finals = _final_tables(world, aw, ac, perm, cash, seed_rows, chain_model, rng)
    del cash, aw, ac  # the generator holds them, and frees what it no longer needs
    if sink is None:
        tables = {name: spools[name].table(remap) for name in SHARDED_TABLES}
        tables.update((name, Table(name, cols)) for name, cols in finals)
        return Dataset(tables, meta)
    write_spool = getattr(sink, "write_spool", None)
    for name in SHARDED_TABLES:
        if write_spool is not None:
            write_spool(name, spools[name], remap)
        else:
            sink(name, spools[name].table(remap))
        release_free_memory()
    for name, cols in finals:
        sink(name, Table(name, cols))
        del cols  # before the next table is built
    return meta


def _row_cuts(counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Where each shard's rows (outputs or participants, ``counts`` per op) begin, and the
    end: shards start at the ops ``starts``."""
    per = np.add.reduceat(counts.astype(np.int64), starts)
    return np.concatenate([[0], np.cumsum(per)])


def _split(ops: dict, outs: dict, parts: dict, step: int) -> list:
    """The op columns (and their outputs' and participants' rows) cut into shards of ``step``
    ops: ``[(first op, ops, outs, parts), ...]``. The columns are taken out of the given
    dicts one at a time, so that the peak is one column more than the ops."""
    n = len(ops["code"])
    if n == 0:
        return []
    starts = np.arange(0, n, step, dtype=np.int64)
    if len(starts) == 1:
        return [(0, *({k: cols.pop(k) for k in list(cols)} for cols in (ops, outs, parts)))]

    cuts = (np.append(starts, n), _row_cuts(ops["out_count"], starts),
            _row_cuts(ops["part_count"], starts))
    shards = [(int(a), {}, {}, {}) for a in starts]
    for which, (cols, cut) in enumerate(zip((ops, outs, parts), cuts, strict=True)):
        for k in list(cols):
            col = cols.pop(k)
            for j, shard in enumerate(shards):
                shard[1 + which][k] = col[cut[j]:cut[j + 1]].copy()
            del col
            release_free_memory()
    return shards


class _ShardRows:
    """Turns each kernel shard's rows into rows of the sharded tables (kernel ids for
    addresses: the public ids are drawn once every address exists), and keeps what the
    address truth needs from the outputs."""

    def __init__(self, world, spill, st, spools, cap_addr):
        self.world, self.spill, self.st, self.spools = world, spill, st, spools
        self.interval = np.array([c.block_interval for c in world.chains], np.int64)
        self.clean_in = np.zeros(cap_addr, np.bool_)  # received an untainted output
        self.recv: list[np.ndarray] = []  # receivers of integration outputs, in order
        self.recv_inc: list[np.ndarray] = []

    def add(self, buf, ops, op0: int) -> None:
        """Take a call's rows (``buf``); ``ops`` are the columns of its shard, whose first
        op is op ``op0``."""
        ctr, st, sp = self.st["ctr"], self.st, self.spools
        t0, t1 = int(ctr[kn.C_TX0]), int(ctr[kn.C_NTX])
        a0, a1 = int(ctr[kn.C_IN0]), int(ctr[kn.C_NIN])
        b0, b1 = int(ctr[kn.C_OUT0]), int(ctr[kn.C_NOUT])
        nl = int(ctr[kn.C_NLINK] - ctr[kn.C_LINK0])
        top = buf["tx_op"][:t1 - t0]  # global op indices (for the spilled columns)
        here = top - op0  # the same ops in this shard's columns
        chain, asset = ops["chain"][here], ops["asset"][here]
        ts = _unspill(self.spill, "t", top)
        stage = _unspill(self.spill, "stage", top)
        sp["transactions"].append({
            "tx_id": np.arange(t0, t1), "chain_id": chain, "asset_id": asset, "timestamp": ts,
            "block_height": (ts - self.world.t0) // self.interval[chain],
            "fee": buf["tx_fee"][:t1 - t0], "fee_rate": ops["fee_rate"][here],
            "n_inputs": buf["tx_nin"][:t1 - t0], "n_outputs": buf["tx_nout"][:t1 - t0],
            "is_issuance": ops["code"][here] == OP_ISSUE,
            "memo": _unspill(self.spill, "memo", top),
        })
        in_tx, spent = buf["in_tx"][:a1 - a0], buf["in_spent"][:a1 - a0]
        has_prev = spent >= 0
        safe = np.where(has_prev, spent, 0)
        sp["inputs"].append({
            "tx_id": in_tx, "index": buf["in_idx"][:a1 - a0],
            "address_id": buf["in_addr"][:a1 - a0], "asset_id": asset[in_tx - t0],
            "amount": buf["in_amount"][:a1 - a0], "spent_output_id": spent,
            "prev_tx_id": np.where(has_prev, st["o_tx"][safe], -1),
            "prev_index": np.where(has_prev, st["o_idx"][safe], -1),
        })
        del in_tx, spent, has_prev, safe
        o_tx, o_addr = st["o_tx"][b0:b1], st["o_addr"][b0:b1]
        o_amount, o_inc = st["o_amount"][b0:b1], buf["o_inc"][:b1 - b0]
        # Addresses of cash-out services that receive integration outputs and nothing
        # untainted become CASHOUT (decided at the end, from these)
        integ = (stage[o_tx - t0] == Stage.INTEGRATION) & (o_inc >= 0)
        self.clean_in[o_addr[o_inc < 0]] = True
        self.recv.append(o_addr[integ])
        self.recv_inc.append(o_inc[integ])
        tainted = np.flatnonzero(o_inc >= 0)
        sp["taint"].append({"output_id": b0 + tainted, "incident_id": o_inc[tainted],
                            "amount": o_amount[tainted]})
        sp["outputs"].append({
            "output_id": np.arange(b0, b1), "tx_id": o_tx, "index": st["o_idx"][b0:b1],
            "address_id": o_addr, "asset_id": asset[o_tx - t0], "amount": o_amount,
        })
        sp["tx_truth"].append({
            "tx_id": np.arange(t0, t1), "incident_id": ops["incident"][here], "stage": stage,
            "typology": _unspill(self.spill, "typology", top),
        })
        sp["links"].append({
            "kind": buf["l_kind"][:nl], "in_tx_id": buf["l_in"][:nl],
            "out_tx_id": buf["l_out"][:nl], "incident_id": buf["l_inc"][:nl],
            "amount_in": buf["l_ain"][:nl], "amount_out": buf["l_aout"][:nl],
        })

    def cashout(self):
        """``(clean_in, recv, recv_inc)`` over every shard."""
        return (self.clean_in, np.concatenate([np.zeros(0, np.int64), *self.recv]),
                np.concatenate([np.zeros(0, np.int32), *self.recv_inc]))


#: uniform draws taken at a time for the addresses' attribution (the values do not depend on
#: it: a generator's doubles come one 64-bit draw each, in order)
_DRAW_CHUNK = 1 << 20


def _final_tables(world: World, aw, ac, perm, cash, seed_rows, chain_model, rng):
    """Yield ``(name, columns)`` of the tables built once every shard ran (addresses and
    their truth, the static tables, seeds). ``perm`` (drawn first from ``rng``) gives the
    public address ids: a random permutation, so they carry no information."""
    naddr = len(aw)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(naddr)
    interval = np.array([c.block_interval for c in world.chains], np.int64)
    yield "chains", {
        "chain_id": np.arange(len(world.chains)),
        "name": np.array([c.name for c in world.chains], object),
        "model": chain_model,
        "block_interval": interval,
    }
    yield "assets", {
        "asset_id": np.arange(len(world.assets)),
        "symbol": np.array([a.symbol for a in world.assets], object),
        "chain_id": np.array([world.chain_id(a.chain) for a in world.assets]),
        "decimals": np.array([a.decimals for a in world.assets]),
        "usd_price": np.array([a.usd_price for a in world.assets]),
    }
    w_entity = world.wallets.column("entity")
    e_kind = world.entities.column("kind")
    e_name = world.entities.column("name")
    a_entity = w_entity[aw]
    a_kind = e_kind[a_entity]
    role = world.wallets.column("role")[aw]
    a_inc = world.wallets.column("incident")[aw].astype(np.int32, copy=False)
    # Addresses of cash-out services that receive integration outputs and nothing untainted
    # (a deposit address the launderer uses alone) become CASHOUT; shared endpoints such as
    # a desk's or an escrow's public address, used by benign customers too, stay benign.
    clean_in, recv, recv_inc = cash
    is_cash = ((a_inc[recv] < 0) & ~clean_in[recv]
               & np.isin(a_kind[recv], [int(c) for c in CASHOUT_KINDS]))
    role[recv[is_cash]] = Role.CASHOUT
    a_inc[recv[is_cash]] = recv_inc[is_cash]
    for addr, (r, inc) in world.role_overrides.items():
        role[addr] = r
        a_inc[addr] = inc
    del recv, recv_inc, is_cash, clean_in, cash
    service = np.zeros(naddr, np.int8)
    for ek, sk in SERVICE_OF_ENTITY.items():
        service[a_kind == ek] = sk
    del a_kind
    # whether each address's service is publicly attributed: one uniform draw per address,
    # taken in pieces (the same draws as one call) to spare a float per address
    attribution = world.wallets.column("attribution")
    for a in range(0, naddr, _DRAW_CHUNK):
        b = min(a + _DRAW_CHUNK, naddr)
        service[a:b][rng.random(b - a) >= attribution[aw[a:b]]] = ServiceKind.NONE
    del aw
    service_pub = service[inv]
    del service
    names = np.full(naddr, None, dtype=object)
    named = np.flatnonzero(service_pub != ServiceKind.NONE)
    names[named] = e_name[a_entity[inv[named]]]
    del named
    yield "addresses", {
        "address_id": np.arange(naddr), "chain_id": ac[inv],
        "service_kind": service_pub, "service_name": names,
    }
    del names, service_pub, ac
    yield "address_truth", {
        "address_id": np.arange(naddr), "entity_id": a_entity[inv], "role": role[inv],
        "incident_id": a_inc[inv],
    }
    del a_entity, role, a_inc, inv
    yield "entities", {
        "entity_id": np.arange(world.entities.n), "kind": e_kind, "name": e_name,
    }
    yield "seeds", {
        "incident_id": np.array([r[0] for r in seed_rows], np.int32),
        "tx_id": np.array([r[1] for r in seed_rows], np.int64),
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
