"""Reference cases for the mixer detectors, each built from its source's own definition with
hand-computed answers.

* ``coinjoin``: BlockSci's ``isCoinjoin`` (Kalodner et al., USENIX Security 2020) and the
  Whirlpool, Wasabi 1.x and WabiSabi rules of Dumplings' ``Scanner.cs``.
* ``tornado-heuristics``: the linked-address and address-match heuristics of Wang et al.
  (WWW 2023) as Tutela implements them.
* ``custodial-flow``: the flow-through (amount and time) matching its docstring defines, after
  the amount/time correlation of Tironsakkul et al. ("Tracking mixed bitcoins", 2020).
"""

from __future__ import annotations

import pytest

from launderbench.detectors.mixers.coinjoin import CoinJoinDetector
from launderbench.detectors.mixers.custodial import CustodialFlow
from launderbench.detectors.mixers.tornado import TornadoHeuristics
from launderbench.simulator.schema import ServiceKind
from launderbench.simulator.toy import ToyLedger

BTC = 100_000_000
GWEI = 1_000_000_000
H = 3_600


class _Rounds:
    """UTXO transactions spending fresh coins, one call each."""

    def __init__(self):
        self.led = ToyLedger()
        self.t = 0
        self.ids = {}

    def tx(self, name, inputs, outputs, same_input_address=False):
        self.t += 600
        if same_input_address:
            a = self.led.address()
            coins = self.led.issue(self.t, [(a, v) for v in inputs])
        else:
            coins = self.led.issue(self.t, [(self.led.address(), v) for v in inputs])
        self.ids[name] = self.led.utxo_tx(self.t, coins,
                                          [(self.led.address(), v) for v in outputs])[0]

    def score(self, **params):
        view = self.led.build().observable()
        s = CoinJoinDetector(**params).fit(view).score(view)
        return {k: {r for r, tx in s.info.items() if v in tx.tolist()}
                for k, v in self.ids.items()}


def test_reference_blocksci_iscoinjoin():
    # p = (n_out + 1) // 2 participants; the most frequent output value must occur exactly p
    # times, p <= inputs and p <= distinct input addresses
    r = _Rounds()
    r.tx("three_of_five", [BTC] * 3, [BTC // 2] * 3 + [BTC // 3, BTC // 4])    # p = 3: yes
    r.tx("four_of_six", [BTC] * 3, [BTC // 4] * 4 + [BTC // 3, BTC // 5])      # p = 3, 4 equal
    r.tx("two_inputs", [BTC] * 2, [BTC // 4] * 3 + [BTC // 3, BTC // 5])       # p = 3 > 2
    r.tx("one_owner", [BTC] * 3, [BTC // 2] * 3 + [BTC // 3, BTC // 4], same_input_address=True)
    r.tx("dust", [BTC] * 2, [546, 546, BTC])                                   # p = 2, dust
    got = r.score(rules=("generic",))
    assert got == {"three_of_five": {"generic"}, "four_of_six": set(), "two_inputs": set(),
                   "one_owner": set(), "dust": set()}


def test_reference_dumplings_whirlpool_and_wasabi1():
    r = _Rounds()
    r.tx("whirlpool", [int(0.0502 * BTC)] * 5, [int(0.05 * BTC)] * 5)
    r.tx("five_in_six_out", [int(0.0502 * BTC)] * 5, [int(0.04 * BTC)] * 6)
    r.tx("wasabi_10", [int(0.11 * BTC)] * 10, [int(0.1 * BTC)] * 10)
    r.tx("wasabi_9", [int(0.11 * BTC)] * 10, [int(0.1 * BTC)] * 9)              # 9 equal
    r.tx("wasabi_few_inputs", [int(0.2 * BTC)] * 9, [int(0.1 * BTC)] * 10)      # 9 < 10
    got = r.score(rules=("whirlpool", "wasabi1"))
    assert got == {"whirlpool": {"whirlpool"}, "five_in_six_out": set(),
                   "wasabi_10": {"wasabi1"}, "wasabi_9": set(), "wasabi_few_inputs": set()}


def _wabisabi(n_inputs=50, n_std=9, swap_inputs=False, swap_outputs=False):
    """A WabiSabi-like round: ``n_inputs`` inputs and 10 outputs, both in descending order of
    value, ``n_std`` of the outputs at standard denominations."""
    ins = [int(0.03 * BTC) - 7 * k for k in range(n_inputs)]
    std = [5 * 10**7, 2 * 3**15, 2**24, 2**24, 3**14, 10**6, 2**19, 2**19, 3**8, 5_000]
    odd = [123_457, 7_001, 6_999, 6_997, 6_995]
    outs = sorted(std[:n_std] + odd[:10 - n_std], reverse=True)
    if swap_inputs:
        ins[3], ins[4] = ins[4], ins[3]
    if swap_outputs:
        outs[3], outs[4] = outs[4], outs[3]
    return ins, outs


def test_reference_dumplings_wabisabi():
    # Dumplings: at least 50 inputs, more than 80% of the outputs at a standard denomination,
    # inputs and outputs sorted by value, descending
    r = _Rounds()
    r.tx("round", *_wabisabi())                                       # 9 of 10 standard
    r.tx("49_inputs", *_wabisabi(n_inputs=49))
    r.tx("80_percent", *_wabisabi(n_std=8))                          # not more than 80%
    r.tx("inputs_unsorted", *_wabisabi(swap_inputs=True))
    r.tx("outputs_unsorted", *_wabisabi(swap_outputs=True))
    got = r.score(rules=("wasabi2",))
    assert got == {"round": {"wasabi2"}, "49_inputs": set(), "80_percent": set(),
                   "inputs_unsorted": set(), "outputs_unsorted": set()}
    # the secondary source's description accepts all five
    loose = r.score(rules=("wasabi2-loose",))
    assert all(v == {"wasabi2-loose"} for v in loose.values())


def _linked_ledger(to_r: int, to_d: int):
    """D deposits 1 ETH into a pool, R withdraws it a day later; before that, D pays R
    ``to_r`` times and R pays D ``to_d`` times."""
    led = ToyLedger()
    pool = led.address("ethereum", service=ServiceKind.MIXER, name="tornado-1eth")
    d, r, other = (led.address("ethereum") for _ in range(3))
    led.issue(0, [(d, 100 * GWEI), (r, 100 * GWEI), (other, 100 * GWEI)], asset="ETH")
    t = 10
    for _ in range(to_r):
        t += 10
        led.transfer(t, d, r, GWEI // 10)
    for _ in range(to_d):
        t += 10
        led.transfer(t, r, d, GWEI // 20)
    dep = led.transfer(1000, d, pool, GWEI)[0]
    led.transfer(1100, other, pool, GWEI)              # a second note: the denomination
    wd = led.transfer(90_000, pool, r, GWEI)[0]
    return led.build().observable(), dep, wd


@pytest.mark.parametrize("to_r,to_d,linked", [(3, 0, True), (0, 3, True), (2, 1, False),
                                              (2, 2, False)])
def test_reference_tutela_linked_addresses_count_one_direction(to_r, to_d, linked):
    # Tutela: at least 3 transactions from one address to the other; the two directions are
    # not added up
    view, dep, wd = _linked_ledger(to_r, to_d)
    s = TornadoHeuristics(heuristics=("linked",)).fit(view).score(view)
    got = {(int(a), int(b)): float(c) for a, b, c in zip(s.links["in_tx_id"],
                                                         s.links["out_tx_id"], s.links["score"])}
    assert got == ({(dep, wd): pytest.approx(0.8)} if linked else {})


def test_reference_tutela_address_match_needs_an_earlier_deposit():
    # address match: depositor == recipient, same pool, t_d < t_w (strictly)
    led = ToyLedger()
    pool = led.address("ethereum", service=ServiceKind.MIXER, name="tornado-1eth")
    u, v = led.address("ethereum"), led.address("ethereum")
    led.issue(0, [(u, 10 * GWEI), (v, 10 * GWEI)], asset="ETH")
    d1 = led.transfer(100, u, pool, GWEI)[0]
    led.transfer(200, v, pool, GWEI)
    w1 = led.transfer(300, pool, u, GWEI)[0]
    w2 = led.transfer(400, pool, v, GWEI)[0]
    d2 = led.transfer(400, v, pool, GWEI)[0]           # same second as its withdrawal
    view = led.build().observable()
    s = TornadoHeuristics(heuristics=("address",)).fit(view).score(view)
    got = set(zip(s.links["in_tx_id"].tolist(), s.links["out_tx_id"].tolist()))
    assert (d1, w1) in got and (d2, w2) not in got and len(got) == 2   # v's first deposit


def _custodial_ledger():
    led = ToyLedger()
    dep_addr = led.address(service=ServiceKind.MIXER, name="blender")
    reserve = led.address(service=ServiceKind.MIXER, name="blender")
    vault = led.address()                        # the reserve's unattributed change address
    u1, u2, r1, r2 = (led.address() for _ in range(4))
    c1, c2 = led.issue(0, [(u1, 2 * BTC), (u2, 3 * BTC)])
    (res,) = led.issue(0, [(reserve, 50 * BTC)])
    d1, _ = led.utxo_tx(100, [c1], [(dep_addr, BTC), (u1, BTC - 500)])
    d2, _ = led.utxo_tx(200, [c2], [(dep_addr, 2 * BTC), (u2, BTC - 500)])
    # payout of 0.97 BTC for d1 (3% fee); the change goes to the unattributed vault
    p1, (_, o_vault) = led.utxo_tx(3 * H, [res], [(r1, int(0.97 * BTC)),
                                                  (vault, int(49.03 * BTC) - 500)])
    # the vault funds the next payout together with an attributed reserve coin
    (res2,) = led.issue(4 * H, [(reserve, BTC)])
    p2, _ = led.utxo_tx(5 * H, [o_vault, res2], [(r2, int(1.95 * BTC)),
                                                 (vault, int(48.08 * BTC) - 1500)])
    return led.build().observable(), (d1, d2, p1, p2), (u1, u2, r1, r2, vault)


def test_reference_custodial_flow_leaves_the_reserve_change_out():
    # payout = deposit * (1 - fee) with fee in [0, 5%], within 3 days: d1 (1 BTC) -> p1
    # (0.97 BTC), d2 (2 BTC) -> p2 (1.95 BTC). The vault's change is the reserve's own and is
    # neither added to the payout nor scored.
    view, (d1, d2, p1, p2), (u1, u2, r1, r2, vault) = _custodial_ledger()
    for per_tx in (True, False):
        s = CustodialFlow(per_tx=per_tx).fit(view).score(view)
        got = {(int(a), int(b)): float(c) for a, b, c in zip(s.links["in_tx_id"],
                                                             s.links["out_tx_id"],
                                                             s.links["score"])}
        assert got == {(d1, p1): 1.0, (d2, p2): 1.0}, per_tx
        assert s.address[[u1, u2, r1, r2]].tolist() == [1.0, 1.0, 1.0, 1.0]
        assert s.address[vault] == 0


def test_reference_custodial_flow_fee_band_and_ambiguity():
    # two 1 BTC deposits and one 0.95 BTC payout: both deposits are candidates (the band is
    # inclusive at 5%), so the kept link scores 1 / (1 * 2) = 0.5; 0.9499 BTC fits neither
    led = ToyLedger()
    dep_addr = led.address(service=ServiceKind.MIXER, name="blender")
    reserve = led.address(service=ServiceKind.MIXER, name="blender")
    u1, u2, r1, r2 = (led.address() for _ in range(4))
    c1, c2 = led.issue(0, [(u1, 2 * BTC), (u2, 2 * BTC)])
    (res,) = led.issue(0, [(reserve, 50 * BTC)])
    d1, _ = led.utxo_tx(100, [c1], [(dep_addr, BTC), (u1, BTC - 500)])
    d2, _ = led.utxo_tx(200, [c2], [(dep_addr, BTC), (u2, BTC - 500)])
    p1, (_, res) = led.utxo_tx(H, [res], [(r1, int(0.95 * BTC)), (reserve, 49 * BTC)])
    led.utxo_tx(2 * H, [res], [(r2, int(0.9499 * BTC)), (reserve, 48 * BTC)])
    view = led.build().observable()
    s = CustodialFlow().fit(view).score(view)
    assert s.info["n_candidates"] == 2
    assert s.links["out_tx_id"].tolist() == [p1] and s.links["score"].tolist() == [0.5]
    assert s.links["in_tx_id"][0] in (d1, d2)
    assert s.address[r2] == 0
