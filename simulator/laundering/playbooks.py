"""Playbooks: blocks composed into a stage graph for one incident.

An incident is a drain followed by *steps*. Each step names a ``block`` and its parameters,
an optional ``id``, the step(s) it takes value ``from`` (default: the step before it; the
first step takes from ``"drain"``) and the ``share`` of that value it takes (default: all of
it, or an equal part of what the sibling steps leave). Shares taking from one step must sum
to at most 1; what is left stays in the attacker's wallets ("still held"). The graph must be
acyclic. Named playbooks (``playbook = "ronin-2022"``) expand to such step lists from a few
parameters; ``steps = [...]`` in the TOML gives the list explicitly.
"""

from __future__ import annotations

from . import aggregate, amlsim, bridge, dormancy, hops, integration, mixers, peel, split, swap

#: block name -> (function, parameter spec). Spec values: (lo, hi) numeric bounds with a
#: default (a number or an inclusive [lo, hi] range), a tuple of allowed strings, or the
#: names "bool", "str", "asset" (one asset symbol), "assets" (a symbol or a list of them).
BLOCKS: dict[str, tuple] = {
    "split": (split.split, split.PARAMS),
    "hops": (hops.hops, hops.PARAMS),
    "peel": (peel.peel, peel.PARAMS),
    "aggregate": (aggregate.aggregate, aggregate.PARAMS),
    "cascade": (aggregate.cascade, aggregate.CASCADE_PARAMS),
    "swap": (swap.swap, swap.PARAMS),
    "bridge": (bridge.bridge, bridge.PARAMS),
    "tornado": (mixers.tornado, mixers.TORNADO_PARAMS),
    "coinjoin": (mixers.coinjoin, mixers.COINJOIN_PARAMS),
    "custodial_mixer": (mixers.custodial, mixers.CUSTODIAL_PARAMS),
    "dormancy": (dormancy.dormancy, dormancy.PARAMS),
    "exchange_deposit": (integration.exchange_deposit, integration.DEPOSIT_PARAMS),
    "structuring": (integration.structuring, integration.STRUCT_PARAMS),
    "otc": (integration.otc, integration.OTC_PARAMS),
    "exchange_swap": (integration.exchange_swap, integration.EXSWAP_PARAMS),
    "marketplace": (integration.marketplace, integration.MARKET_PARAMS),
}
for _name, _fn in amlsim.BLOCKS.items():
    BLOCKS[_name] = (_fn, amlsim.PARAMS[_name])

#: blocks after which nothing is left to route (their value is integrated)
TERMINAL = {"exchange_deposit", "marketplace", "cascade"}


# ----------------------------------------------------------------------------- playbooks
# Each returns the incident defaults: victim, assets (USD shares), amount_usd (the reported,
# unscaled figure), n_drain, sources and steps. ``p`` holds the playbook parameters merged
# with the difficulty knobs (mixer_share, bridge_share, ...).

def dmm_bitcoin(p):
    cj = p.get("mixer_share", 0.5)
    rest = 1.0 - cj
    return dict(
        victim="exchange", assets={"BTC": 1.0}, amount_usd=305e6, n_drain=1,
        sources=["FBI/DC3/NPA statement on DMM Bitcoin, 23 Dec 2024",
                 "Elliptic and ZachXBT on Huione Guarantee, July 2024",
                 "FinCEN section 311 finding on Huione Group, May 2025"],
        steps=[
            {"id": "lookalike", "block": "hops", "length": 1, "delay_hours": [0.1, 0.5]},
            {"id": "fan", "block": "split", "n": 10},
            {"id": "mix", "block": "coinjoin", "from": "fan", "share": cj},
            {"id": "mix_agg", "block": "aggregate", "n": [3, 6]},
            {"id": "thor", "block": "bridge", "from": ["fan", "mix_agg"],
             "share": [rest * 0.6, 1.0], "to": "ETH", "via": "thorchain-like"},
            {"id": "avax", "block": "bridge", "from": "fan", "share": rest * 0.4, "to": "AVAX"},
            {"id": "eth_usdt", "block": "swap", "from": "thor", "to": "USDT"},
            {"id": "avax_usdt", "block": "swap", "from": "avax", "to": "USDT-AVAX"},
            {"id": "tron", "block": "bridge", "from": ["eth_usdt", "avax_usdt"],
             "to": ["USDT", "USDT-TRON"]},
            {"id": "wait", "block": "dormancy", "days": [40, 55], "move": False},
            {"id": "huione", "block": "marketplace"},
        ])


def ronin(p):
    mix = p.get("mixer_share", 0.95)
    return dict(
        victim="bridge", assets={"ETH": 0.96, "USDC": 0.04}, amount_usd=625e6, n_drain=1,
        sources=["FBI statement on the Ronin bridge theft, 14 Apr 2022",
                 "tayvano/lazarus-bluenoroff-research (Tornado Cash demix table)",
                 "Chainalysis 2022, North Korean hackers and the Ronin bridge",
                 "OFAC designation of Blender.io, 6 May 2022"],
        steps=[
            {"id": "usdc_eth", "block": "swap", "to": "ETH"},
            {"id": "cex_test", "block": "split", "from": "usdc_eth", "share": 0.036, "n": 5,
             "after_days": 5},
            {"id": "cex", "block": "exchange_deposit", "from": "cex_test", "share": 0.4},
            {"id": "huobi_btc", "block": "exchange_swap", "from": "cex_test", "share": 0.6,
             "to": "BTC", "exchanges": 1},
            {"id": "blender_test", "block": "custodial_mixer", "mixer": 0},
            {"id": "wait", "block": "dormancy", "from": "usdc_eth", "share": mix,
             "days": [10, 12], "move": False},
            {"id": "tc", "block": "tornado", "denomination": 100.0,
             "notes_per_depositor": [30, 55], "deposit_hours": [1.0, 5.0],
             "notes_per_withdrawer": [2, 9], "withdraw_hours": [1.0, 10.0]},
            {"id": "renbtc", "block": "swap", "from": "tc", "share": 0.65, "to": "WBTC"},
            {"id": "ren", "block": "bridge", "to": "BTC", "via": "wrapped-btc-bridge"},
            {"id": "blender", "block": "custodial_mixer", "from": "ren", "share": 0.3,
             "mixer": 0, "outputs": [2, 6]},
            {"id": "cex_btc", "block": "exchange_deposit",
             "from": ["ren", "blender", "blender_test"], "share": [0.7, 1.0, 1.0]},
            {"id": "cex_eth", "block": "exchange_deposit", "from": "tc", "share": 0.35},
        ])


def harmony(p):
    return dict(
        victim="bridge", assets={"ETH": 0.3, "USDC": 0.25, "USDT": 0.3, "WBTC": 0.15},
        amount_usd=100e6, n_drain=3,
        sources=["FBI statement on the Harmony Horizon bridge theft, 23 Jan 2023",
                 "Elliptic, Harmony's Horizon bridge hack (Tornado Cash and Railgun)"],
        steps=[
            {"id": "to_eth", "block": "swap", "to": "ETH", "delay_hours": [0.5, 6.0]},
            {"id": "second", "block": "hops", "length": 1, "delay_hours": [60.0, 72.0]},
            {"id": "three", "block": "split", "n": 3},
            {"id": "tc", "block": "tornado", "denomination": 100.0,
             "notes_per_depositor": [50, 70], "deposit_hours": [6.0, 8.0],
             "notes_per_withdrawer": [5, 6], "withdraw_hours": [1.0, 48.0]},
            {"id": "rest", "block": "dormancy", "days": [190, 205]},
            {"id": "wave1", "block": "aggregate", "from": "rest", "share": 0.7, "n": 1},
            {"id": "spray", "block": "split", "n": [300, 400]},
            {"id": "cex1", "block": "exchange_deposit", "exchanges": -1},
            {"id": "wave2", "block": "aggregate", "from": "rest", "share": 0.3, "n": 3},
            {"id": "cex2", "block": "exchange_deposit", "from": "wave2", "share": 0.5},
            {"id": "btc", "block": "bridge", "from": "wave2", "share": 0.5,
             "to": ["BTC", "AVAX"]},
            {"id": "usdt_avax", "block": "swap", "to": "USDT-AVAX"},
            {"id": "parked", "block": "bridge", "to": ["USDT", "USDT-TRON"]},
        ])


def alex_lab(p):
    return dict(
        victim="bridge", assets={"USDT": 0.75, "ETH": 0.18, "WBTC": 0.07}, amount_usd=38e6,
        n_drain=2,
        sources=["ALEX Lab post-mortem and updates, May-Dec 2024",
                 "tayvano/lazarus-bluenoroff-research (ALEX Lab / XLink)"],
        steps=[
            {"id": "eth", "block": "swap", "to": "ETH"},
            {"id": "changenow", "block": "hops", "from": "eth", "share": 0.3, "length": 2},
            {"id": "day8", "block": "dormancy", "days": [7, 8], "move": False},
            {"id": "tc", "block": "tornado", "denomination": 10.0,
             "notes_per_depositor": [10, 30], "notes_per_withdrawer": [2, 9]},
            {"id": "tc_usdt", "block": "swap", "to": "USDT"},
            {"id": "tc_tron", "block": "bridge", "to": "USDT-TRON"},
            {"id": "cex_sold", "block": "exchange_deposit", "from": "eth", "share": 0.2},
            {"id": "withdrawn", "block": "split", "from": "eth", "share": 0.5, "n": 22},
            {"id": "consolidators", "block": "aggregate", "n": 2},
            {"id": "rounds", "block": "hops", "length": 3, "delay_hours": [72.0, 240.0]},
            {"id": "dormant", "block": "dormancy", "days": [200, 215]},
            {"id": "tranches", "block": "split", "n": [5, 10]},
            {"id": "more_hops", "block": "hops", "length": [4, 5], "delay_hours": [0.5, 12.0]},
            {"id": "coinbase", "block": "exchange_deposit", "exchanges": 2},
        ])


def bybit(p):
    mix = p.get("mixer_share", 0.1)
    return dict(
        victim="exchange", assets={"ETH": 1.0}, amount_usd=1.46e9, n_drain=1,
        sources=["FBI PSA on TraderTraitor and Bybit, 26 Feb 2025",
                 "Ben Zhou (Bybit) fund-tracking updates, Mar-Apr 2025",
                 "Arkham, Nansen and Elliptic reports on the Bybit laundering"],
        steps=[
            {"id": "fan48", "block": "split", "n": 48},
            {"id": "thor", "block": "bridge", "from": "fan48", "share": 0.85, "to": "BTC",
             "via": "thorchain-like", "spread_days": 10},
            {"id": "okx_web3", "block": "otc", "from": "fan48", "share": 0.15, "desk": 1},
            {"id": "frag", "block": "split", "from": "thor", "n": [20, 40]},
            {"id": "wasabi", "block": "coinjoin", "from": "frag", "share": mix},
            {"id": "wasabi_agg", "block": "aggregate", "n": [5, 10]},
            {"id": "cryptomixer", "block": "custodial_mixer", "mixer": 1},
            {"id": "p2p", "block": "otc", "from": ["cryptomixer", "frag"],
             "share": [1.0, 0.5], "payout": True},
            {"id": "market", "block": "marketplace"},
        ])


def zaif(p):
    return dict(
        victim="exchange", assets={"BTC": 1.0}, amount_usd=60e6, n_drain=1,
        sources=["Tech Bureau (Zaif) disclosure, Sep 2018",
                 "Fisco lawsuit / BlockTrace analysis of Binance deposits under 2 BTC",
                 "tayvano/lazarus-bluenoroff-research (Zaif, ChipMixer tag)"],
        steps=[
            {"id": "structure", "block": "structuring", "share": 0.25, "limit_btc": 2.0,
             "exchange": 1, "per_mule": [40, 120]},
            {"id": "chipmixer", "block": "custodial_mixer", "from": "drain", "share": 0.5,
             "mixer": 1},
            {"id": "cex", "block": "exchange_deposit"},
        ])


def exchange_cascade(p):
    return dict(
        victim="exchange", assets={"ETH": 0.5, "USDT": 0.5}, amount_usd=50e6, n_drain=1,
        sources=["Chainalysis, Crypto Money Laundering in Japan: Global Problem, Local "
                 "Perspectives (Dec 2024)"],
        steps=[{"id": "cascade", "block": "cascade", "fan1": [3, 10], "fan2": [3, 10],
                "hops": [1, 3]}])


def generic_easy(p):
    return dict(
        victim="exchange", assets={p.get("asset", "BTC"): 1.0}, amount_usd=20e6, n_drain=1,
        sources=["Chainalysis 2022 laundering skeleton (docs/sources.md#chainalysis-laundering-skeleton)"],
        steps=[{"id": "fan", "block": "split", "n": [4, 10]},
               {"id": "hops", "block": "hops", "length": [1, 2]},
               {"id": "cex", "block": "exchange_deposit", "per_position": [1, 3]}])


def generic_medium(p):
    mix, br = p.get("mixer_share", 0.4), p.get("bridge_share", 0.3)
    return dict(
        victim="exchange", assets={"ETH": 0.7, "USDT": 0.3}, amount_usd=80e6, n_drain=1,
        sources=["Chainalysis 2022 laundering skeleton (docs/sources.md#chainalysis-laundering-skeleton)"],
        steps=[
            {"id": "fan", "block": "split", "n": [3, 6]},
            {"id": "hops", "block": "hops", "length": [2, 4]},
            {"id": "eth", "block": "swap", "to": "ETH"},
            {"id": "tc", "block": "tornado", "from": "eth", "share": mix,
             "denomination": 10.0, "notes_per_depositor": [10, 40]},
            {"id": "bridge", "block": "bridge", "from": "eth", "share": br, "to": "BTC"},
            {"id": "cex_btc", "block": "exchange_deposit"},
            {"id": "cex", "block": "exchange_deposit", "from": ["tc", "eth"],
             "share": [1.0, max(0.0, 1.0 - mix - br)]},
        ])


def generic_hard(p):
    mix, br = p.get("mixer_share", 0.5), p.get("bridge_share", 0.4)
    return dict(
        victim="exchange", assets={"ETH": 0.6, "USDC": 0.2, "BTC": 0.2}, amount_usd=200e6,
        n_drain=2,
        sources=["Chainalysis 2022 and 2025 laundering reports (docs/sources.md#chainalysis-laundering-skeleton, #aggregate-figures)",
                 "OFAC, Tian Yinyin and Li Jiadong (peel chains), March 2020"],
        steps=[
            {"id": "eth", "block": "swap", "to": "ETH", "assets": ["ETH", "USDC"]},
            {"id": "fan", "block": "split", "n": [8, 20]},
            {"id": "tc", "block": "tornado", "from": "fan", "share": mix,
             "denomination": 10.0, "notes_per_depositor": [10, 50]},
            {"id": "rest", "block": "dormancy", "days": [30, 120]},
            {"id": "thor", "block": "bridge", "from": ["rest", "fan"],
             "share": [1.0, br], "to": "BTC"},
            {"id": "cj", "block": "coinjoin", "from": ["thor", "drain"],
             "share": [0.5, 1.0], "assets": ["BTC"]},
            {"id": "cj_agg", "block": "aggregate", "n": [2, 4]},
            {"id": "blend", "block": "custodial_mixer", "from": ["cj_agg", "thor"],
             "share": [1.0, 0.5]},
            {"id": "peel", "block": "peel", "length": [20, 60]},
            {"id": "otc", "block": "otc", "payout": True},
            {"id": "tron", "block": "marketplace"},
        ])


def amlsim_pb(p):
    typ = p.get("typology", "fan_out")
    return dict(
        victim="exchange", assets={p.get("asset", "USDT"): 1.0}, amount_usd=25e6, n_drain=1,
        sources=["Altman et al. 2023, Realistic Synthetic Financial Transactions for AML "
                 "Models (AMLworld)", "IBM AMLSim (Suzumura and Kanezashi)"],
        steps=[{"id": typ, "block": typ}, {"id": "cex", "block": "exchange_deposit"}])


#: playbook name -> (expander, accepted parameters and their specs)
_SHARE = ((0.0, 1.0), 0.5)
PLAYBOOKS = {
    "dmm-bitcoin": (dmm_bitcoin, {"mixer_share": _SHARE}),
    "ronin": (ronin, {"mixer_share": _SHARE}),
    "harmony": (harmony, {}),
    "alex-lab": (alex_lab, {}),
    "bybit": (bybit, {"mixer_share": _SHARE}),
    "zaif": (zaif, {}),
    "exchange-cascade": (exchange_cascade, {}),
    "generic-easy": (generic_easy, {"asset": "asset"}),
    "generic-medium": (generic_medium, {"mixer_share": _SHARE, "bridge_share": _SHARE}),
    "generic-hard": (generic_hard, {"mixer_share": _SHARE, "bridge_share": _SHARE}),
    "amlsim": (amlsim_pb, {"typology": tuple(amlsim.BLOCKS), "asset": "asset"}),
}
