"""Hand-built ledgers with explicit ids, for teaching and for tests with known answers.

Unlike generated datasets, a :class:`ToyLedger` keeps address ids as given (no permutation)
and lets the caller write each transaction: UTXO transactions name the outputs they spend,
account transfers name sender and receiver. Every transaction is checked as it is added
(no double spend, no overspending, value conserved), so a toy ledger obeys the same invariants
as a generated one.

>>> from launderbench.simulator.toy import ToyLedger
>>> led = ToyLedger()
>>> a, b, c = led.address(), led.address(), led.address()
>>> (o,) = led.issue(0, [(a, 100_000)])
>>> tx, outs = led.utxo_tx(60, [o], [(b, 60_000), (c, 39_000)])     # fee 1,000
>>> ds = led.build()
>>> int(ds.transactions["fee"][tx])
1000
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .errors import ScenarioUnsatisfiable
from .ledger import _static_tables
from .schema import SERVICE_OF_ENTITY, EntityKind, LinkKind, Role, ServiceKind
from .world import World


class ToyLedger:
    """A small ledger written transaction by transaction."""

    def __init__(self, world: World | None = None, t0: int = 0):
        self.world = world or World()
        self.t0 = t0
        self._addr: list[tuple] = []  # (chain, service_kind, service_name, entity, role, inc)
        self._entities: list[tuple[int, str]] = []
        self._tx: list[dict] = []
        self._in: list[tuple] = []
        self._out: list[tuple] = []  # (tx, index, addr, asset, amount)
        self._spent: set[int] = set()
        self._bal: dict[tuple[int, int], int] = {}
        self._taint: list[tuple[int, int, int]] = []
        self._links: list[tuple] = []
        self._seeds: list[tuple[int, int]] = []

    # -- entities and addresses --------------------------------------------------------------
    def entity(self, kind: EntityKind = EntityKind.RETAIL, name: str = "") -> int:
        self._entities.append((int(kind), name))
        return len(self._entities) - 1

    def address(self, chain: str = "bitcoin", *, entity: int | None = None,
                service: ServiceKind | None = None, name: str | None = None,
                role: Role = Role.BENIGN, incident: int = -1) -> int:
        """A new address. ``service`` makes it publicly attributed (an exchange, a mixer...)."""
        if entity is None:
            kind = EntityKind.RETAIL
            if service is not None:
                kind = next(k for k, s in SERVICE_OF_ENTITY.items() if s == service)
            entity = self.entity(kind, name or "")
        self._addr.append((self.world.chain_id(chain), int(service or 0), name, entity,
                           int(role), incident))
        return len(self._addr) - 1

    # -- transactions --------------------------------------------------------------------------
    def _new_tx(self, t, chain, asset, fee, fee_rate, n_in, n_out, issuance, memo, truth):
        if self._tx and t < self._tx[-1]["timestamp"]:
            raise ValueError("transactions must be added in time order")
        interval = self.world.chains[chain].block_interval
        self._tx.append({
            "timestamp": t, "chain_id": chain, "asset_id": asset, "fee": fee,
            "fee_rate": fee_rate, "n_inputs": n_in, "n_outputs": n_out,
            "is_issuance": issuance, "memo": memo,
            "block_height": (t - self.t0) // interval,
            "incident": truth.get("incident", -1), "stage": truth.get("stage", 0),
            "typology": truth.get("typology", 0),
        })
        return len(self._tx) - 1

    def _emit_outputs(self, tx, asset, outputs, taint):
        ids = []
        for k, (addr, amount) in enumerate(outputs):
            if amount <= 0:
                raise ValueError("output amounts must be positive")
            oid = len(self._out)
            self._out.append((tx, k, addr, asset, int(amount)))
            ids.append(oid)
            if taint and k in taint:
                inc, amt = taint[k]
                self._taint.append((oid, inc, amt))
        return ids

    def issue(self, t: int, outputs: list[tuple[int, int]], asset: str = "BTC",
              taint: dict | None = None) -> list[int]:
        """New coins (coinbase / mint) to ``outputs`` = [(address, amount)]; returns output ids."""
        a = self.world.asset_id(asset)
        chain = self.world.asset_chain(a)
        tx = self._new_tx(t, chain, a, 0, 0, 0, len(outputs), True, -1, {})
        ids = self._emit_outputs(tx, a, outputs, taint)
        if not self.world.is_utxo(chain):
            for addr, amount in outputs:
                self._bal[(addr, a)] = self._bal.get((addr, a), 0) + amount
        return ids

    def utxo_tx(self, t: int, spend: list[int], outputs: list[tuple[int, int]], *,
                fee_rate: int = 1, memo: int = -1, taint: dict | None = None,
                incident: int = -1, stage: int = 0, typology: int = 0) -> tuple[int, list[int]]:
        """A UTXO transaction spending output ids ``spend``; the fee is what is left over.

        ``taint`` maps output position to (incident, amount) for the ground truth.
        """
        if not spend:
            raise ValueError("a UTXO transaction needs inputs")
        asset = self._out[spend[0]][3]
        chain = self.world.asset_chain(asset)
        total = 0
        for o in spend:
            if o in self._spent:
                raise ScenarioUnsatisfiable(f"output {o} is already spent")
            if self._out[o][3] != asset:
                raise ValueError("all inputs must be of one asset")
            total += self._out[o][4]
        paid = sum(a for _, a in outputs)
        if paid > total:
            raise ScenarioUnsatisfiable(f"outputs ({paid}) exceed inputs ({total})")
        tx = self._new_tx(t, chain, asset, total - paid, fee_rate, len(spend), len(outputs),
                          False, memo, {"incident": incident, "stage": stage,
                                        "typology": typology})
        for k, o in enumerate(spend):
            self._spent.add(o)
            otx, oidx, oaddr, _, oamt = self._out[o]
            self._in.append((tx, k, oaddr, asset, oamt, o, otx, oidx))
        return tx, self._emit_outputs(tx, asset, outputs, taint)

    def transfer(self, t: int, src: int, dst: int | list[tuple[int, int]], amount: int = 0, *,
                 asset: str = "ETH", fee: int = 0, fee_rate: int = 1, memo: int = -1,
                 taint: dict | None = None, incident: int = -1, stage: int = 0,
                 typology: int = 0) -> tuple[int, list[int]]:
        """An account-model transfer from ``src`` to ``dst`` (or to [(address, amount)])."""
        a = self.world.asset_id(asset)
        chain = self.world.asset_chain(a)
        outputs = dst if isinstance(dst, list) else [(dst, amount)]
        need = sum(x for _, x in outputs) + fee
        have = self._bal.get((src, a), 0)
        if need > have:
            raise ScenarioUnsatisfiable(f"address {src} holds {have} {asset}, needs {need}")
        self._bal[(src, a)] = have - need
        for addr, x in outputs:
            self._bal[(addr, a)] = self._bal.get((addr, a), 0) + x
        tx = self._new_tx(t, chain, a, fee, fee_rate, 1, len(outputs), False, memo,
                          {"incident": incident, "stage": stage, "typology": typology})
        self._in.append((tx, 0, src, a, need, -1, -1, -1))
        return tx, self._emit_outputs(tx, a, outputs, taint)

    def seed(self, incident: int, tx: int) -> None:
        """Announce ``tx`` as a hack transaction of ``incident`` (observable)."""
        self._seeds.append((incident, tx))

    def link(self, kind: LinkKind, in_tx: int, out_tx: int, incident: int = -1) -> None:
        """Record a hidden link (truth) between a service's in and out transactions."""
        ain = sum(x[4] for x in self._out if x[0] == in_tx)
        aout = sum(x[4] for x in self._out if x[0] == out_tx)
        self._links.append((int(kind), in_tx, out_tx, incident, ain, aout))

    # -- result ----------------------------------------------------------------------------
    def build(self, meta: dict | None = None) -> Dataset:
        w = self.world
        chain_model = _static_tables(w)[0]
        tx = {k: np.array([r[k] for r in self._tx], dtype=np.int64) for k in (
            "timestamp", "chain_id", "asset_id", "fee", "fee_rate", "n_inputs", "n_outputs",
            "block_height", "memo", "incident", "stage", "typology")}
        n_tx = len(self._tx)
        ins = np.array(self._in, dtype=np.int64).reshape(-1, 8)
        outs = np.array(self._out, dtype=np.int64).reshape(-1, 5)
        n_addr = len(self._addr)
        addr = self._addr
        tables = {
            "chains": {
                "chain_id": np.arange(len(w.chains)),
                "name": np.array([c.name for c in w.chains], object),
                "model": chain_model,
                "block_interval": np.array([c.block_interval for c in w.chains]),
            },
            "assets": {
                "asset_id": np.arange(len(w.assets)),
                "symbol": np.array([a.symbol for a in w.assets], object),
                "chain_id": np.array([w.chain_id(a.chain) for a in w.assets]),
                "decimals": np.array([a.decimals for a in w.assets]),
                "usd_price": np.array([a.usd_price for a in w.assets]),
            },
            "transactions": {
                "tx_id": np.arange(n_tx),
                **{k: tx[k] for k in ("chain_id", "asset_id", "timestamp", "block_height",
                                      "fee", "fee_rate", "n_inputs", "n_outputs", "memo")},
                "is_issuance": np.array([r["is_issuance"] for r in self._tx], bool),
            },
            "inputs": dict(zip(("tx_id", "index", "address_id", "asset_id", "amount",
                                "spent_output_id", "prev_tx_id", "prev_index"), ins.T)),
            "outputs": {"output_id": np.arange(len(outs)),
                        **dict(zip(("tx_id", "index", "address_id", "asset_id", "amount"),
                                   outs.T))},
            "addresses": {
                "address_id": np.arange(n_addr),
                "chain_id": np.array([a[0] for a in addr], np.int64),
                "service_kind": np.array([a[1] for a in addr], np.int64),
                "service_name": np.array([a[2] for a in addr], object),
            },
            "seeds": {"incident_id": np.array([s[0] for s in self._seeds], np.int64),
                      "tx_id": np.array([s[1] for s in self._seeds], np.int64)},
            "entities": {"entity_id": np.arange(len(self._entities)),
                         "kind": np.array([e[0] for e in self._entities], np.int64),
                         "name": np.array([e[1] for e in self._entities], object)},
            "address_truth": {
                "address_id": np.arange(n_addr),
                "entity_id": np.array([a[3] for a in addr], np.int64),
                "role": np.array([a[4] for a in addr], np.int64),
                "incident_id": np.array([a[5] for a in addr], np.int64),
            },
            "tx_truth": {"tx_id": np.arange(n_tx), "incident_id": tx["incident"],
                         "stage": tx["stage"], "typology": tx["typology"]},
            "taint": dict(zip(("output_id", "incident_id", "amount"),
                              np.array(self._taint, np.int64).reshape(-1, 3).T)),
            "links": dict(zip(("kind", "in_tx_id", "out_tx_id", "incident_id", "amount_in",
                               "amount_out"), np.array(self._links, np.int64).reshape(-1, 6).T)),
        }
        incidents = sorted({s[0] for s in self._seeds} | {a[5] for a in addr if a[5] >= 0})
        m = {"scenario": "toy", "seed": None, "t0": self.t0,
             "incidents": [{"incident_id": int(i)} for i in incidents]}
        m.update(meta or {})
        return Dataset(tables, m)
