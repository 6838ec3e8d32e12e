"""Learned detectors evaluated honestly: the two protocols side by side, and a generalisation
table across scenario families.

A detector that learns from labels can be trained in two ways (:data:`~launderbench.
benchmarks.runner.PROTOCOLS`):

* **transductive**: fitted on the labelled training part of the dataset it is then tested on
  (one graph; the test part's transactions exist at scoring time, never at fitting time:
  every learned detector passes ``check_fit_ignores_the_future``);
* **inductive**: fitted on the whole of another dataset (another seed of the same scenario:
  the same playbook run by another actor in another economy), then tested on a dataset it has
  never seen.

Both are tested on the same test part of the same datasets, so the gap between the two
columns is what seeing the tested graph's own labelled past is worth. The generalisation table
fits on one scenario and tests on every other (for example Ronin-like to DMM-like): what a
model learns of one playbook that carries to another. Every figure sits beside the one-feature
shortcuts on the same datasets (:data:`~launderbench.benchmarks.chance.SHORTCUTS`).

The whole study is one run of the benchmark runner (its jobs run serially or on worker
processes), written as a results directory plus ``learned.md``::

    python -m launderbench.benchmarks.learned --transactions 10000 --seeds 0,1,2 \\
        --train-seed 3 --workers 2 --out reports/learned

Label knobs (``--label-share``, ``--label-noise``, ``--label-delay``,
:mod:`launderbench.benchmarks.labels`) apply to every fit.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

from launderbench.simulator.errors import ConfigError, LaunderbenchError

from .chance import SHORTCUTS
from .labels import FULL, LabelPolicy
from .runner import (
    DetectorSpec,
    RunConfig,
    all_detector_names,
    learns_from_labels,
    run,
    validate_detectors,
)
from .stats import mean_ci
from .suites import ScenarioRun, laundering_presets

__all__ = ["learned_detectors", "study_configs", "unique_jobs", "protocol_table", "generalisation_table",
           "format_markdown", "main", "METRICS"]

#: the figures of the study: (column, task, metric)
METRICS = (("addr PR-AUC", "classification/address", "pr_auc"),
           ("tx PR-AUC", "classification/transaction", "pr_auc"))


def learned_detectors(include_slow: bool = False) -> list[str]:
    """Registered detectors that learn from labels and can run here (their extra is
    installed); without ``include_slow``, those tagged ``slow`` (the graph neural networks)
    are left out."""
    return [n for n in all_detector_names(include_slow) if learns_from_labels(DetectorSpec(n))]


def study_configs(scenarios, seeds, train_seed: int, detectors, train_scenarios=(),
                  labels: LabelPolicy = FULL) -> dict[str, RunConfig]:
    """The run configurations of the study: ``transductive`` and ``inductive`` (every
    scenario, the learned detectors and the shortcuts) and one ``generalisation:<id>`` per
    training scenario (the learned detectors fitted on it, tested on every scenario)."""
    dets = [DetectorSpec(d) for d in detectors]
    shortcuts = [DetectorSpec(d) for d in SHORTCUTS]
    runs = list(scenarios)
    cfgs = {
        "transductive": RunConfig("learned", runs, list(seeds), dets + shortcuts,
                                  memory=False, labels=labels),
        "inductive": RunConfig("learned", runs, list(seeds), dets, memory=False,
                               labels=labels, protocol="inductive", train_seed=train_seed),
    }
    for tr in train_scenarios:
        cfgs[f"generalisation:{tr.label}"] = RunConfig(
            "learned", runs, list(seeds), dets, memory=False, labels=labels,
            protocol="inductive", train_seed=train_seed, train_scenario=tr)
    return cfgs


def _cells(rows, task, metric, key) -> dict:
    vals = defaultdict(list)
    for r in rows:
        if (r["status"] == "ok" and r["group"] == "all" and r["task"] == task
                and r["metric"] == metric and not math.isnan(r["value"])):
            vals[key(r)].append(r["value"])
    return {k: mean_ci(v) for k, v in vals.items()}


def protocol_table(rows) -> list[dict]:
    """One row per scenario and metric: each learned detector's mean (95 % interval over the
    seeds) transductive and inductive, and the best shortcut's mean."""
    learned = sorted({r["detector"] for r in rows if r.get("protocol")})
    scen = sorted({r["scenario"] for r in rows})
    # inductive here: fitted on another seed of the tested scenario (not on another scenario)
    rows = [r for r in rows if r.get("protocol") != "inductive" or _own(r)]
    out = []
    for head, task, metric in METRICS:
        by = _cells(rows, task, metric,
                    lambda r: (r["scenario"], r["detector"], r.get("protocol") or ""))
        for s in scen:
            row = {"scenario": s, "metric": head}
            for d in learned:
                for p in ("transductive", "inductive"):
                    row[f"{d} ({p})"] = by.get((s, d, p), (math.nan, math.nan, 0))
            best = max((by[(s, d, "")] for d in SHORTCUTS if (s, d, "") in by),
                       key=lambda c: c[0], default=(math.nan, math.nan, 0))
            row["best shortcut"] = best
            out.append(row)
    return out


def _own(row) -> bool:
    """Whether an inductive row was fitted on another seed of its own scenario."""
    return (row.get("trained_on") or "").startswith(row["scenario"] + " seed ")


def unique_jobs(cfgs) -> list:
    """The jobs of several configurations, each once (the generalisation table's diagonal is
    the inductive protocol's own run)."""
    out, seen = [], set()
    for c in cfgs.values():
        for j in c.jobs():
            key = repr(j)
            if key not in seen:
                seen.add(key)
                out.append(j)
    return out


def generalisation_table(rows, detector: str, task: str = "classification/address",
                         metric: str = "pr_auc") -> dict:
    """``{training dataset: {tested scenario: (mean, half-width, n)}}`` for one learned
    detector under the inductive protocol (rows of :func:`study_configs`'s runs)."""
    cells = _cells([r for r in rows if r["detector"] == detector
                    and r.get("protocol") == "inductive"], task, metric,
                   lambda r: (r["trained_on"], r["scenario"]))
    out: dict = defaultdict(dict)
    for (tr, s), c in cells.items():
        out[tr][s] = c
    return dict(out)


def _fmt(c) -> str:
    m, h, _ = c
    if math.isnan(m):
        return "–"
    return f"{m:.3f}" + ("" if math.isnan(h) else f" ± {h:.2f}")


def _mean(c) -> str:
    return "–" if c is None or math.isnan(c[0]) else f"{c[0]:.3f}"


def _short(label: str) -> str:
    return label.split("[", 1)[0]


def format_markdown(rows, detectors) -> str:
    """The study's tables as Markdown: the protocols per scenario, then one generalisation
    table per learned detector (rows: training scenario, columns: tested scenario)."""
    lines = ["## Transductive and inductive", "",
             "PR-AUC on the test part of each dataset (mean ± 95 % interval over the seeds); "
             "*best shortcut*: the best one-feature shortcut on the same datasets.", ""]
    table = protocol_table(rows)
    if table:
        cols = [c for c in table[0] if c not in ("scenario", "metric")]
        lines.append("| scenario | metric | " + " | ".join(cols) + " |")
        lines.append("|---|---|" + "---:|" * len(cols))
        for r in table:
            lines.append(f"| {_short(r['scenario'])} | {r['metric']} | "
                         + " | ".join(_fmt(r[c]) for c in cols) + " |")
    for d in detectors:
        g = generalisation_table(rows, d)
        trained = sorted(t for t in g if any(_short(t) != _short(s) for s in g[t]))
        if not trained:
            continue
        tested = sorted({s for t in trained for s in g[t]})
        lines += ["", f"## Generalisation: `{d}`, address PR-AUC", "",
                  "Rows: the scenario trained on (one seed, all its labels); columns: the "
                  "scenario tested (its test part, mean over the seeds). The diagonal is the "
                  "inductive protocol on the scenario's own playbook.", "",
                  "| trained on \\ tested | " + " | ".join(_short(s) for s in tested) + " |",
                  "|---|" + "---:|" * len(tested)]
        for t in trained:
            lines.append(f"| {_short(t)} | "
                         + " | ".join(_mean(g[t].get(s)) for s in tested) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m launderbench.benchmarks.learned",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--transactions", type=int, default=10_000)
    ap.add_argument("--seeds", default="0,1,2", help="tested seeds, comma-separated")
    ap.add_argument("--train-seed", type=int, default=None,
                    help="seed of the training datasets (default: largest seed + 1)")
    ap.add_argument("--scenario", action="append", default=None,
                    help="scenarios to test (default: every laundering preset)")
    ap.add_argument("--train-scenario", action="append", default=None,
                    help="scenarios of the generalisation table (default: the tested ones; "
                         "'none' for no table)")
    ap.add_argument("--detector", action="append", default=None,
                    help="learned detectors (default: every available one but the slow)")
    ap.add_argument("--label-share", type=float, default=1.0)
    ap.add_argument("--label-noise", type=float, default=0.0)
    ap.add_argument("--label-delay", type=float, default=0.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("reports/learned"))
    a = ap.parse_args(argv)
    try:
        try:
            seeds = [int(s) for s in a.seeds.split(",") if s.strip()]
        except ValueError:
            seeds = []
        if not seeds or min(seeds) < 0:
            raise ConfigError(f"--seeds: comma-separated non-negative integers, got "
                              f"{a.seeds!r}")
        train_seed = a.train_seed if a.train_seed is not None else max(seeds) + 1
        over = {"transactions": a.transactions}
        scen = [ScenarioRun(s, over) for s in (a.scenario or laundering_presets())]
        if a.train_scenario == ["none"]:
            train = []
        else:
            train = [ScenarioRun(s, over) for s in a.train_scenario] if a.train_scenario \
                else scen
        dets = a.detector or learned_detectors()
        labels = LabelPolicy(share=a.label_share, noise=a.label_noise,
                             delay_days=a.label_delay)
        cfgs = study_configs(scen, seeds, train_seed, dets, train, labels)
        validate_detectors([DetectorSpec(d) for d in dets] + [DetectorSpec(d)
                                                               for d in SHORTCUTS])
        from .runner import check_results_dir

        check_results_dir(a.out)
        jobs = unique_jobs(cfgs)
        t0 = time.perf_counter()
        ex = None
        if a.workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            ex = ProcessPoolExecutor(max_workers=a.workers)
        try:
            res = run(jobs, executor=ex, progress=True)
        finally:
            if ex is not None:
                ex.shutdown()
        # no config.json: the study is several configurations; its command reruns it
        md = format_markdown(res.rows, dets)
        res.save(a.out, also=lambda d: (d / "learned.md").write_text(md))
    except LaunderbenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(md)
    print(f"{len(jobs)} jobs in {time.perf_counter() - t0:.0f} s; results in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
