"""Laundering: incidents (a theft and its laundering playbook) added to the benign economy.

``validate`` checks the ``[[incident]]`` tables and ``[difficulty]`` knobs of a scenario;
``add_incidents`` appends each incident's ops to the stream. See :mod:`.playbooks` for the
stage graph and ``docs/typologies.md`` for every block, preset and source.

Value scaling. Presets give the *reported* theft in USD (``amount_usd``, e.g. Ronin 625e6);
the generated theft is ``amount_usd * scale`` with
``scale = amount_scale * sqrt(clip(n_benign_ops / 25_000, 0.25, 4))`` (``amount_scale``
defaults to 0.02, so a default 20,000-transaction scenario, about 25,000 benign ops, steals
2% of the reported figure: Ronin $12.5M, Bybit $29M). The square-root growth with the
economy keeps the largest preset within the fixed service reserves (bridge vaults hold $300M
per asset). Structuring limits scale by the same factor.

Time scaling. Delays under a day are kept; delays of a day or more are compressed by
``days / 365`` beyond the first day (a year of real time maps onto the scenario span), so a
6.5-month dormancy in a 60-day scenario lasts about a month.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, ScenarioUnsatisfiable
from ..schema import EntityKind, Role, Stage, Typology
from ..world import DEFAULT_ASSETS
from . import twins
from .block_api import (
    DAY,
    Allocator,
    Ctx,
    OpBuffer,
    Pos,
    PositionTooSmall,
    fresh_positions,
    merge,
)
from .drain import VICTIMS, drain
from .playbooks import BLOCKS, PLAYBOOKS, TERMINAL

__all__ = ["validate", "add_incidents", "BLOCKS", "PLAYBOOKS", "DIFFICULTY"]

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
MIN_WAVE = 0.35  # smallest wave, as a fraction of an equal share of the theft
MAX_SCALED_USD = 250e6  # per asset: below the bridge vault reserves
_EPS = 1e-9


# ----------------------------------------------------------------------------- validation
def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


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


def _difficulty(difficulty: dict) -> dict:
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
    _topo(out, w)
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


def _topo(steps: list[dict], w: str) -> list[dict]:
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
    diff = _difficulty(difficulty)
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


# ----------------------------------------------------------------------------- execution
def _scale(diff: dict, n_benign_ops: int) -> float:
    return diff["amount_scale"] * math.sqrt(min(max(n_benign_ops / 25_000, 0.25), 4.0))


def add_incidents(world, stream, services, incidents: list[dict], difficulty: dict, rng,
                  with_twins: bool = True):
    """Append every incident's ops to ``stream``.

    Then, with ``[difficulty] twin_share`` (and ``with_twins``; the footprint's probe runs
    leave them out), the incidents' benign twins (:mod:`.twins`).
    Returns ``(meta, seeds)``: one metadata dict per incident (for meta.json) and
    ``{incident_id: insertion indices of its drain ops}`` (the announced hack transactions).
    """
    diff = _difficulty(difficulty)
    scale = _scale(diff, stream.n)
    memo_used = set()
    for b in stream._ops:
        memo_used.update(np.unique(b["memo"][b["memo"] >= 0]).tolist())
    seeds_rng = rng.integers(0, 2**63 - 1, len(incidents))
    metas, seeds = [], {}
    n_benign = stream.n
    buf = OpBuffer(stream)
    alloc = Allocator(world)
    resolved = []
    for k, inc in enumerate(incidents):
        r = resolve(inc, diff, k, len(services.exchanges))
        resolved.append(r)
        krng = np.random.default_rng(int(seeds_rng[k]))
        try:
            meta, idx = _run_incident(world, buf, alloc, services, r, diff, krng, k, scale,
                                      memo_used)
        except KeyError as e:  # a service endpoint on a chain the economy does not have
            chain = e.args[0] if e.args and isinstance(e.args[0], int) else None
            name = world.chains[chain].name if chain is not None and 0 <= chain < len(
                world.chains) else str(e)
            raise ConfigError(f"incident[{k}] uses chain '{name}', which economy.chain_share "
                              "leaves out") from None
        metas.append(meta)
        seeds[k] = idx
    caps = [MAX_SCALED_USD / (float(r["amount_usd"]) * scale * max(r["assets"].values()))
            for r in resolved]
    n_twins = twins.counts(diff["twin_share"] if with_twins else 0.0, n_benign,
                           [sum(m["typologies"].values()) for m in metas])
    for tw in twins.plan(n_twins, services.days, caps, rng):
        try:
            _run_incident(world, buf, alloc, services, resolved[tw.incident], diff,
                          np.random.default_rng(tw.seed), tw.incident, scale, memo_used,
                          twin=tw)
        except (ScenarioUnsatisfiable, ConfigError):
            pass  # a twin too small for a step stops there; what it moved so far stays
    buf.flush()
    alloc.flush()
    return metas, seeds


def _fingerprints(r: dict, diff: dict, rng) -> dict:
    rates = {f: diff[f"fp_{f}"] for f in FINGERPRINTS}
    rates.update({k: float(v) for k, v in r.get("fingerprints", {}).items()})
    fp = {f: rates[f] for f in ("address_reuse", "mixer_to_deposit", "direct_link")}
    for f in ("fixed_fee", "round_amounts", "time_of_day"):
        fp[f] = bool(rng.random() < rates[f])
    fp["work_start_hour"] = 0  # 09:00 in Pyongyang (UTC+9)
    return fp


def _run_incident(world, buffer, alloc, services, r, diff, rng, k, scale, memo_used,
                  twin=None):
    """Run incident ``k``'s playbook. With ``twin`` (a :class:`.twins.Twin`) the same
    playbook is run by a benign entity with its own funds instead (benign truth, no taint,
    no announced seeds), at the twin's start and value."""
    days = services.days
    if twin is None:
        ent = int(world.add_entities(EntityKind.ATTACKER, 1, name=f"attacker-{k}")[0])
    else:
        name = twins.NAME.format(incident=k, index=twin.index)
        ent = int(world.add_entities(EntityKind.RETAIL, 1, name=name)[0])
    fp = _fingerprints(r, diff, rng)
    if twin is not None:
        fp["time_of_day"] = False  # office hours in Pyongyang are the attacker's own
    ctx = Ctx(world=world, stream=buffer, services=services, rng=rng,
              incident=k if twin is None else -1, entity=ent,
              difficulty=diff, fingerprints=fp, scale=scale, t_end=world.t0 + days * DAY,
              day_scale=days / 365.0, memo_used=memo_used, alloc=alloc,
              twin=twin is not None)
    if fp["fixed_fee"]:
        mult = float(rng.uniform(1.3, 2.4))
        ctx.fixed_fee = {a: int(max(round(b * mult), 2)) for a, b in services.fee_base.items()}
    if twin is not None:
        start_day = twin.start_day
    elif "start_day" in r:
        start_day = float(r["start_day"])
    else:
        start_day = float(rng.uniform(0.05, 0.3) * days)
    t0 = world.t0 + int(start_day * DAY) + int(rng.integers(0, DAY))
    stolen_usd = float(r["amount_usd"]) * scale * (1.0 if twin is None else twin.value)
    amounts = {world.asset_id(s): int(world.usd_to_units(world.asset_id(s), stolen_usd * sh))
               for s, sh in r["assets"].items()}
    positions, seed_idx, vic = drain(ctx, t0, r["victim"], amounts, int(r.get("n_drain", 1)),
                                     int(r.get("victim_index", 0)))
    outputs = {"drain": positions}
    dealt: dict[str, dict[str, list[Pos]]] = {}  # step -> taking step -> positions
    n_waves = int(r.get("waves", 1))
    offsets = _wave_offsets(n_waves, ctx.t_end - t0, rng)
    sizes = _wave_sizes(n_waves, float(diff["wave_sigma"]), rng)
    all_steps = _waves(r["steps"], offsets, sizes)
    steps = _topo(all_steps, f"incident[{k}]")
    held = 0
    step_meta = []
    for st in steps:
        inputs = []
        for parent in st["from"]:
            if parent not in dealt:
                dealt[parent] = _allocate(ctx, parent, outputs.pop(parent, []), all_steps)
            inputs += dealt[parent].pop(st["id"], [])
        inputs = merge(ctx, inputs)
        if st["after_days"] or st["offset"]:  # a wave starts at its offset from the theft
            t_min = t0 + st["offset"] + (ctx.secs(st["after_days"] * DAY)
                                         if st["after_days"] else 0)
            for p in inputs:
                p.time = max(p.time, t_min)
        if st["spread_days"]:  # e.g. Bybit: 3-8 of the 48 wallets emptied per day
            span = ctx.secs(st["spread_days"] * DAY)
            for p in inputs:
                p.time += int(rng.integers(0, max(span, 1)))
        keep = [p for p in inputs if p.est >= ctx.min_amount(p)]
        held += len(inputs) - len(keep)
        fn = BLOCKS[st["block"]][0]
        n0 = buffer.n_buffered
        ctx.stage = int(Stage.LAYERING)
        ctx.typology = None
        try:
            outputs[st["id"]] = fn(ctx, keep, **st["params"]) if keep else []
        except PositionTooSmall:
            raise ScenarioUnsatisfiable(
                f"scenario cannot be satisfied: incident {k} step '{st['id']}' "
                f"({st['block']}) splits a position into parts below the dust limit; route "
                "more value or use fewer outputs") from None
        step_meta.append({"id": st["id"], "wave": st["wave"], "block": st["block"],
                          "from": st["from"],
                          "share": [1.0 if s is None else s for s in st["share"]],
                          "positions_in": len(keep), "positions_out": len(outputs[st["id"]]),
                          "ops": int(buffer.n_buffered - n0)})
    for ps in outputs.values():
        held += len(ps)
    for parts in dealt.values():
        for ps in parts.values():
            held += len(ps)
    meta = {
        "id": k, "name": r["name"], "playbook": r.get("playbook", "steps"),
        "victim": {"kind": r["victim"], **next(iter(vic.values()))},
        "stolen": {world.assets[a].symbol: int(v) for a, v in amounts.items()},
        "stolen_usd": round(stolen_usd, 2), "reported_usd": float(r["amount_usd"]),
        "scale": scale, "start": int(t0), "sources": list(r.get("sources", [])),
        "waves": [int(t0 + o) for o in offsets],
        "wave_sizes": [round(float(x), 6) for x in sizes],
        "fingerprints": fp, "steps": step_meta, "held_positions": int(held),
        "typologies": dict(sorted(ctx.n_ops.items())),
    }
    return meta, seed_idx


def _wave_offsets(n: int, span: int, rng) -> list[int]:
    """Start of each laundering wave, in seconds after the theft: the first at once, the
    others spread evenly up to 90% of the rest of the observation window (each jittered by
    up to a fifth of the gap), so that every part of a temporal split sees laundering; the
    last waves are cut off by the end of the window, as real laundering still under way."""
    if n <= 1 or span <= 0:
        return [0]
    gap = 0.9 * span / (n - 1)
    return [0] + [int(min(max((w + rng.uniform(-0.2, 0.2)) * gap, 0), 0.95 * span))
                  for w in range(1, n)]


def _wave_sizes(n: int, sigma: float, rng) -> list[float]:
    """Share of the theft each wave takes: log-normal with ``[difficulty] wave_sigma``
    (tranches of one theft differ in size: Harmony's second wave was a fraction of its
    first), none below :data:`MIN_WAVE` of an equal share so that every wave still fills
    its mixers. Sizes differ from wave to wave, so the value band of early waves does not
    give away the later ones."""
    if n <= 1:
        return [1.0]
    w = np.exp(sigma * rng.standard_normal(n))
    w = np.maximum(w / w.sum(), MIN_WAVE / n)
    return (w / w.sum()).tolist()


def _waves(steps: list[dict], offsets: list[int], sizes: list[float]) -> list[dict]:
    """The stage graph repeated once per wave: wave ``w`` takes ``sizes[w]`` (see
    :func:`_wave_sizes`) of what the drain hands each of its first steps and starts at
    ``offsets[w]`` (real thefts are laundered in tranches over months: Ronin's Tornado
    deposits ran from April to August 2022, Harmony's funds moved in waves after a dormancy,
    ALEX Lab's in tranches). Step ids of later waves get a ``~w`` suffix; a first step's
    ``wave_weight`` (``n * sizes[w]``) scales its share of the drain, including a share
    left to be resolved per asset (``None``) by :func:`_allocate`."""
    n = len(offsets)
    out = []
    for w, off in enumerate(offsets):
        def name(sid, w=w):
            return sid if w == 0 or sid == "drain" else f"{sid}~{w}"
        for st in steps:
            share = [s / n if (f == "drain" and s is not None and n > 1) else s
                     for f, s in zip(st["from"], st["share"])]
            out.append({**st, "id": name(st["id"]), "from": [name(f) for f in st["from"]],
                        "share": share, "offset": int(off), "wave": w,
                        "wave_weight": n * float(sizes[w])})
    return out


def _allocate(ctx: Ctx, parent: str, positions: list[Pos], steps: list[dict]):
    """Divide a step's output among the steps that take from it, by share (and asset
    filter). Few positions are each split by the shares (one transaction each); many
    positions are dealt out whole, greedily, so that each child gets about its share."""
    kids = [(st["id"], st["share"][st["from"].index(parent)], st["assets"]) for st in steps
            if parent in st["from"]]
    weight = {st["id"]: st.get("wave_weight", 1.0) if parent == "drain" else 1.0
              for st in steps if parent in st["from"]}
    out: dict[str, list[Pos]] = {sid: [] for sid, _, _ in kids}
    by_asset: dict[int, list[Pos]] = {}
    fresh: dict[tuple, tuple] = {}
    for p in positions:
        by_asset.setdefault(p.asset, []).append(p)
    for asset, ps in by_asset.items():
        sym = ctx.sym(asset)
        ks = [(sid, s) for sid, s, flt in kids if flt is None or sym in flt]
        given = sum(s for _, s in ks if s is not None)
        n_none = sum(s is None for _, s in ks)
        shares = [(sid, weight[sid] * (s if s is not None else
                                       max(1.0 - given, 0.0) / max(n_none, 1)))
                  for sid, s in ks]
        shares = [(sid, s) for sid, s in shares if s > 0]
        rest = 1.0 - sum(s for _, s in shares)
        if not shares:
            continue
        if len(shares) == 1 and rest <= 1e-6:
            out[shares[0][0]] += ps
            continue
        targets = shares + ([("_held", rest)] if rest > 1e-6 else [])
        if len(ps) >= 4 * len(targets):
            total = sum(p.est for p in ps)
            got = {sid: 0 for sid, _ in targets}
            for p in sorted(ps, key=lambda q: -q.est):
                sid = max(targets, key=lambda x: x[1] * total - got[x[0]])[0]
                got[sid] += p.est
                if sid != "_held":
                    out[sid].append(p)
            continue
        for p in ps:
            tg = targets
            if p.est < ctx.min_amount(p) * len(targets):
                # too small to divide: it moves whole to the largest share, to an address of
                # its own (what stays behind at a shared address would be swept with the rest)
                tg = [max(shares, key=lambda x: x[1])]
                if p.est < ctx.min_amount(p) or len(shares) == 1:
                    out[tg[0][0]].append(p)
                    continue
            # the assets held at one address go to the same new addresses (a wallet keeps
            # its tokens together), so later steps see them as one position again
            key = (p.chain, p.wallet if ctx.utxo(p.chain) else p.addr, tuple(tg))
            if key not in fresh:
                fresh[key] = ctx.wallets(p.chain, len(tg), Role.INTERMEDIARY)
            w, a = fresh[key]
            t = ctx.start(p.time)
            wts = [max(int(round(s * 100_000)), 1) for _, s in tg]
            ctx.stage = int(Stage.LAYERING)
            _, est = ctx.split(p, t, a, wts, Typology.SPLIT)
            new = fresh_positions(ctx, p.chain, p.asset, w, a, t, est)
            for (sid, _), q in zip(tg, new):
                if sid != "_held":
                    out[sid].append(q)
    return out

