"""Commands for teaching: ``export`` (Gephi, GraphML, node-link JSON), ``draw`` (a figure of
one incident) and ``explore`` (one offline HTML page with a time slider and a quiz).

Each takes a dataset directory or, for ``draw`` and ``explore``, a scenario id, which is then
generated small (``--transactions``) on the fly.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click

from launderbench.simulator.errors import ConfigError

#: size of the dataset generated when a scenario id is given instead of a directory
SMALL_TRANSACTIONS = 2000


def load_or_make(source: str, transactions: int = SMALL_TRANSACTIONS, seed: int = 0):
    """A dataset directory, a scenario id or a scenario TOML file -> a dataset."""
    from launderbench.simulator.dataset import Dataset
    from launderbench.simulator.generate import make

    p = Path(source)
    if p.is_dir():
        from .importer import read_identity

        ds = Dataset.load(p)
        ds.identity = read_identity(p)  # imported data: its original address strings
        return ds
    return make(source, seed=seed, transactions=transactions)


def default_incident(ds) -> int:
    """The first announced incident of ``ds``."""
    if not ds.seeds.num_rows:
        raise ConfigError("this dataset has no announced incident to show")
    return int(ds.seeds["incident_id"][0])


def _check_out(out: Path, overwrite: bool) -> None:
    """An existing file is replaced only when asked (``--overwrite``): nothing a user owns
    is lost by a typo."""
    if out.exists() and not overwrite:
        raise ConfigError(f"refusing to replace {out}: it exists (pass --overwrite to replace "
                          "it)")
    if out.exists() and not out.is_file():
        raise ConfigError(f"{out} exists and is not a file")


@contextlib.contextmanager
def _atomic(out: Path):
    """A temporary sibling with the same suffix, renamed onto ``out`` when the block
    succeeds (removed when it fails): ``out`` is the old file or the complete new one."""
    tmp = out.with_name(f".{out.stem}.tmp-{os.getpid()}{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def _prepare(out: Path, suffixes, source, incident, transactions, seed, overwrite=False):
    """Check the output (suffix, an existing file) before any work, then the dataset and
    the incident."""
    if out.suffix.lower() not in suffixes:
        raise ConfigError(f"cannot write '{out.name}': use a {' or '.join(suffixes)} file")
    _check_out(out, overwrite)
    ds = load_or_make(source, transactions, seed)
    return ds, default_incident(ds) if incident is None else incident


_source = click.argument("source", metavar="DATASET_OR_SCENARIO")
_incident = click.option("--incident", "-i", type=click.IntRange(min=0), default=None,
                         help="Incident id (default: the first announced one).")
_hops = click.option("--hops", "-k", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Hops of benign context around the laundering.")
_small = click.option("--transactions", "-n", type=click.IntRange(min=100),
                      default=SMALL_TRANSACTIONS, show_default=True,
                      help="Benign transactions when a scenario id is generated on the fly.")
_max_nodes = click.option("--max-nodes", type=click.IntRange(min=10), default=500,
                          show_default=True,
                          help="Past this many addresses, like addresses of a layer are bundled.")
_seed = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
_overwrite = click.option("--overwrite", is_flag=True,
                          help="Replace --out if it exists (by default an existing file is "
                               "refused).")


@click.command("export")
@_source
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml", "json"]), default=None,
              help="File format (default: from the suffix of --out).")
@_incident
@_hops
@click.option("--all", "whole", is_flag=True,
              help="Export the whole dataset instead of one incident (small datasets only).")
@click.option("--no-truth", is_flag=True, help="Leave the truth_* attributes out.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True)
@_small
@_seed
@_overwrite
def export_cmd(source, fmt, incident, hops, whole, no_truth, out, transactions, seed,
               overwrite):
    """Export an incident's flow (or a small dataset) for Gephi, yEd or web tools.

    GEXF is dynamic (nodes and edges carry `start`, so Gephi's timeline replays the flow);
    GraphML and JSON carry the same times as attributes. Ground truth is in `truth_*`
    attributes; --no-truth leaves it out (for exercises).
    """
    from launderbench.simulator.export import FORMATS, to_networkx, write_graph

    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError(f"cannot tell the format from '{out.name}': pass --format "
                          f"({', '.join(FORMATS)})")
    _check_out(out, overwrite)
    ds = load_or_make(source, transactions, seed)
    if whole:
        g = to_networkx(ds, truth=not no_truth)
    else:
        inc = default_incident(ds) if incident is None else incident
        g = to_networkx(ds, incident=inc, hops=hops, truth=not no_truth)
    with _atomic(out) as tmp:
        write_graph(g, tmp, fmt)
    click.echo(f"wrote {out}: {g.number_of_nodes():,} addresses, {g.number_of_edges():,} "
               f"transfers ({fmt}{', no truth' if no_truth else ''})")


@click.command("draw")
@_source
@_incident
@_hops
@_max_nodes
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Figure file: .png, .svg or .pdf.")
@_small
@_seed
@_overwrite
def draw_cmd(source, incident, hops, max_nodes, out, transactions, seed, overwrite):
    """Draw an incident's laundering flow, left to right in time.

    Hop layers on x, one band per chain, fill colour = role, ring = stage, shapes = services
    (exchange, mixer, bridge, OTC, ...), edge width = value, hidden service links dashed.
    """
    from .draw import draw_incident

    ds, inc = _prepare(out, (".png", ".svg", ".pdf"), source, incident, transactions, seed,
                       overwrite)
    with _atomic(out) as tmp:
        draw_incident(ds, tmp, incident=inc, hops=hops, max_nodes=max_nodes)
    click.echo(f"wrote {out} (incident {inc})")


@click.command("explore")
@_source
@_incident
@click.option("--hops", "-k", type=click.IntRange(min=0), default=1, show_default=True,
              help="Hops of benign context around the laundering (the quiz's decoys).")
@_max_nodes
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The HTML file to write.")
@_small
@_seed
@_overwrite
def explore_cmd(source, incident, hops, max_nodes, out, transactions, seed, overwrite):
    """Write one self-contained HTML page to explore an incident offline.

    Pan and zoom, a time slider that replays the flow, details on click, an address search,
    and a quiz ("which addresses are the launderer's?") that hides the truth and scores the
    picks. The page needs no network: the graph library is inside it.
    """
    from .explore import write_explorer

    ds, inc = _prepare(out, (".html", ".htm"), source, incident, transactions, seed,
                       overwrite)
    with _atomic(out) as tmp:
        write_explorer(ds, tmp, incident=inc, hops=hops, max_nodes=max_nodes)
    click.echo(f"wrote {out} (incident {inc}; open it in a browser, no network needed)")


#: the teaching commands, in the order ``launderbench --help`` lists them
EDU_COMMANDS = [export_cmd, draw_cmd, explore_cmd]
