"""Statistics of a dataset, for ``launderbench describe`` and the README's realism table.

Degree exponents are maximum-likelihood estimates of a discrete power-law tail
(Clauset, Shalizi & Newman 2009, eq. 3.7 approximation) above ``k_min`` = 5, computed on the
address graph (an address's in-degree = number of outputs it received, out-degree = number of
transactions it spent in), the quantities Kondor et al. (2014) report for Bitcoin.
"""

from __future__ import annotations

import numpy as np

from .schema import ChainModel, Role, ServiceKind, Stage, Typology


def powerlaw_alpha(deg: np.ndarray, k_min: int = 5) -> float:
    """MLE exponent of P(k) ~ k^-alpha for k >= k_min (discrete approximation)."""
    x = deg[deg >= k_min].astype(np.float64)
    if len(x) < 10:
        return float("nan")
    return float(1.0 + len(x) / np.sum(np.log(x / (k_min - 0.5))))


def describe(ds) -> dict:
    """A dict of statistics: sizes, per chain, degrees, amounts, fees, time, truth summary."""
    v = ds.observable()
    tx, ins, outs, addr = v.transactions, v.inputs, v.outputs, v.addresses
    n_addr = addr.num_rows
    ts = tx["timestamp"]
    stats: dict = {
        "scenario": ds.meta.get("scenario"),
        "seed": ds.meta.get("seed"),
        "content_hash": ds.meta.get("content_hash"),
        "transactions": int(tx.num_rows),
        "inputs": int(ins.num_rows),
        "outputs": int(outs.num_rows),
        "addresses": int(n_addr),
        "days": round(float((ts.max() - ts.min()) / 86400), 1) if len(ts) else 0.0,
    }
    used_usd = v.usd_per_base_unit()
    per_chain = {}
    for cid, name, model in zip(v.chains["chain_id"], v.chains["name"], v.chains["model"]):
        m = tx["chain_id"] == cid
        if not m.any():
            continue
        o = outs["tx_id"]
        om = m[o]
        fee_usd = tx["fee"][m] * used_usd[tx["asset_id"][m]]
        per_chain[str(name)] = {
            "model": ChainModel(int(model)).name.lower(),
            "transactions": int(m.sum()),
            "mean_inputs": round(float(tx["n_inputs"][m & ~tx["is_issuance"]].mean()), 3)
            if (m & ~tx["is_issuance"]).any() else 0.0,
            "mean_outputs": round(float(tx["n_outputs"][m].mean()), 3),
            "share_1in_2out": round(float(((tx["n_inputs"] == 1) & (tx["n_outputs"] == 2))[m]
                                          .mean()), 3),
            "median_output_usd": round(float(np.median(outs["amount"][om] *
                                                       used_usd[outs["asset_id"][om]])), 2)
            if om.any() else 0.0,
            "median_fee_usd": round(float(np.median(fee_usd)), 4),
        }
    stats["chains"] = per_chain
    # address graph degrees
    in_deg = np.bincount(outs["address_id"], minlength=n_addr)
    out_deg = np.bincount(ins["address_id"], minlength=n_addr)
    seen = (in_deg + out_deg) > 0
    stats["degree"] = {
        "in_mean": round(float(in_deg[seen].mean()), 3) if seen.any() else 0.0,
        "in_max": int(in_deg.max(initial=0)),
        "out_max": int(out_deg.max(initial=0)),
        "in_alpha": round(powerlaw_alpha(in_deg), 3),
        "out_alpha": round(powerlaw_alpha(out_deg), 3),
        "share_used_once": round(float((in_deg[seen] == 1).mean()), 3) if seen.any() else 0.0,
    }
    # amounts: roundness (1-2 significant digits in whole units) and spread
    dec = v.assets["decimals"].astype(np.int64)[outs["asset_id"]]
    amt = outs["amount"].astype(np.float64)
    whole = amt / 10.0 ** dec
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = 10.0 ** np.floor(np.log10(whole))
        two = np.isclose(whole / (mag / 10), np.round(whole / (mag / 10)), rtol=0, atol=1e-6)
    usd = amt * used_usd[outs["asset_id"]]
    stats["amounts"] = {
        "share_round": round(float(two.mean()), 3) if len(two) else 0.0,
        "usd_p10": round(float(np.percentile(usd, 10)), 2) if len(usd) else 0.0,
        "usd_median": round(float(np.median(usd)), 2) if len(usd) else 0.0,
        "usd_p90": round(float(np.percentile(usd, 90)), 2) if len(usd) else 0.0,
    }
    # address reuse: share of receiving addresses that received more than once
    stats["reuse"] = {"share_addresses_reused": round(float((in_deg[in_deg > 0] > 1).mean()), 3)
                      if (in_deg > 0).any() else 0.0}
    # time cycles: busiest/quietest hour (UTC) ratio and weekend/weekday ratio
    if len(ts):
        hours = np.bincount((ts // 3600) % 24, minlength=24)
        day = (ts // 86400 + 3) % 7  # 0 = Monday
        wk = np.bincount(day, minlength=7) / max(len(ts), 1)
        stats["time"] = {
            "peak_to_trough_hour": round(float(hours.max() / max(hours.min(), 1)), 2),
            "weekend_to_weekday": round(float(wk[5:].mean() / max(wk[:5].mean(), 1e-12)), 3),
        }
    # fee-rate fingerprints
    stats["fees"] = {"distinct_fee_rates": int(len(np.unique(tx["fee_rate"])))}
    # attribution coverage
    sk = addr["service_kind"]
    stats["attribution"] = {ServiceKind(int(k)).name.lower(): int((sk == k).sum())
                            for k in np.unique(sk) if k != 0}
    # truth summary (from the dataset, not the view)
    tt = ds.tables["tx_truth"]
    at = ds.tables["address_truth"]
    lab = tt["incident_id"] >= 0
    stats["truth"] = {
        "incidents": len(ds.meta.get("incidents", [])),
        "laundering_transactions": int(lab.sum()),
        "laundering_addresses": int((at["incident_id"] >= 0).sum()),
        "by_stage": {Stage(int(s)).name.lower(): int((tt["stage"][lab] == s).sum())
                     for s in np.unique(tt["stage"][lab])},
        "by_typology": {Typology(int(s)).name.lower(): int((tt["typology"][lab] == s).sum())
                        for s in np.unique(tt["typology"][lab])},
        "by_role": {Role(int(r)).name.lower(): int((at["role"] == r).sum())
                    for r in np.unique(at["role"]) if r != 0},
        "hidden_links": int(ds.tables["links"].num_rows),
        "tainted_outputs": int(ds.tables["taint"].num_rows),
    }
    return stats


def format_stats(stats: dict) -> str:
    """Human-readable rendering of :func:`describe`."""
    lines = [f"dataset   {stats['scenario']} (seed {stats['seed']}, hash "
             f"{(stats['content_hash'] or '')[:12]})",
             f"size      {stats['transactions']:,} transactions, {stats['inputs']:,} inputs, "
             f"{stats['outputs']:,} outputs, {stats['addresses']:,} addresses over "
             f"{stats['days']} days"]
    lines.append("chains    name        model    txs       in/tx  out/tx  1in2out  "
                 "median$   fee$")
    for name, c in stats["chains"].items():
        lines.append(f"          {name:11s} {c['model']:8s} {c['transactions']:<9,d} "
                     f"{c['mean_inputs']:<6.2f} {c['mean_outputs']:<7.2f} "
                     f"{c['share_1in_2out']:<8.3f} {c['median_output_usd']:<9.2f} "
                     f"{c['median_fee_usd']:.4f}")
    d = stats["degree"]
    lines.append(f"degree    in: mean {d['in_mean']}, max {d['in_max']}, tail alpha "
                 f"{d['in_alpha']}; out: max {d['out_max']}, tail alpha {d['out_alpha']}; "
                 f"used once {d['share_used_once']}")
    a = stats["amounts"]
    lines.append(f"amounts   USD p10 {a['usd_p10']}, median {a['usd_median']}, p90 "
                 f"{a['usd_p90']}; round amounts {a['share_round']}")
    lines.append(f"reuse     addresses receiving more than once: "
                 f"{stats['reuse']['share_addresses_reused']}")
    if "time" in stats:
        t = stats["time"]
        lines.append(f"time      busiest/quietest hour {t['peak_to_trough_hour']}, "
                     f"weekend/weekday {t['weekend_to_weekday']}")
    lines.append(f"fees      {stats['fees']['distinct_fee_rates']} distinct fee rates")
    lines.append("labels    " + (", ".join(f"{k}: {v:,}" for k, v in stats["attribution"].items())
                                 or "none"))
    tr = stats["truth"]
    lines.append(f"truth     {tr['incidents']} incident(s), {tr['laundering_transactions']:,} "
                 f"laundering txs, {tr['laundering_addresses']:,} laundering addresses, "
                 f"{tr['hidden_links']:,} hidden links, {tr['tainted_outputs']:,} tainted outputs")
    if tr["by_typology"]:
        lines.append("typology  " + ", ".join(f"{k}: {v}" for k, v in tr["by_typology"].items()))
    return "\n".join(lines)
