"""The report: a leaderboard (terminal, Markdown, HTML) and matplotlib figures.

``write_report(results, out_dir)`` writes ``index.html`` and ``report.md`` with

* the leaderboard (headline metrics averaged over scenarios and seeds; shortcut baselines
  marked so that leaks show next to the real detectors),
* the leak check: every shortcut result beyond chance, per scenario, seed and task,
* precision-recall curves (``pr_curves.png``),
* recall per typology as a heatmap (``typology_heatmap.png``),
* runtime against dataset size (``runtime.png``),
* one drawn example incident (``incident.png``): the laundering flow of the first incident,
  addresses placed by hop distance from the theft and coloured by their role.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from .chance import CHANCE_TOLERANCE, chance_violations
from .runner import SHORTCUTS, Results

#: leaderboard columns: (header, task, metric)
HEADLINE = (
    ("trace value@k", "tracing/address", "value_recall@k"),
    ("trace PR-AUC", "tracing/address", "pr_auc"),
    ("trace depth", "tracing/address", "trace_depth@k"),
    ("addr PR-AUC", "classification/address", "pr_auc"),
    ("tx PR-AUC", "classification/transaction", "pr_auc"),
    ("tx F1", "classification/transaction", "f1"),
    ("typology share", "typology", "share@k"),
    ("link F1", "linking", "f1"),
)


def _mean(vals):
    v = [x for x in vals if x is not None and not math.isnan(x)]
    return sum(v) / len(v) if v else math.nan


def leaderboard(results: Results) -> list[dict]:
    """One row per detector: headline metrics averaged over scenarios and seeds."""
    vals = defaultdict(lambda: defaultdict(list))
    timing = defaultdict(dict)
    status = {}
    for r in results.rows:
        d = r["detector"]
        status.setdefault(d, "ok")
        if r["status"] != "ok":
            status[d] = f"failed: {r['error']}"
            continue
        timing[d][(r["scenario"], r["seed"])] = (r["fit_s"], r["score_s"], r["peak_mem_mb"])
        if r["group"] == "all":
            vals[d][(r["task"], r["metric"])].append(r["value"])
    out = []
    for d in status:
        row = {"detector": d, "kind": "shortcut" if d in SHORTCUTS else "detector",
               "status": status[d]}
        for head, task, metric in HEADLINE:
            row[head] = _mean(vals[d].get((task, metric), []))
        t = list(timing[d].values())
        row["fit s"] = _mean([x[0] for x in t])
        row["score s"] = _mean([x[1] for x in t])
        row["peak MB"] = _mean([x[2] for x in t])
        out.append(row)

    def key(r):
        a = r["trace value@k"]
        b = r["addr PR-AUC"]
        return (r["status"] != "ok", -(a if not math.isnan(a) else -1),
                -(b if not math.isnan(b) else -1), r["detector"])

    return sorted(out, key=key)


def _fmt(v, digits=3) -> str:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}f}"


def _columns(board):
    cols = ["detector"] + [h for h, _, _ in HEADLINE] + ["fit s", "score s", "peak MB"]
    # drop metric columns empty for every detector (e.g. no linking task anywhere)
    return [c for c in cols if c == "detector" or any(
        not (isinstance(r[c], float) and math.isnan(r[c])) for r in board)]


def _cells(r, cols):
    name = r["detector"] + (" *" if r["kind"] == "shortcut" else "")
    if r["status"] != "ok":
        name += " (failed)"
    return [name] + [_fmt(r[c]) for c in cols[1:]]


def format_table(board: list[dict]) -> str:
    """The leaderboard as a plain-text table for the terminal."""
    if not board:
        return "(no results)"
    cols = _columns(board)
    rows = [cols] + [_cells(r, cols) for r in board]
    w = [max(len(x[i]) for x in rows) for i in range(len(cols))]
    lines = ["  ".join(x[i].ljust(w[i]) if i == 0 else x[i].rjust(w[i]) for i in range(len(cols)))
             for x in rows]
    lines.insert(1, "  ".join("-" * n for n in w))
    fails = [f"  {r['detector']}: {r['status']}" for r in board if r["status"] != "ok"]
    foot = ["* shortcut baseline: must stay near chance (see random)"]
    return "\n".join(lines + foot + (["failed:"] + fails if fails else []))


def markdown_table(board: list[dict]) -> str:
    cols = _columns(board)
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join(
        "---" if i == 0 else "---:" for i in range(len(cols))) + "|"]
    for r in board:
        out.append("| " + " | ".join(_cells(r, cols)) + " |")
    return "\n".join(out)


def html_table(board: list[dict]) -> str:
    cols = _columns(board)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in board:
        cls = ' class="shortcut"' if r["kind"] == "shortcut" else ""
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r, cols))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ----------------------------------------------------------------------------- figures
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _style(i: int, shortcut: bool) -> dict:
    """A distinct colour per detector (tab20, then other line styles), dotted for shortcuts."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    ls = ":" if shortcut else ("-", "--", "-.")[(i // 20) % 3]
    return {"color": cmap(i % 20), "ls": ls}


def _best_pr(results: Results, task: str, n: int) -> list[str]:
    """The ``n`` detectors with the highest mean PR-AUC on ``task``, plus the shortcuts."""
    acc = defaultdict(list)
    for r in results.rows:
        if r["status"] == "ok" and r["task"] == task and r["group"] == "all" \
                and r["metric"] == "pr_auc":
            acc[r["detector"]].append(r["value"])
    ranked = sorted((d for d in acc if d not in SHORTCUTS),
                    key=lambda d: -np.nan_to_num(_mean(acc[d]), nan=-1))
    return ranked[:n] + [d for d in SHORTCUTS if d in acc]


def plot_pr_curves(results: Results, path: Path, top: int = 8) -> Path | None:
    """One panel per task: the ``top`` detectors by PR-AUC and the shortcuts, on the first
    dataset (a preset rather than the toy ledger where there is one) with positives."""
    curves = [c for c in results.curves if c["recall"]]
    tasks = [t for t in ("tracing/address", "classification/address",
                         "classification/transaction") if any(c["task"] == t for c in curves)]
    if not tasks:
        return None
    plt = _plt()
    dets = sorted({c["detector"] for c in curves})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        cs = [c for c in curves if c["task"] == task]
        keys = list(dict.fromkeys((c["scenario"], c["seed"]) for c in cs))
        key = next((k for k in keys if not k[0].startswith("toy-")), keys[0])
        show = _best_pr(results, task, top)
        for c in cs:
            if (c["scenario"], c["seed"]) != key or c["detector"] not in show:
                continue
            ax.plot(c["recall"], c["precision"], lw=1.4, label=c["detector"],
                    **_style(dets.index(c["detector"]), c["detector"] in SHORTCUTS))
        ax.set_title(f"{task}\n{key[0]} (seed {key[1]})", fontsize=9)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6.5, loc="upper right", ncol=2)
    fig.suptitle(f"Precision-recall: top {top} detectors by PR-AUC and the shortcuts (dotted)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_typology_heatmap(results: Results, path: Path) -> Path | None:
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
    fig.colorbar(im, ax=ax, label="share of laundering txs found (budget k)")
    ax.set_title("Recall per stage and typology (* shortcut)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_runtime(results: Results, path: Path) -> Path | None:
    pts = defaultdict(dict)
    for r in results.rows:
        if r["status"] == "ok" and not math.isnan(r["fit_s"]):
            pts[r["detector"]][(r["scenario"], r["seed"])] = (
                r["n_transactions"], r["fit_s"] + r["score_s"])
    if not pts:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    dets = sorted(pts)
    for i, d in enumerate(dets):
        xy = sorted(pts[d].values())
        st = _style(i, d in SHORTCUTS)
        ax.plot([x for x, _ in xy], [max(y, 1e-4) for _, y in xy], marker="o", ms=3, lw=0.8,
                label=d, **st)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("transactions in the dataset")
    ax.set_ylabel("fit + score seconds")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=6.5, ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Runtime against dataset size", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_incident(ds, path: Path, incident: int | None = None,
                  max_nodes: int = 120) -> Path | None:
    """Draw one incident's laundering flow: hop distance from the theft left to right."""
    from launderbench.simulator.schema import Role

    from .tasks import TaskSet

    ts = TaskSet(ds)
    if "tracing/address" not in ts.tasks:
        return None
    task = ts.tasks["tracing/address"]
    inc = int(ds.seeds["incident_id"][0]) if incident is None else incident
    view = ts.view
    ltx = np.flatnonzero(ts.tx_incident == inc)
    if len(ltx) == 0:
        return None
    ltx = np.union1d(ltx, ds.seeds["tx_id"][ds.seeds["incident_id"] == inc])
    from .tasks import _join_on

    ins, outs = view.inputs, view.outputs
    mi, mo = np.isin(ins["tx_id"], ltx), np.isin(outs["tx_id"], ltx)
    src, dst = _join_on(ins["tx_id"][mi], ins["address_id"][mi], outs["tx_id"][mo],
                        outs["address_id"][mo])
    nodes = np.unique(np.concatenate([src, dst]))
    hops = task.hops.copy()
    hops[ts.addr_victim] = 0
    h = np.where(np.isfinite(hops[nodes]), hops[nodes], np.nan)
    # services and other addresses off the laundering path: one column right of their sender
    order = np.argsort(np.nan_to_num(h, nan=1e9), kind="stable")
    nodes, h = nodes[order][:max_nodes], h[order][:max_nodes]
    pos = {}
    fallback = (np.nanmax(h) + 1) if np.isfinite(h).any() else 1
    cols = defaultdict(int)
    for a, x in zip(nodes, h):
        x = fallback if np.isnan(x) else x
        pos[int(a)] = (x, cols[x])
        cols[x] += 1
    for a in pos:  # centre each column
        x, y = pos[a]
        pos[a] = (x, y - (cols[x] - 1) / 2)
    role = ts.addr_role
    palette = {int(Role.VICTIM): "#d62728", int(Role.THIEF): "#9467bd",
               int(Role.CASHOUT): "#2ca02c", int(Role.MIXER_RECIPIENT): "#17becf",
               int(Role.BENIGN): "#bbbbbb"}
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for s, d in zip(src, dst):
        if int(s) in pos and int(d) in pos and s != d:
            (x0, y0), (x1, y1) = pos[int(s)], pos[int(d)]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops={"arrowstyle": "->", "color": "#888888", "lw": 0.6})
    svc = view.addresses["service_kind"]
    for a, (x, y) in pos.items():
        c = palette.get(int(role[a]), "#ff7f0e")
        marker = "s" if svc[a] else "o"
        ax.scatter([x], [y], s=50, c=c, marker=marker, edgecolors="black", linewidths=0.4,
                   zorder=3)
    from matplotlib.lines import Line2D

    legend = [Line2D([], [], marker="o", ls="", color=c, label=Role(k).name.lower())
              for k, c in palette.items()]
    legend.append(Line2D([], [], marker="o", ls="", color="#ff7f0e", label="other laundering"))
    legend.append(Line2D([], [], marker="s", ls="", color="white", markeredgecolor="black",
                         label="attributed service"))
    ax.legend(handles=legend, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel("transactions from the theft (hops)")
    ax.set_yticks([])
    ax.set_title(f"Incident {inc} of {ds.meta.get('scenario')}: the laundering flow "
                 f"({len(pos)} addresses)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- report
def write_report(results: Results, out_dir, example_dataset=None) -> Path:
    """Write ``index.html``, ``report.md`` and the figures into ``out_dir``; return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    board = leaderboard(results)
    figs = []
    for title, fn in (("Precision-recall curves", plot_pr_curves),
                      ("Recall per typology", plot_typology_heatmap),
                      ("Runtime against dataset size", plot_runtime)):
        p = fn(results, out / f"{fn.__name__.removeprefix('plot_')}.png")
        if p is not None:
            figs.append((title, p.name))
    if example_dataset is not None:
        p = plot_incident(example_dataset, out / "incident.png")
        if p is not None:
            figs.append(("An example incident", p.name))
    cfg = results.config
    scen = sorted({r["scenario"] for r in results.rows})
    seeds = sorted({r["seed"] for r in results.rows})
    intro = (f"Suite `{cfg.suite if cfg else '?'}`: {len(scen)} scenario(s) "
             f"({', '.join(scen)}), seed(s) {', '.join(map(str, seeds))}. "
             "Metrics are averaged over scenarios and seeds (`group = all`); "
             "the tidy rows in `results.parquet` / `results.csv` hold every break-down "
             "(typology, stage, incident, chain). Rows marked * are shortcut baselines: "
             "they use no laundering knowledge and must stay near chance (the `random` row).")
    leaks = chance_violations(results.rows)
    leak_head = (f"{len(leaks)} shortcut result(s) beyond 0.5 +- {CHANCE_TOLERANCE} ROC-AUC: "
                 "a feature that uses no laundering knowledge separates laundering there, so "
                 "scores on that task may partly reflect it. A benign twin labelled as the "
                 "laundering often strays as far from chance (compare with placebos: python -m "
                 "launderbench.benchmarks.leak_survey --placebos 10)." if leaks else
                 f"Every shortcut baseline stays within 0.5 +- {CHANCE_TOLERANCE} ROC-AUC.")
    md = ["# launderbench report", "", intro, "", "## Leaderboard", "", markdown_table(board), "",
          "## Leak check", "", leak_head, ""] + [f"- {v}" for v in leaks] + [""]
    for title, name in figs:
        md += [f"## {title}", "", f"![{title}]({name})", ""]
    (out / "report.md").write_text("\n".join(md))
    body = [f"<h1>launderbench report</h1><p>{html.escape(intro)}</p>",
            "<h2>Leaderboard</h2>", html_table(board),
            f"<h2>Leak check</h2><p>{html.escape(leak_head)}</p>"
            + ("<ul>" + "".join(f"<li>{html.escape(v)}</li>" for v in leaks) + "</ul>"
               if leaks else "")]
    for title, name in figs:
        body.append(f"<h2>{html.escape(title)}</h2><img src='{name}' alt='{html.escape(title)}'>")
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;}"
             "table{border-collapse:collapse;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
             "td:first-child,th:first-child{text-align:left}"
             "tr.shortcut{color:#777;font-style:italic}img{max-width:100%}")
    (out / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>launderbench report</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")
    return out


__all__ = ["leaderboard", "format_table", "markdown_table", "write_report", "plot_incident"]
