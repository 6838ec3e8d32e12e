"""Incident engine: runs each incident's stage graph and appends its ops to the stream.

:func:`add_incidents` resolves every ``[[incident]]`` table (:mod:`.spec`), runs its drain
(:mod:`.drain`), repeats its stage graph once per laundering wave, divides each step's
output among the steps that take from it (:func:`_allocate`) and calls each step's block
(``BLOCKS`` in :mod:`.playbooks`) with a :class:`~.block_api.Ctx`; then it runs the
incidents' benign twins (:mod:`.twins`).

Value scaling. Presets give the *reported* theft in USD (``amount_usd``, e.g. Ronin 625e6);
the generated theft is ``amount_usd * scale`` with
``scale = amount_scale * sqrt(clip(n_benign_ops / 25_000, 0.25, 4))`` (``amount_scale``
defaults to 0.001, so a default 20,000-transaction scenario, about 25,000 benign ops, steals
0.1% of the reported figure: Ronin $625,000, Bybit $1.46M). The square-root growth with the
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
from .drain import drain
from .playbooks import BLOCKS
from .spec import FINGERPRINTS, MAX_SCALED_USD, resolve, resolve_difficulty, topological_order

MIN_WAVE = 0.35  # smallest wave, as a fraction of an equal share of the theft


def _scale(diff: dict, n_benign_ops: int) -> float:
    """The value scale (see the module docstring)."""
    return diff["amount_scale"] * math.sqrt(min(max(n_benign_ops / 25_000, 0.25), 4.0))


def add_incidents(world, stream, services, incidents: list[dict], difficulty: dict, rng,
                  with_twins: bool = True):
    """Append every incident's ops to ``stream``.

    Then, with ``[difficulty] twin_share`` (and ``with_twins``; the footprint's probe runs
    leave them out), the incidents' benign twins (:mod:`.twins`).
    Returns ``(meta, seeds)``: one metadata dict per incident (for meta.json) and
    ``{incident_id: insertion indices of its drain ops}`` (the announced hack transactions).
    """
    diff = resolve_difficulty(difficulty)
    scale = _scale(diff, stream.n)
    memo_used = set()
    for b in stream.batches("memo"):
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
    steps = topological_order(all_steps, f"incident[{k}]")
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
