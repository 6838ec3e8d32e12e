"""The report's figures (matplotlib, written as PNG): precision-recall curves per task across
scenarios, recall per stage and typology, runtime against size within a scenario family, the
drawn example incident, and headline metrics against the share of benign look-alikes.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from .chance import SHORTCUTS
from .leaderboard import MARKS, detector_kind

__all__ = ["plot_pr_curves", "plot_typology_heatmap", "plot_runtime", "plot_incident",
           "plot_robustness", "PR_TASKS"]

PR_TASKS = ("tracing/address", "classification/address", "classification/transaction")


def _mean(vals):
    v = [x for x in vals if x is not None and not math.isnan(x)]
    return sum(v) / len(v) if v else math.nan


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _style(i: int, shortcut: bool) -> dict:
    """A distinct colour per detector (tab10, then tab20 and other line styles), dotted for
    shortcuts."""
    import matplotlib

    ls = ":" if shortcut else ("-", "--", "-.")[(i // 20) % 3]
    if i < 10:  # ten clearly distinct colours first, then the lighter shades as well
        return {"color": matplotlib.colormaps["tab10"](i), "ls": ls}
    return {"color": matplotlib.colormaps["tab20"](i % 20), "ls": ls}


def _top_detectors(results, task: str, n: int) -> list[str]:
    """The ``n`` real detectors with the highest mean PR-AUC on ``task`` (all scenarios and
    seeds), then the one-feature shortcuts that ran."""
    acc = defaultdict(list)
    for r in results.rows:
        if (r["status"] == "ok" and r["task"] == task and r["group"] == "all"
                and r["metric"] == "pr_auc"):
            acc[r["detector"]].append(r["value"])
    ranked = sorted((d for d in acc if d not in SHORTCUTS),
                    key=lambda d: -np.nan_to_num(_mean(acc[d]), nan=-1))
    return ranked[:n] + [d for d in SHORTCUTS if d in acc]


def _short(scenario: str) -> str:
    """``easy-v1[transactions=10000]`` -> ``easy-v1 (10,000 tx)``."""
    m = re.match(r"^(.*)\[transactions=(\d+)\]$", scenario)
    return f"{m.group(1)} ({int(m.group(2)):,} tx)" if m else scenario


def plot_pr_curves(results, out_dir: Path, top: int = 6) -> list[Path]:
    """One figure per task (``pr_<task>.png``): a panel per scenario (its first seed), the
    ``top`` detectors by mean PR-AUC on the task and the shortcuts (dotted), one shared legend
    beside the panels so that it hides no curve."""
    curves = [c for c in results.curves if c["recall"]]
    paths = []
    plt = _plt()
    for task in PR_TASKS:
        cs = [c for c in curves if c["task"] == task]
        if not cs:
            continue
        scenarios = sorted({c["scenario"] for c in cs})
        first_seed = {s: min(c["seed"] for c in cs if c["scenario"] == s) for s in scenarios}
        show = _top_detectors(results, task, top)
        colour = {d: i for i, d in enumerate(show)}
        ncol = min(4, len(scenarios))
        nrow = math.ceil(len(scenarios) / ncol)
        legend_w = 2.4
        fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol + legend_w, 2.7 * nrow + 0.6),
                                 squeeze=False, sharex=True, sharey=True)
        handles = {}
        for ax, scen in zip(axes.flat, scenarios):
            for c in cs:
                if ((c["scenario"], c["seed"]) != (scen, first_seed[scen])
                        or c["detector"] not in show):
                    continue
                (line,) = ax.plot(c["recall"], c["precision"], lw=1.3,
                                  **_style(colour[c["detector"]], c["detector"] in SHORTCUTS))
                handles.setdefault(c["detector"], line)
            ax.set_title(_short(scen), fontsize=8)
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(scenarios):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("recall", fontsize=8)
        for ax in axes[:, 0]:
            ax.set_ylabel("precision", fontsize=8)
        names = [d for d in show if d in handles]
        right = 1.0 - legend_w / fig.get_figwidth()
        fig.legend([handles[d] for d in names], [d + MARKS[detector_kind(d)] for d in names],
                   loc="center left", bbox_to_anchor=(right + 0.01, 0.5), fontsize=7.5,
                   frameon=False)
        fig.suptitle(f"{task}: precision-recall per scenario (first seed); top {top} "
                     "detectors by PR-AUC, shortcuts dotted", fontsize=9)
        fig.tight_layout(rect=(0, 0, right, 0.96))
        path = Path(out_dir) / f"pr_{task.replace('/', '_')}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_typology_heatmap(results, path: Path) -> Path | None:
    acc = defaultdict(list)
    for r in results.rows:
        if (r["status"] == "ok" and r["task"] == "typology" and r["metric"] == "share@k"
                and r["group"].startswith(("typology=", "stage="))):
            acc[(r["detector"], r["group"])].append(r["value"])
    if not acc:
        return None
    dets = sorted({d for d, _ in acc}, key=lambda d: (d in SHORTCUTS, d))
    groups = sorted({g for _, g in acc}, key=lambda g: (not g.startswith("stage="), g))
    m = np.full((len(dets), len(groups)), np.nan)
    for (d, g), v in acc.items():
        m[dets.index(d), groups.index(g)] = _mean(v)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(groups), 1.2 + 0.38 * len(dets)))
    im = ax.imshow(m, vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(groups)), [g.split("=", 1)[1] for g in groups], rotation=45,
                  ha="right", fontsize=8)
    ax.set_yticks(range(len(dets)), [d + (" *" if d in SHORTCUTS else "") for d in dets],
                  fontsize=8)
    for i in range(len(dets)):
        for j in range(len(groups)):
            if not np.isnan(m[i, j]):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if m[i, j] < 0.5 else "black")
    fig.colorbar(im, ax=ax, label="share found (budget k)")
    ax.set_title("Recall per stage and typology (* shortcut)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _family(scenario: str) -> str:
    """A scenario without its overrides (``easy-v1[transactions=2000]`` -> ``easy-v1``)."""
    return scenario.split("[", 1)[0]


def plot_runtime(results, path: Path) -> Path | None:
    """Fit + score seconds against dataset size within the scenario family that the run has
    at the most sizes, one line per detector (lines join sizes of one family only; compilation
    is excluded, see ``warmup_s``). With no family at two sizes or more: one bar per detector,
    its mean time on the run's datasets."""
    pts = defaultdict(lambda: defaultdict(list))
    for r in results.rows:
        if r["status"] == "ok" and not math.isnan(r["fit_s"]):
            pts[_family(r["scenario"])][(r["detector"], r["n_transactions"])].append(
                r["fit_s"] + r["score_s"])
    if not pts:
        return None
    sizes = {f: {n for _, n in v} for f, v in pts.items()}
    family = max(sizes, key=lambda f: (len(sizes[f]), f))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    if len(sizes[family]) >= 2:
        dets = sorted({d for d, _ in pts[family]})
        for i, d in enumerate(dets):
            xy = sorted((n, _mean(v)) for (dd, n), v in pts[family].items() if dd == d)
            ax.plot([x for x, _ in xy], [max(y, 1e-4) for _, y in xy], marker="o", ms=3,
                    lw=0.9, label=d + MARKS[detector_kind(d)], **_style(i, d in SHORTCUTS))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"transactions ({family})")
        ax.set_ylabel("fit + score seconds")
        ax.set_title(f"Runtime against size: {family} (compilation excluded)", fontsize=10)
        ax.legend(fontsize=6.5, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  frameon=False)
    else:
        every = defaultdict(list)
        for f in pts:
            for (d, _), v in pts[f].items():
                every[d] += v
        order = sorted(every, key=lambda d: _mean(every[d]))
        ax.barh(range(len(order)), [max(_mean(every[d]), 1e-4) for d in order],
                color="#4c72b0")
        ax.set_yticks(range(len(order)), [d + MARKS[detector_kind(d)] for d in order],
                      fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel("fit + score seconds, mean over the run's datasets")
        ax.set_title("Runtime per detector (compilation excluded; run one scenario at several "
                     "sizes for a growth curve)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_robustness(results, path: Path, knob: str = "twin_share") -> Path | None:
    """Each detector's PR-AUC (tracing and address classification) against a difficulty knob
    that the run sweeps (scenarios named ``id[knob=value]``), one panel per scenario family
    and task, mean over seeds."""
    pat = re.compile(rf"(?:\[|,){re.escape(knob)}=([0-9.eE+-]+)")
    pts = defaultdict(lambda: defaultdict(list))
    for r in results.rows:
        m = pat.search(r["scenario"])
        if (m and r["status"] == "ok" and r["group"] == "all" and r["metric"] == "pr_auc"
                and r["task"] in ("tracing/address", "classification/address")):
            pts[(_family(r["scenario"]), r["task"])][(r["detector"], float(m.group(1)))].append(
                r["value"])
    if not pts:
        return None
    panels = sorted(pts)
    plt = _plt()
    ncol = min(3, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    legend_w = 2.3
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol + legend_w, 3.0 * nrow + 0.5),
                             squeeze=False, sharey=True)
    handles = {}
    dets = sorted({d for p in panels for d, _ in pts[p]})
    for ax, panel in zip(axes.flat, panels):
        for i, d in enumerate(dets):
            xy = sorted((x, _mean(v)) for (dd, x), v in pts[panel].items() if dd == d)
            if len(xy) < 2:
                continue
            (line,) = ax.plot([x for x, _ in xy], [y for _, y in xy], marker="o", ms=3, lw=1,
                              **_style(i, d in SHORTCUTS))
            handles.setdefault(d, line)
        ax.set_title(f"{panel[0]}: {panel[1]}", fontsize=8)
        ax.set_xlabel(knob, fontsize=8)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    axes[0, 0].set_ylabel("PR-AUC", fontsize=8)
    right = 1.0 - legend_w / fig.get_figwidth()
    fig.legend(list(handles.values()), [d + MARKS[detector_kind(d)] for d in handles],
               loc="center left", bbox_to_anchor=(right + 0.01, 0.5), fontsize=7,
               frameon=False)
    fig.suptitle(f"PR-AUC against {knob} (benign look-alikes per incident), mean over seeds",
                 fontsize=9)
    fig.tight_layout(rect=(0, 0, right, 0.95))
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_incident(ds, path: Path, incident: int | None = None,
                  max_nodes: int = 500) -> Path | None:
    """Draw one incident's laundering flow (:func:`launderbench.benchmarks.draw.draw_incident`);
    None when ``ds`` has no announced incident."""
    from .draw import draw_incident

    if incident is None and not ds.seeds.num_rows:
        return None
    return draw_incident(ds, path, incident=incident, max_nodes=max_nodes)


