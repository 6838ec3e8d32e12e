"""The report: ``write_report(results, out_dir)`` writes ``report.md`` and ``index.html``.

Sections: the leaderboard (aggregate over scenarios, mean ± 95 % interval over seeds;
:mod:`launderbench.benchmarks.leaderboard`), **Validity** (the one-feature shortcuts'
distance from chance per scenario, the stability of the ranking across seeds, each
scenario's headroom; :mod:`launderbench.benchmarks.stats`), a table per scenario, and the
figures (:mod:`launderbench.benchmarks.figures`): precision-recall per task across scenarios,
recall per stage and typology, runtime, robustness to benign look-alikes when the run sweeps
them, and one drawn incident.
"""

from __future__ import annotations

import math
from pathlib import Path

from .chance import CHANCE_TASKS, CHANCE_TOLERANCE, SHORTCUTS
from .figures import (
    plot_incident,
    plot_pr_curves,
    plot_robustness,
    plot_runtime,
    plot_typology_heatmap,
)
from .leaderboard import (
    FOOTNOTE,
    HEADLINE,
    MARKS,
    detector_kind,
    format_cell,
    format_table,
    leaderboard,
    markdown_table,
    scenario_boards,
)
from .runner import Results
from .stats import cell_table, headroom, ranking_stability


# ----------------------------------------------------------------------------- validity
def _shortcut_tables(results) -> list[str]:
    """Per task on which the band is read: each one-feature shortcut's ROC-AUC per scenario,
    mean ± 95 % interval over seeds; a mean beyond the band is in bold."""
    md = []
    for task in CHANCE_TASKS:
        cells = cell_table(results.rows, task, "roc_auc")
        shorts = [s for s in SHORTCUTS if any(s in c for c in cells.values())]
        if not shorts:
            continue
        md += [f"**{task}** (ROC-AUC; band 0.5 ± {CHANCE_TOLERANCE})", "",
               "| scenario | " + " | ".join(shorts) + " |",
               "|---|" + "---:|" * len(shorts)]
        for scen in sorted(cells):
            out = []
            for s in shorts:
                c = cells[scen].get(s)
                text = format_cell(c) if c else "–"
                if c and not math.isnan(c[0]) and abs(c[0] - 0.5) > CHANCE_TOLERANCE:
                    text = f"**{text}**"
                out.append(text)
            md.append(f"| {scen} | " + " | ".join(out) + " |")
        md.append("")
    return md


def _stability(results) -> list[str]:
    seeds = sorted({r["seed"] for r in results.rows})
    if len(seeds) < 2:
        return [f"Ranking stability needs two seeds or more; this run has {len(seeds)}.", ""]
    md = ["| headline metric | Kendall tau | target 0.8 |", "|---|---:|---|"]
    for head, task, metric in HEADLINE:
        tau = ranking_stability(results.rows, task, metric)
        if math.isnan(tau):
            continue
        md.append(f"| {head} | {tau:.2f} | {'met' if tau >= 0.8 else 'not met'} |")
    return md + [""]


def _headroom(results) -> list[str]:
    rows = headroom(results.rows)
    if not rows:
        return ["No scenario has both a real detector and a shortcut on a ranking task.", ""]
    wins = sum(r["headroom"] > 0 for r in rows)
    md = [f"The best real detector beats every one-feature shortcut on {wins} of {len(rows)} "
          "scenario-task pairs (PR-AUC, mean over seeds).", "",
          "| scenario | task | best detector | PR-AUC | best shortcut | PR-AUC | headroom |",
          "|---|---|---|---:|---|---:|---:|"]
    for r in rows:
        md.append(f"| {r['scenario']} | {r['task']} | {r['detector']} | {r['value']:.3f} | "
                  f"{r['shortcut']} | {r['shortcut_value']:.3f} | {r['headroom']:+.3f} |")
    return md + [""]


def _placebos(results) -> list[str]:
    """Per baseline and task: its results beside benign look-alikes labelled as the
    laundering (``results.placebos``)."""
    if not results.placebos:
        return ["This run evaluated no placebos (`RunConfig.placebos`; the default suite "
                "reads each baseline against 5 per dataset).", ""]
    from .validity import apart_summary

    groups = apart_summary(results.placebos)
    n_apart = sum(len(g["apart"]) for g in groups)
    expected = sum(g["expected"] for g in groups)
    md = [f"Each baseline's ROC-AUC on the real laundering beside its placebos: the same "
          "dataset with one benign look-alike (a benign entity running the incident's "
          "playbook with its own funds) labelled as the laundering. A real result at "
          "percentile 0 or 100, farther from 0.5 than every placebo, is *set apart*; by "
          f"chance that happens to 1 in k+1. Here {n_apart} results are set apart where "
          f"chance gives {expected:.1f}.", "",
          "| baseline | task | results | real ROC-AUC | placebos 5-95% | mean percentile | "
          "set apart | by chance | p |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for g in groups:
        md.append(f"| {g['detector']}{MARKS[detector_kind(g['detector'])]} | {g['task']} | "
                  f"{g['n']} | {g['real']:.3f} | {g['p5']:.2f}-{g['p95']:.2f} | "
                  f"{g['percentile']:.0f} | {len(g['apart'])} | {g['expected']:.1f} | "
                  f"{g['p']:.2f} |")
    return md + [""]


def validity_section(results) -> list[str]:
    """The report's Validity section (Markdown lines): the shortcuts' distance from chance,
    the baselines beside their placebos, the stability of the ranking across seeds and each
    scenario's headroom."""
    return [
        "## Validity", "",
        "Four readings, each over the seeds of this run; the validity protocol and its larger "
        "benchmark are in docs/validity.md.",
        "",
        "### One-feature shortcuts", "",
        "How far a score that knows nothing of laundering gets: `random`, `degree`, `amount` "
        "and `address-age` rank by one feature. A mean beyond the band (bold) says that the "
        "feature separates the labelled laundering there; whether that is a generator "
        "artifact is what the placebo test decides (a benign look-alike labelled as the "
        "laundering lands as far just as often: `python -m launderbench.benchmarks.validity "
        "--placebos 10`).", "",
        *_shortcut_tables(results),
        "### Placebos", "",
        *_placebos(results),
        "### Ranking stability", "",
        "Kendall's tau between the detectors' per-seed aggregates, mean over pairs of seeds: "
        "1 means every seed ranks the detectors the same way.", "",
        *_stability(results),
        "### Headroom", "",
        *_headroom(results),
    ]


# ----------------------------------------------------------------------------- report
def _intro(results) -> str:
    cfg = results.config
    scen = sorted({r["scenario"] for r in results.rows})
    seeds = sorted({r["seed"] for r in results.rows})
    return (f"Suite `{cfg.suite if cfg else '?'}`: {len(scen)} scenario(s), seed(s) "
            f"{', '.join(map(str, seeds))}. Each cell is a mean with its 95% interval over "
            "the seeds (Student t). The aggregate leaderboard is the mean over scenarios, "
            "formed seed by seed and then averaged over seeds; the tables per scenario "
            "follow it. `results.parquet` holds every seed's rows and every break-down "
            "(typology, stage, incident, chain). " + FOOTNOTE.replace("* ", "`*` ", 1)
            .replace("+ learns", "`+` learns") + "." + _learning(results))


def _learning(results) -> str:
    """How the detectors that learn were trained (their rows' protocol and labels)."""
    seen = sorted({(r.get("protocol"), r.get("labels"), r.get("trained_on") or "")
                   for r in results.rows if r.get("protocol")})
    if not seen:
        return ""
    protocols = sorted({p for p, _, _ in seen})
    labels = sorted({lab for _, lab, _ in seen})
    text = (f" Detectors that learn were trained **{' and '.join(protocols)}ly** "
            f"({'; '.join(f'`{x}`' for x in labels)} labels)")
    if "transductive" in protocols:
        text += ": on the training part of the dataset they are tested on"
    trained = sorted({t for _, _, t in seen if t})
    if trained:
        more = f" and {len(trained) - 3} more" if len(trained) > 3 else ""
        text += f"; inductive fits on {', '.join(trained[:3])}{more}"
    return text + "."


def write_report(results: Results, out_dir, example_dataset=None) -> Path:
    """Write ``index.html``, ``report.md`` and the figures into ``out_dir``; return its path.

    ``report.md`` is the document; ``index.html`` is the same text rendered by
    Python-Markdown, with the figures beside it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    board = leaderboard(results)
    figs = [(f"Precision-recall: {p.stem.removeprefix('pr_').replace('_', '/', 1)}", p.name)
            for p in plot_pr_curves(results, out)]
    for title, fn in (("Recall per stage and typology", plot_typology_heatmap),
                      ("Runtime", plot_runtime),
                      ("Robustness to benign look-alikes", plot_robustness)):
        p = fn(results, out / f"{fn.__name__.removeprefix('plot_')}.png")
        if p is not None:
            figs.append((title, p.name))
    if example_dataset is not None:
        p = plot_incident(example_dataset, out / "incident.png")
        if p is not None:
            figs.append(("An example incident", p.name))
    md = ["# launderbench report", "", _intro(results), "", "## Leaderboard", "",
          markdown_table(board), ""]
    skipped = sorted({(r["scenario"], r["task"], r["error"]) for r in results.rows
                      if r["status"] == "skipped"})
    if skipped:
        md += ["**Tasks skipped** (the dataset cannot support them; no detector is scored "
               "there):", ""] + [f"- {task} on {scen}: {reason}"
                                 for scen, task, reason in skipped] + [""]
    md += validity_section(results)
    md += ["## Per scenario", ""]
    for scen, sboard in scenario_boards(results).items():
        md += [f"### {scen}", "", markdown_table(sboard), ""]
    md += ["## Figures", ""]
    for title, name in figs:
        md += [f"### {title}", "", f"![{title}]({name})", ""]
    text = "\n".join(md)
    (out / "report.md").write_text(text)
    import markdown

    body = markdown.markdown(text, extensions=["tables"], output_format="html")
    style = ("body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;"
             "padding:0 1em;color:#222;line-height:1.45}"
             "table{border-collapse:collapse;font-size:12.5px;margin:0.6em 0 1.2em}"
             "td,th{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;"
             "white-space:nowrap}"
             "thead th{background:#f3f3f3}tbody tr:nth-child(even){background:#fafafa}"
             "code{background:#f3f3f3;padding:0 3px;border-radius:3px}"
             "img{max-width:100%;border:1px solid #eee}h2{border-bottom:1px solid #ddd;"
             "padding-bottom:3px;margin-top:2em}")
    (out / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>launderbench report"
        f"</title><style>{style}</style></head><body>{body}</body></html>\n")
    return out


__all__ = ["write_report", "validity_section", "leaderboard", "format_table",
           "markdown_table", "plot_incident"]
