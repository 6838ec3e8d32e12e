"""The gallery (``docs/gallery/``): one drawing per laundering block and per preset, with a
short text on each stage, for lectures. Regenerate it with one command::

    .venv/bin/python -m launderbench.benchmarks.gallery docs/gallery

Block figures come from tiny scenarios (300 benign transactions, one incident running the
block, sometimes after a split so that there is something to gather); preset figures are the
first incident of each preset at 1,000 benign transactions, seed 0.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from launderbench.simulator.schema import Stage, Typology

from .draw import draw_incident

__all__ = ["BLOCK_EXAMPLES", "BLOCK_TEXT", "write_gallery"]

_AMLSIM = ("fan_out", "fan_in", "cycle", "bipartite", "stack", "scatter_gather",
           "gather_scatter", "random")
_SPLIT3 = {"block": "split", "n": 3}

#: block -> (stolen asset, steps of the one incident)
BLOCK_EXAMPLES: dict[str, tuple[str, list[dict]]] = {
    "split": ("BTC", [{"block": "split", "n": 6}]),
    "hops": ("BTC", [{"block": "hops", "length": 4}]),
    "peel": ("BTC", [{"block": "peel", "length": 10}]),
    "aggregate": ("BTC", [{"block": "split", "n": 5}, {"block": "aggregate"}]),
    "cascade": ("ETH", [{"block": "cascade"}]),
    "swap": ("USDC", [{"block": "swap"}, {"block": "hops", "length": 1}]),
    "bridge": ("BTC", [{"block": "bridge", "to": ["AVAX"]}, {"block": "hops", "length": 1}]),
    "tornado": ("ETH", [{"block": "tornado"}]),
    "coinjoin": ("BTC", [_SPLIT3, {"block": "coinjoin"}]),
    "custodial_mixer": ("BTC", [{"block": "custodial_mixer"}]),
    "dormancy": ("ETH", [{"block": "dormancy"}, {"block": "hops", "length": 1}]),
    "exchange_deposit": ("ETH", [_SPLIT3, {"block": "exchange_deposit"}]),
    "structuring": ("BTC", [{"block": "structuring"}]),
    "otc": ("ETH", [_SPLIT3, {"block": "otc"}]),
    "exchange_swap": ("ETH", [_SPLIT3, {"block": "exchange_swap"}]),
    "marketplace": ("USDT-TRON", [_SPLIT3, {"block": "marketplace"}]),
    **{name: ("USDT", [{"block": name}]) for name in _AMLSIM},
}

#: block -> (what it is and where the presets use it, what a detector sees on chain)
BLOCK_TEXT: dict[str, tuple[str, str]] = {
    "split": ("The stolen funds are split over fresh wallets in one or a few transactions; "
              "every preset starts this way.",
              "One address paying many new addresses at once, all funded from the theft: "
              "trivial to follow, it only multiplies the paths."),
    "hops": ("Funds pass through a chain of fresh intermediary wallets, one transfer each.",
             "Short-lived addresses that receive once and send everything on; tracing follows "
             "them, only the number of hops grows."),
    "peel": ("A peel chain: each hop sends a small amount out (to an exchange or a "
             "recipient) and the large change on to the next fresh address.",
             "A long chain of two-output transactions, one output much larger than the "
             "other; change heuristics and FIFO/haircut tracing follow the big output."),
    "aggregate": ("Many wallets gather into one (fan-in), as after a mixer or before a "
                  "bridge (ALEX Lab preset: withdrawals to two consolidators).",
                  "Several tainted addresses paying one address: the paths converge, and "
                  "common-input clustering may join them."),
    "cascade": ("Fan-out, aggregation in one private wallet, a second fan-out and convergence "
                "on one exchange deposit address (the exchange-cascade preset).",
                "Two bursts of fan-out around one hub and a single cash-out address: strong "
                "structure for graph detectors."),
    "swap": ("One asset is swapped for another on a DEX (Ronin preset: USDC to ETH).",
             "A deposit into a DEX pool and a payout of another asset; the hidden link pairs "
             "them, on chain only timing and amounts do."),
    "bridge": ("Funds cross to another chain through a bridge (DMM and Bybit presets: "
               "THORChain-like, Avalanche, TRON).",
               "A lock on one chain and a release on another: tracing stops at the bridge "
               "unless the deposit id (memo) or amount and time are matched."),
    "tornado": ("A Tornado-like pool: fixed-denomination notes deposited, withdrawn later to "
                "fresh addresses (Ronin, Harmony, ALEX Lab presets).",
                "Equal round amounts into one pool address and equal amounts out to new "
                "addresses; the pool breaks the on-chain link, taint spreads over every "
                "withdrawal."),
    "coinjoin": ("A CoinJoin: the launderer's coins join a transaction with other peers' "
                 "coins, equal outputs (Wasabi-like in the Bybit and DMM presets).",
                 "Many inputs and many equal outputs in one transaction: which output is "
                 "whose is hidden; taint tracing either spreads or guesses."),
    "custodial_mixer": ("A custodial mixer: deposits to the service, payouts from its own "
                        "wallets later (Blender- and Sinbad-like in Ronin and Bybit).",
                        "Deposits into an attributed mixer and unrelated-looking payouts "
                        "from its hot wallets: no on-chain link at all."),
    "dormancy": ("The funds rest untouched for weeks or months (Harmony: 6.5 months, ALEX "
                 "Lab: 7 months).",
                 "Tainted addresses silent for a long time, then active again: time windows "
                 "and recency-weighted detectors lose them."),
    "exchange_deposit": ("Cash-out: funds are paid into exchange deposit addresses, often "
                         "several per account.",
                         "Transfers into attributed exchange addresses: the end of the trail "
                         "on chain, where a request to the exchange begins."),
    "structuring": ("Deposits split under a reporting or identity-check limit, through "
                    "mules (Zaif preset: under the scaled 2-BTC no-KYC limit).",
                    "Many deposits just under a round threshold into one exchange, from "
                    "many small accounts."),
    "otc": ("An over-the-counter desk buys the coins and pays out elsewhere (Bybit preset: "
            "OTC/P2P).",
            "A payment to an attributed OTC desk; the payout is a separate, unlinked "
            "transaction."),
    "exchange_swap": ("The exchange is used to change asset: deposit one asset, withdraw "
                      "another (Ronin preset).",
                      "A deposit to an exchange and, later, a withdrawal of another asset to "
                      "a fresh address: only the hidden link pairs them."),
    "marketplace": ("A guarantee marketplace (Huione-like in the DMM preset) takes USDT on "
                    "TRON.",
                    "Payments into an attributed marketplace address: integration, the "
                    "trail ends."),
    "fan_out": ("AMLSim typology: one account pays many.", "A star of outgoing transfers."),
    "fan_in": ("AMLSim typology: many accounts pay one.", "A star of incoming transfers."),
    "cycle": ("AMLSim typology: funds go round a cycle of accounts back to the start.",
              "A directed cycle of similar amounts."),
    "bipartite": ("AMLSim typology: a group of senders pays a group of receivers.",
                  "A dense block of transfers between two groups."),
    "stack": ("AMLSim typology: stacked bipartite layers.",
              "Several dense layers one after another."),
    "scatter_gather": ("AMLSim typology: one account scatters to intermediaries that gather "
                       "into one.", "A diamond: fan-out then fan-in."),
    "gather_scatter": ("AMLSim typology: many gather into one, which scatters again.",
                       "An hourglass: fan-in then fan-out."),
    "random": ("AMLSim typology: a random walk among a group of accounts.",
               "Transfers among a small closed group with no fixed shape."),
}

#: typology (as in ``tx_truth``) -> the block whose text describes it
_TYPOLOGY_BLOCK = {"DRAIN": None, "SPLIT": "split", "FAN_OUT": "fan_out", "FAN_IN": "aggregate",
                   "CASCADE": "cascade", "HOP_CHAIN": "hops", "PEEL_CHAIN": "peel",
                   "SWAP": "swap", "BRIDGE": "bridge", "MIXER_POOL": "tornado",
                   "COINJOIN": "coinjoin", "CUSTODIAL_MIXER": "custodial_mixer",
                   "DORMANCY": "dormancy", "EXCHANGE_DEPOSIT": "exchange_deposit",
                   "STRUCTURING": "structuring", "OTC": "otc", "MARKETPLACE": "marketplace",
                   "CYCLE": "cycle", "BIPARTITE": "bipartite", "STACK": "stack",
                   "SCATTER_GATHER": "scatter_gather", "GATHER_SCATTER": "gather_scatter",
                   "RANDOM": "random"}


def block_dataset(name: str, seed: int = 3):
    """The tiny one-incident dataset of a block's gallery figure."""
    from launderbench.simulator.config import scenario_from_dict
    from launderbench.simulator.generate import generate

    asset, steps = BLOCK_EXAMPLES[name]
    doc = {"id": f"gallery-{name.replace('_', '-')}-v1",
           "economy": {"transactions": 300, "days": 30},
           "incident": [{"steps": steps, "assets": {asset: 1}, "amount_usd": 2e7,
                         "start_day": 2}]}
    return generate(scenario_from_dict(doc), seed=seed)


def _stages(ds, incident: int) -> list[str]:
    tt = ds.tables["tx_truth"]
    sel = np.asarray(tt["incident_id"]) == incident
    c = Counter(zip(np.asarray(tt["stage"])[sel].tolist(), np.asarray(tt["typology"])[sel].tolist()))
    lines = []
    for st in (Stage.PLACEMENT, Stage.LAYERING, Stage.INTEGRATION):
        parts = sorted(((n, Typology(t).name) for (s, t), n in c.items() if s == st),
                       reverse=True)
        if not parts:
            continue
        what = ", ".join(f"{name.lower().replace('_', ' ')} ({n} tx)" for n, name in parts)
        sees = [BLOCK_TEXT[b][1] for _, name in parts[:2]
                if (b := _TYPOLOGY_BLOCK.get(name))]
        lines.append(f"- **{st.name.lower()}**: {what}."
                     + (f" A detector sees: {' '.join(sees)}" if sees else
                        " The announced hack transaction(s): the seeds every tracer starts "
                        "from."))
    return lines


def write_gallery(out, blocks=None, presets=None, dpi: int = 80) -> Path:
    """Draw the gallery into ``out`` (``blocks/``, ``presets/`` and ``README.md``)."""
    from launderbench.simulator import registry
    from launderbench.simulator.generate import make

    out = Path(out)
    (out / "blocks").mkdir(parents=True, exist_ok=True)
    (out / "presets").mkdir(parents=True, exist_ok=True)
    blocks = list(BLOCK_EXAMPLES) if blocks is None else blocks
    scen = registry.list_scenarios()
    presets = [s for s in scen if s != "benign-v1"] if presets is None else presets
    md = ["# Gallery: laundering flows to show in class", "",
          "Each figure is drawn by `launderbench draw` (see [the guide](../educators.md) for "
          "how to read it: hop layers left to right in time, chains as bands, fill = role, "
          "ring = stage, shapes = services, dashed = hidden service links). Regenerate "
          "everything with `.venv/bin/python -m launderbench.benchmarks.gallery docs/gallery` "
          "(with Chromium installed it also refreshes `explorer.png`, a screenshot of "
          "`launderbench explore dmm-bitcoin-2024-v1`).",
          "", "![the explorer](explorer.png)",
          "", "## Presets", "",
          "The first incident of each preset at 1,000 benign transactions (seed 0). The "
          "stage lists are the incident's transactions by stage and typology.", ""]
    for sid in presets:
        ds = make(sid, seed=0, transactions=1000)
        inc = int(ds.seeds["incident_id"][0])
        draw_incident(ds, out / "presets" / f"{sid}.png", incident=inc, dpi=dpi)
        sources = ds.meta["incidents"][0].get("sources", []) if ds.meta.get("incidents") else []
        md += [f"### {sid}", "", scen[sid] + ".", ""]
        if sources:
            md += ["Sources: " + "; ".join(sources) + ".", ""]
        md += _stages(ds, inc) + ["", f"![{sid}](presets/{sid}.png)", ""]
    md += ["## Blocks", "",
           "One tiny scenario per laundering block (300 benign transactions, one incident).",
           ""]
    for name in blocks:
        ds = block_dataset(name)
        draw_incident(ds, out / "blocks" / f"{name}.png", incident=0, dpi=dpi,
                      title=f"block: {name}")
        what, sees = BLOCK_TEXT[name]
        md += [f"### {name}", "", what, "", f"*What a detector sees:* {sees}", "",
               f"![{name}](blocks/{name}.png)", ""]
    (out / "README.md").write_text("\n".join(md))
    return out


def explorer_screenshot(path, scenario: str = "dmm-bitcoin-2024-v1") -> Path | None:
    """A screenshot of the explorer on ``scenario`` after a click on the thief's address
    (headless Chromium, network off); None when Chromium is not installed."""
    import shutil
    import subprocess
    import tempfile

    from launderbench.simulator.generate import make

    from .explore import write_explorer

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    path = Path(path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        page = write_explorer(make(scenario, seed=0, transactions=1000),
                              Path(tmp) / "flow.html", test_harness=True)
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--proxy-server=127.0.0.1:9", f"--user-data-dir={tmp}/profile",
                        "--hide-scrollbars", "--window-size=1400,860",
                        "--virtual-time-budget=5000", f"--screenshot={path}",
                        page.as_uri() + "#test=click"], capture_output=True, timeout=120)
    return path if path.exists() else None


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    out = Path(args[0]) if args else Path("docs/gallery")
    write_gallery(out)
    print(f"wrote {out / 'README.md'}")
    shot = explorer_screenshot(out / "explorer.png")
    print(f"wrote {shot}" if shot else "no Chromium: explorer.png not refreshed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
