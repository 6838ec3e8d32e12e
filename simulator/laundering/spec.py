"""Scenario specification: what ``[[incident]]`` tables and ``[difficulty]`` knobs may say.

:func:`validate` checks a scenario's incidents and knobs without running anything (the
scenario loader calls it); :func:`resolve` expands one ``[[incident]]`` table (a named
playbook with its parameters, or explicit ``steps``) into the incident the engine runs, and
:func:`resolve_difficulty` fills in the knobs' defaults. Every error is a one-line
:class:`~launderbench.simulator.errors.ConfigError` naming the offending key. Block and
playbook parameters are checked against the specs declared beside them (``BLOCKS`` and
``PLAYBOOKS`` in :mod:`.playbooks`); ``docs/typologies.md`` describes every key.
"""

from __future__ import annotations

import math
import numbers

from ..errors import ConfigError
from ..world import DEFAULT_ASSETS
from .drain import VICTIMS
from .playbooks import BLOCKS, PLAYBOOKS, TERMINAL

#: difficulty knob -> ((lo, hi), default)
DIFFICULTY = {
    "amount_scale": ((1e-6, 1.0), 0.001),
    "time_jitter": ((0.0, 3.0), 0.3),
    "amount_jitter": ((0.0, 0.95), 0.3),
    "wave_sigma": ((0.0, 3.0), 0.5),
    "split_sigma": ((0.0, 3.0), 0.0),
    "hop_scale": ((0.1, 20.0), 1.0),
    "pace_hours": ((0.0, 24.0 * 30), 12.0),
    "mixer_share": ((0.0, 1.0), None),
    "bridge_share": ((0.0, 1.0), None),
    "fp_address_reuse": ((0.0, 1.0), 0.05),
    "fp_fixed_fee": ((0.0, 1.0), 0.0),
    "fp_round_amounts": ((0.0, 1.0), 0.3),
    "fp_time_of_day": ((0.0, 1.0), 0.0),
    "fp_mixer_to_deposit": ((0.0, 1.0), 0.02),
    "fp_direct_link": ((0.0, 1.0), 0.05),
    "twin_share": ((0.0, 4.0), 0.0),
}
FINGERPRINTS = ("address_reuse", "fixed_fee", "round_amounts", "time_of_day",
                "mixer_to_deposit", "direct_link")
INCIDENT_KEYS = {"name", "playbook", "params", "steps", "victim", "victim_index", "assets",
                 "amount_usd", "n_drain", "start_day", "fingerprints", "sources", "waves"}
STEP_KEYS = {"id", "block", "from", "share", "assets", "after_days", "spread_days"}
ASSETS = tuple(a.symbol for a in DEFAULT_ASSETS)
MAX_SCALED_USD = 250e6  # per asset: below the bridge vault reserves
_EPS = 1e-9


def _num(v) -> bool:
    """A finite real number (numpy's included), not a boolean."""
    return (isinstance(v, numbers.Real) and not isinstance(v, bool)
            and math.isfinite(float(v)))


def _check_param(spec, v, where: str) -> None:
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], tuple):
        lo, hi = spec[0]
        vals = v if isinstance(v, list) else [v]
        if isinstance(v, list) and (len(v) != 2 or v[0] > v[1] if all(map(_num, v)) else True):
            raise ConfigError(f"{where} must be a number or a [low, high] range, got {v!r}")
        for x in vals:
            if not _num(x):
                raise ConfigError(f"{where} must be a number, got {x!r}")
            if not lo <= x <= hi:
                raise ConfigError(f"{where} must be between {lo} and {hi}, got {x!r}")
    elif isinstance(spec, tuple):
        if v not in spec:
            raise ConfigError(f"{where} must be one of {', '.join(map(str, spec))}, got {v!r}")
    elif spec == "bool":
        if not isinstance(v, bool):
            raise ConfigError(f"{where} must be true or false")
    elif spec == "str":
        if not isinstance(v, str):
            raise ConfigError(f"{where} must be a string")
    elif spec in ("asset", "assets"):
        vals = v if spec == "assets" and isinstance(v, list) else [v]
        if not vals:
            raise ConfigError(f"{where} must name at least one asset")
        for x in vals:
            if x not in ASSETS:
                raise ConfigError(f"{where}: unknown asset {x!r} (known: {', '.join(ASSETS)})")


def resolve_difficulty(difficulty: dict) -> dict:
    """The ``[difficulty]`` knobs, checked, as floats, with the defaults of
    :data:`DIFFICULTY` for the knobs not given."""
    if not isinstance(difficulty, dict):
        raise ConfigError("[difficulty] must be a table")
    out = {}
    for k, v in difficulty.items():
        if k not in DIFFICULTY:
            raise ConfigError(f"unknown key difficulty.{k} (known: {', '.join(DIFFICULTY)})")
        _check_param((DIFFICULTY[k][0], None), v, f"difficulty.{k}")
        if isinstance(v, list):
            raise ConfigError(f"difficulty.{k} must be a number")
        out[k] = float(v)
    return {**{k: d for k, (_, d) in DIFFICULTY.items() if d is not None}, **out}


def resolve(inc: dict, diff: dict, i: int, n_exchanges: int = 99) -> dict:
    """Expand an ``[[incident]]`` table (playbook or explicit steps) and validate it."""
    w = f"incident[{i}]"
    if not isinstance(inc, dict):
        raise ConfigError(f"{w} must be a table")
    unknown = set(inc) - INCIDENT_KEYS
    if unknown:
        raise ConfigError(f"unknown key {w}.{sorted(unknown)[0]} "
                          f"(known: {', '.join(sorted(INCIDENT_KEYS))})")
    if ("playbook" in inc) == ("steps" in inc):
        raise ConfigError(f"{w} needs exactly one of 'playbook' or 'steps'")
    if "playbook" in inc:
        name = inc["playbook"]
        if name not in PLAYBOOKS:
            raise ConfigError(f"{w}.playbook: unknown playbook {name!r} "
                              f"(known: {', '.join(PLAYBOOKS)})")
        fn, spec = PLAYBOOKS[name]
        params = inc.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{w}.params must be a table")
        for k, v in params.items():
            if k not in spec:
                raise ConfigError(f"unknown key {w}.params.{k} for playbook {name!r}")
            _check_param(spec[k], v, f"{w}.params.{k}")
        p = {k: diff[k] for k in ("mixer_share", "bridge_share") if k in diff and k in spec}
        p.update(params)
        base = fn(p)
    else:
        if "params" in inc:
            raise ConfigError(f"{w}.params only applies to a playbook")
        base = dict(victim="exchange", assets={"ETH": 1.0}, amount_usd=10e6, n_drain=1,
                    sources=[], steps=inc["steps"])
    r = {**base, **{k: v for k, v in inc.items() if k not in ("params", "steps")}}
    r["name"] = str(inc.get("name", inc.get("playbook", f"incident-{i}")))
    if r["victim"] not in VICTIMS:
        raise ConfigError(f"{w}.victim must be one of {', '.join(VICTIMS)}, got {r['victim']!r}")
    for key, lo, hi in (("victim_index", 0, 99), ("n_drain", 1, 100), ("waves", 1, 24)):
        v = r.get(key, 0 if key == "victim_index" else 1)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ConfigError(f"{w}.{key} must be an integer between {lo} and {hi}")
    assets = r["assets"]
    if not isinstance(assets, dict) or not assets:
        raise ConfigError(f"{w}.assets must be a table of asset = share")
    for sym, s in assets.items():
        if sym not in ASSETS:
            raise ConfigError(f"{w}.assets: unknown asset {sym!r} (known: {', '.join(ASSETS)})")
        if not _num(s) or s <= 0:
            raise ConfigError(f"{w}.assets.{sym} must be a positive share")
    if abs(sum(assets.values()) - 1.0) > 1e-6:
        raise ConfigError(f"{w}.assets shares must sum to 1, got {sum(assets.values()):g}")
    if r["victim"] == "dex" and "BTC" in assets:
        raise ConfigError(f"{w}: a DEX victim cannot lose BTC (no DEX on bitcoin)")
    amt = r["amount_usd"]
    if not _num(amt) or amt <= 0 or not math.isfinite(amt):
        raise ConfigError(f"{w}.amount_usd must be a positive number, got {amt!r}")
    worst = amt * diff["amount_scale"] * 2.0 * max(assets.values())
    if worst > MAX_SCALED_USD:
        raise ConfigError(f"{w}.amount_usd {amt:g} scales to up to ${worst:,.0f} per asset, "
                          f"more than the economy's service reserves (lower it or "
                          f"difficulty.amount_scale)")
    if amt * diff["amount_scale"] * 0.5 * min(assets.values()) < 1_000:
        raise ConfigError(f"{w}.amount_usd {amt:g} scales to under $1,000 for an asset; "
                          "too small to launder")
    if "start_day" in inc and (not _num(inc["start_day"]) or inc["start_day"] < 0):
        raise ConfigError(f"{w}.start_day must be a non-negative number of days")
    fps = r.get("fingerprints", {})
    if not isinstance(fps, dict):
        raise ConfigError(f"{w}.fingerprints must be a table")
    for k, v in fps.items():
        if k not in FINGERPRINTS:
            raise ConfigError(f"unknown key {w}.fingerprints.{k} "
                              f"(known: {', '.join(FINGERPRINTS)})")
        _check_param(((0.0, 1.0), 0.0), v, f"{w}.fingerprints.{k}")
    src = r.get("sources", [])
    if not isinstance(src, list) or not all(isinstance(s, str) for s in src):
        raise ConfigError(f"{w}.sources must be a list of strings")
    r["steps"] = _steps(r["steps"], w, n_exchanges)
    return r


def _steps(steps, w: str, n_exchanges: int) -> list[dict]:
    if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
        raise ConfigError(f"{w}.steps must be a non-empty list of tables")
    out, ids = [], set()
    prev = "drain"
    for j, st in enumerate(steps):
        ws = f"{w}.steps[{j}]"
        if "block" not in st:
            raise ConfigError(f"{ws} needs a 'block'")
        b = st["block"]
        if b not in BLOCKS:
            raise ConfigError(f"{ws}.block: unknown block {b!r} (known: {', '.join(BLOCKS)})")
        spec = BLOCKS[b][1]
        for k, v in st.items():
            if k in STEP_KEYS:
                continue
            if k not in spec:
                raise ConfigError(f"unknown key {ws}.{k} for block {b!r}"
                                  + (f" (known: {', '.join(spec)})" if spec else ""))
            _check_param(spec[k], v, f"{ws}.{k}")
            if k in ("exchange", "exchanges") and v >= n_exchanges:
                raise ConfigError(f"{ws}.{k}: exchange {v} does not exist "
                                  f"(economy.exchanges = {n_exchanges})")
        sid = st.get("id", f"step{j}")
        if not isinstance(sid, str) or not sid or sid == "drain" or sid in ids:
            raise ConfigError(f"{ws}.id must be a unique name other than 'drain', got {sid!r}")
        ids.add(sid)
        frm = st.get("from", prev)
        frm = [frm] if isinstance(frm, str) else frm
        if not isinstance(frm, list) or not frm or not all(isinstance(f, str) for f in frm):
            raise ConfigError(f"{ws}.from must be a step id or a list of them")
        share = st.get("share", None)
        shares = share if isinstance(share, list) else [share] * len(frm)
        if len(shares) != len(frm):
            raise ConfigError(f"{ws}.share has {len(shares)} values for {len(frm)} sources")
        for s in shares:
            if s is not None and (not _num(s) or not 0 < s <= 1):
                raise ConfigError(f"{ws}.share must be in (0, 1], got {s!r}")
        flt = st.get("assets")
        if flt is not None:
            _check_param("assets", flt, f"{ws}.assets")
            flt = [flt] if isinstance(flt, str) else list(flt)
        after = st.get("after_days", 0)
        spread = st.get("spread_days", 0)
        for key, v in (("after_days", after), ("spread_days", spread)):
            if not _num(v) or v < 0:
                raise ConfigError(f"{ws}.{key} must be a non-negative number")
        params = {k: v for k, v in st.items() if k not in STEP_KEYS}
        out.append({"id": sid, "block": b, "from": frm, "share": shares, "assets": flt,
                    "after_days": float(after), "spread_days": float(spread),
                    "params": params})
        prev = sid
    known = ids | {"drain"}
    for st in out:
        for f in st["from"]:
            if f not in known:
                raise ConfigError(f"{w}: step '{st['id']}' takes from unknown step '{f}'")
            src_block = next((s["block"] for s in out if s["id"] == f), None)
            if src_block in TERMINAL:
                raise ConfigError(f"{w}: step '{st['id']}' takes from '{f}', whose "
                                  f"'{src_block}' block leaves nothing to route")
    topological_order(out, w)
    # shares taking from one step, per asset filter, must not exceed 1
    for parent in known:
        kids = [(st, st["share"][st["from"].index(parent)]) for st in out
                if parent in st["from"]]
        for sym in ASSETS:
            ks = [(st, s) for st, s in kids if st["assets"] is None or sym in st["assets"]]
            given = sum(s for _, s in ks if s is not None)
            if given > 1 + _EPS:
                raise ConfigError(f"{w}: steps taking {sym} from '{parent}' route "
                                  f"{given:.3g} of it (more than was there)")
            if any(s is None for _, s in ks) and given >= 1 - _EPS and len(ks) > 1:
                raise ConfigError(f"{w}: steps taking from '{parent}' leave no share for "
                                  f"'{next(st['id'] for st, s in ks if s is None)}'")
    return out


def topological_order(steps: list[dict], w: str) -> list[dict]:
    """``steps`` ordered so that every step comes after the steps it takes from; raise a
    :class:`~launderbench.simulator.errors.ConfigError` (``w`` names the incident) if the
    stage graph loops."""
    by_id = {s["id"]: s for s in steps}
    indeg = {s["id"]: sum(f != "drain" for f in s["from"]) for s in steps}
    ready = [s["id"] for s in steps if indeg[s["id"]] == 0]
    order = []
    while ready:
        sid = ready.pop(0)
        order.append(by_id[sid])
        for s in steps:
            for f in s["from"]:
                if f == sid:
                    indeg[s["id"]] -= 1
                    if indeg[s["id"]] == 0:
                        ready.append(s["id"])
    if len(order) != len(steps):
        loop = sorted(set(by_id) - {s["id"] for s in order})
        raise ConfigError(f"{w}: the stage graph loops through step(s) {', '.join(loop)}")
    return order


def validate(incidents: list[dict], difficulty: dict, economy) -> None:
    """Check ``[[incident]]`` tables and ``[difficulty]`` knobs; raise a one-line
    :class:`~launderbench.simulator.errors.ConfigError` naming the offending key."""
    diff = resolve_difficulty(difficulty)
    if not isinstance(incidents, list):
        raise ConfigError("[[incident]] entries must be tables")
    n_ex = getattr(economy, "exchanges", 99)
    days = getattr(economy, "days", 10**6)
    for i, inc in enumerate(incidents):
        r = resolve(inc, diff, i, n_ex)
        if r.get("victim_index", 0) >= n_ex and r["victim"] == "exchange":
            raise ConfigError(f"incident[{i}].victim_index: exchange {r['victim_index']} does "
                              f"not exist (economy.exchanges = {n_ex})")
        if "start_day" in inc and inc["start_day"] >= days:
            raise ConfigError(f"incident[{i}].start_day {inc['start_day']} is not before the "
                              f"end of the scenario ({days} days)")
