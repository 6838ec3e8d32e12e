"""Per-incident value accounting from a dataset's truth tables (for tests and audits).

For every incident ``k`` and asset, with *attacker* addresses those of ``ATTACKER`` entities
labelled with incident ``k``::

    stolen + received through links
        == integrated + sent into links + in transit + fees + still held

* stolen: outputs of the seed (drain) transactions received by attacker addresses;
* received through links: outputs of link payouts (mixer withdrawals, bridge releases, swap
  and OTC payouts) of incident ``k`` received by attacker addresses;
* integrated: tainted outputs of attacker-paid, integration-stage transactions received by
  other addresses (exchange deposits, marketplace), link deposits excluded;
* sent into links: ``amount_in`` of the incident's links (what entered the service);
* in transit: deposits into a linking service (bridge, mixer, DEX, OTC desk) whose payout
  falls after the end of the observation window, so that no link records them yet;
* fees: fees of attacker-paid transactions (the attacker's share in a CoinJoin);
* still held: what attacker addresses received minus what they spent.

``leaked`` (tainted value sent by the attacker to other addresses that is neither a link
deposit nor an integration output) must be zero.
"""

from __future__ import annotations

import numpy as np

from ..schema import EntityKind, Stage

#: services that pay out against a deposit (a link), possibly after the window ends
_LINKING = (EntityKind.DEX, EntityKind.BRIDGE, EntityKind.MIXER, EntityKind.OTC)


def flows(ds) -> dict[tuple[int, str], dict[str, int]]:
    T = ds.tables
    ent_kind = np.asarray(T["entities"]["kind"])
    at = T["address_truth"]
    a_linking = np.isin(ent_kind[np.asarray(at["entity_id"])], np.array(_LINKING, np.int64))
    a_inc = np.asarray(at["incident_id"])
    a_att = ent_kind[np.asarray(at["entity_id"])] == int(EntityKind.ATTACKER)
    tx = T["transactions"]
    fee = np.asarray(tx["fee"])
    tx_asset = np.asarray(tx["asset_id"])
    stage = np.asarray(T["tx_truth"]["stage"])
    ins, outs = T["inputs"], T["outputs"]
    i_tx, i_addr, i_amt = (np.asarray(ins[c]) for c in ("tx_id", "address_id", "amount"))
    o_tx, o_addr, o_amt = (np.asarray(outs[c]) for c in ("tx_id", "address_id", "amount"))
    taint_inc = np.full(len(o_tx), -1, np.int64)
    taint_inc[np.asarray(T["taint"]["output_id"])] = np.asarray(T["taint"]["incident_id"])
    syms = np.asarray(T["assets"]["symbol"])
    links = T["links"]
    l_inc = np.asarray(links["incident_id"])
    seeds = T["seeds"]
    res = {}
    for k in np.unique(a_inc[a_att & (a_inc >= 0)]):
        att = a_att & (a_inc == k)
        in_att = att[i_addr]
        out_att = att[o_addr]
        n_tx = len(fee)
        att_in = np.bincount(i_tx, weights=np.where(in_att, i_amt, 0), minlength=n_tx)
        any_att = np.bincount(i_tx, weights=in_att, minlength=n_tx) > 0
        all_att = any_att & (np.bincount(i_tx, weights=~in_att, minlength=n_tx) == 0)
        att_out = np.bincount(o_tx, weights=np.where(out_att, o_amt, 0), minlength=n_tx)
        seed_tx = np.asarray(seeds["tx_id"])[np.asarray(seeds["incident_id"]) == k]
        lk = l_inc == k
        link_in = np.asarray(links["in_tx_id"])[lk]
        link_out = np.asarray(links["out_tx_id"])[lk]
        is_seed = np.isin(o_tx, seed_tx)
        is_lout = np.isin(o_tx, link_out)
        is_lin = np.isin(o_tx, link_in)
        tainted_other = (taint_inc == k) & ~out_att & any_att[o_tx]
        for a in np.unique(tx_asset[np.isin(np.arange(n_tx), seed_tx) | any_att]):
            oa = tx_asset[o_tx] == a
            ta = tx_asset == a
            integ = tainted_other & oa & (stage[o_tx] == Stage.INTEGRATION) & ~is_lin
            other = tainted_other & oa & (stage[o_tx] != Stage.INTEGRATION) & ~is_lin
            transit = other & a_linking[o_addr]
            leak = other & ~transit
            fees = fee[all_att & ta].sum() + (att_in - att_out)[any_att & ~all_att & ta].sum()
            la = tx_asset[link_in] == a
            res[(int(k), str(syms[a]))] = {
                "stolen": int(o_amt[is_seed & out_att & oa].sum()),
                "received_links": int(o_amt[is_lout & out_att & oa & ~any_att[o_tx]].sum()),
                "integrated": int(o_amt[integ].sum()),
                "sent_links": int(np.asarray(links["amount_in"])[lk][la].sum()),
                "in_transit": int(o_amt[transit].sum()),
                "fees": int(fees),
                "held": int(o_amt[out_att & oa].sum() - i_amt[in_att & (tx_asset[i_tx] == a)].sum()),
                "leaked": int(o_amt[leak].sum()),
            }
    return res


def balanced(f: dict[str, int]) -> bool:
    return (f["stolen"] + f["received_links"]
            == f["integrated"] + f["sent_links"] + f["in_transit"] + f["fees"] + f["held"]
            ) and f["leaked"] == 0
