"""A small hand-built laundering ledger with known truth, for tests and the ``quick`` suite.

:func:`toy_laundering` writes, with :class:`launderbench.simulator.toy.ToyLedger`, random benign payments
on two account chains (users, an exchange with deposit addresses, a mixer used by benign users
too) and ``n_incidents`` thefts spread over the time line. Each theft is announced (a seed),
fans out to splitters, hops through intermediaries, and either cashes out through exchange
deposit addresses (integration) or goes through the mixer (hidden links) to fresh recipients
who then cash out. Every laundering transaction carries its stage and typology, every output
its taint, every mixer pass its link, so every task and metric has a known answer.

It is registered as the data source ``toy-laundering-v1`` (see :mod:`launderbench.benchmarks.suites`).
"""

from __future__ import annotations

import heapq

import numpy as np

from launderbench.simulator.schema import DAY, HOUR, LinkKind, Role, ServiceKind, Stage, Typology
from launderbench.simulator.toy import ToyLedger


def toy_laundering(seed: int = 0, transactions: int = 1500, n_incidents: int = 5,
                   days: int = 30, users: int = 120):
    """Build the toy laundering dataset (deterministic in ``seed``).

    Parameters
    ----------
    seed : int
    transactions : int, approximate number of benign transactions
    n_incidents : int, thefts, spread evenly over the time line
    days : int, time span
    users : int, benign users per chain
    """
    rng = np.random.default_rng(seed)
    led = ToyLedger()
    chains = [("ethereum", "ETH", 10**9), ("tron", "TRX", 10**6)]
    sim = _Sim(led, rng)
    for chain, asset, unit in chains:
        us = [led.address(chain) for _ in range(users)]
        hot = led.address(chain, service=ServiceKind.EXCHANGE, name=f"exchange-{chain}")
        hot_ent = led._addr[hot][3]
        deposits = [led.address(chain, entity=hot_ent) for _ in range(max(users // 4, 1))]
        mixer = led.address(chain, service=ServiceKind.MIXER, name=f"mixer-{chain}")
        led.issue(0, [(hot, 5_000 * unit), (mixer, 2_000 * unit)], asset=asset)
        # users join over time: each is first funded (issuance) at a random moment
        bal = rng.lognormal(3.0, 1.2, size=users) * unit
        joined = np.sort(rng.integers(0, days * DAY, size=users))
        joined[: max(users // 5, 1)] = 0
        for u, b, tj in zip(us, bal, joined):
            sim.at(int(tj), "fund", chain, u, int(b))
        sim.state[chain] = {"users": us, "hot": hot, "deposits": deposits, "mixer": mixer,
                            "asset": asset, "unit": unit}

    # benign traffic: payments, exchange deposits (swept), withdrawals, mixer use
    times = np.sort(rng.integers(HOUR, days * DAY, size=int(transactions)))
    for t in times:
        chain = chains[int(rng.integers(len(chains)))][0]
        u = int(rng.integers(users))
        kind = rng.random()
        if kind < 0.75:
            sim.at(t, "pay", chain, u, int(rng.integers(users)), float(rng.uniform(0.05, 0.5)))
        elif kind < 0.9:
            sim.at(t, "deposit", chain, u, int(rng.integers(max(users // 4, 1))),
                   float(rng.uniform(0.1, 0.6)))
        elif kind < 0.97:
            sim.at(t, "withdraw", chain, u, float(rng.lognormal(1.0, 1.0)))
        else:
            sim.at(t, "mix", chain, u, int(rng.integers(users)), int(rng.integers(2 * HOUR, DAY)))

    # incidents, spread so that every split sees laundering
    for inc in range(n_incidents):
        chain = chains[inc % len(chains)][0]
        st = sim.state[chain]
        T = int((inc + 0.5) / n_incidents * days * DAY)
        stolen = int(rng.lognormal(3.5, 0.5) * st["unit"])
        victim = led.address(chain, role=Role.VICTIM, incident=inc)
        sim.at(max(T - int(rng.integers(DAY, 5 * DAY)), 0), "fund", chain, victim, stolen)
        sim.at(T, "theft", chain, inc, victim, stolen, int(rng.integers(3, 6)),
               int(rng.integers(1, 4)))
    sim.run()
    return led.build(meta={"scenario": "toy-laundering-v1", "seed": int(seed),
                           "params": {"transactions": transactions, "n_incidents": n_incidents,
                                      "days": days, "users": users}})


class _Sim:
    """Executes planned operations in time order; an operation may plan later ones."""

    def __init__(self, led, rng):
        self.led, self.rng = led, rng
        self.state: dict = {}
        self.heap: list = []
        self.seq = 0

    def at(self, t, *op):
        heapq.heappush(self.heap, (int(t), self.seq, op))
        self.seq += 1

    def run(self):
        while self.heap:
            t, _, op = heapq.heappop(self.heap)
            getattr(self, "_" + op[0])(t, *op[1:])

    def _bal(self, addr, asset):
        return self.led._bal.get((addr, self.led.world.asset_id(asset)), 0)

    # -- benign ------------------------------------------------------------------------------
    def _fund(self, t, chain, addr, amount):
        self.led.issue(t, [(addr, amount)], asset=self.state[chain]["asset"])

    def _pay(self, t, chain, i, j, frac):
        s = self.state[chain]
        src, dst = s["users"][i], s["users"][j]
        if self.rng.random() < 0.3:  # a payment to a fresh address (a new user or change)
            dst = self.led.address(chain)
            s["users"][j] = dst
        amt = int(self._bal(src, s["asset"]) * frac)
        if src != dst and amt > 0:
            self.led.transfer(t, src, dst, amt, asset=s["asset"])

    def _deposit(self, t, chain, i, d, frac):
        s = self.state[chain]
        src, dep = s["users"][i], s["deposits"][d]
        amt = int(self._bal(src, s["asset"]) * frac)
        if amt > 0:
            self.led.transfer(t, src, dep, amt, asset=s["asset"])
            self.at(t + 600, "sweep", chain, dep, amt, -1)

    def _sweep(self, t, chain, dep, amt, inc):
        """The exchange sweeps a deposit address into its hot wallet: the exchange's own
        bookkeeping, past the cash-out point, so neither tainted nor laundering (as in the
        generator: taint stops where the funds reach a cash-out service)."""
        s = self.state[chain]
        self.led.transfer(t, dep, s["hot"], amt, asset=s["asset"])

    def _withdraw(self, t, chain, i, units):
        s = self.state[chain]
        amt = int(units * s["unit"])
        if 0 < amt <= self._bal(s["hot"], s["asset"]):
            self.led.transfer(t, s["hot"], s["users"][i], amt, asset=s["asset"])

    def _mix(self, t, chain, i, j, delay):
        s = self.state[chain]
        src, amt = s["users"][i], s["unit"]
        if self._bal(src, s["asset"]) >= amt:
            tin, _ = self.led.transfer(t, src, s["mixer"], amt, asset=s["asset"])
            self.at(t + delay, "unmix", chain, tin, s["users"][j], amt, -1)

    def _unmix(self, t, chain, tin, dst, amt, inc):
        s = self.state[chain]
        out = amt - amt // 100
        truth = _truth(inc, Stage.LAYERING, Typology.MIXER_POOL)
        taint = {0: (inc, out)} if inc >= 0 else None
        tout, _ = self.led.transfer(t, s["mixer"], dst, out, asset=s["asset"], taint=taint,
                                    **truth)
        self.led.link(LinkKind.MIXER, tin, tout, incident=inc)
        if inc >= 0:  # the recipient cashes out a few hours later
            self.at(t + int(self.rng.integers(HOUR, 6 * HOUR)), "cashout", chain, dst, out, inc)

    # -- laundering ------------------------------------------------------------------------
    def _theft(self, t, chain, inc, victim, stolen, n_split, n_hops):
        s = self.state[chain]
        led = self.led
        thief = led.address(chain, role=Role.THIEF, incident=inc)
        tx, _ = led.transfer(t, victim, thief, stolen, asset=s["asset"],
                             taint={0: (inc, stolen)},
                             **_truth(inc, Stage.PLACEMENT, Typology.DRAIN))
        led.seed(inc, tx)
        self.at(t + 600, "fanout", chain, inc, thief, stolen, n_split, n_hops)

    def _fanout(self, t, chain, inc, thief, stolen, n_split, n_hops):
        s = self.state[chain]
        led = self.led
        splitters = [led.address(chain, role=Role.SPLITTER, incident=inc)
                     for _ in range(n_split)]
        part = stolen // n_split
        led.transfer(t, thief, [(a, part) for a in splitters], asset=s["asset"],
                     taint={k: (inc, part) for k in range(n_split)},
                     **_truth(inc, Stage.LAYERING, Typology.FAN_OUT))
        for k, a in enumerate(splitters):
            self.at(t + int(self.rng.integers(60, 600)), "hop", chain, inc, a, part, n_hops,
                    k % 2)

    def _hop(self, t, chain, inc, cur, amt, left, via_mixer):
        s = self.state[chain]
        led = self.led
        if left > 0:
            nxt = led.address(chain, role=Role.INTERMEDIARY, incident=inc)
            led.transfer(t, cur, nxt, amt, asset=s["asset"], taint={0: (inc, amt)},
                         **_truth(inc, Stage.LAYERING, Typology.HOP_CHAIN))
            self.at(t + int(self.rng.integers(60, 600)), "hop", chain, inc, nxt, amt, left - 1,
                    via_mixer)
        elif via_mixer:
            tin, _ = led.transfer(t, cur, s["mixer"], amt, asset=s["asset"],
                                  taint={0: (inc, amt)},
                                  **_truth(inc, Stage.LAYERING, Typology.MIXER_POOL))
            rcpt = led.address(chain, role=Role.MIXER_RECIPIENT, incident=inc)
            self.at(t + int(self.rng.integers(HOUR, 6 * HOUR)), "unmix", chain, tin, rcpt, amt,
                    inc)
        else:
            self._cashout(t, chain, cur, amt, inc)

    def _cashout(self, t, chain, src, amt, inc):
        s = self.state[chain]
        dep = self.led.address(chain, role=Role.CASHOUT, incident=inc)
        self.led.transfer(t, src, dep, amt, asset=s["asset"], taint={0: (inc, amt)},
                          **_truth(inc, Stage.INTEGRATION, Typology.EXCHANGE_DEPOSIT))
        self.at(t + 600, "sweep", chain, dep, amt, inc)


def _truth(inc, stage, typology) -> dict:
    if inc < 0:
        return {}
    return {"incident": int(inc), "stage": int(stage), "typology": int(typology)}


__all__ = ["toy_laundering"]
