"""The ``launderbench`` command line.

Every user error (bad arguments, malformed config, missing or corrupt dataset, unsatisfiable
scenario) is one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from launderbench.simulator.errors import LaunderbenchError

from .commands import COMMANDS
from .learned_commands import features_cmd


class _Group(click.Group):
    """Turns launderbench errors into one line and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except LaunderbenchError as e:
            click.echo(f"launderbench: error: {e}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # `launderbench scenarios | head`: the reader has enough
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as e:  # disk full, permissions, a path that vanished: one line
            where = f": {e.filename}" if e.filename else ""
            click.echo(f"launderbench: error: {e.strerror or e}{where}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="launderbench")
def cli():
    """launderbench: simulate crypto money laundering and benchmark its detectors."""


@cli.command()
@click.option("--scenario", "-s", default="benign", show_default=True,
              help="Registered scenario id (see `launderbench scenarios`) or a TOML file.")
@click.option("--transactions", "-n", type=click.IntRange(min=1), default=None,
              help="Approximate number of benign transactions (overrides the scenario).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output dataset directory (written atomically).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--no-memory-check", is_flag=True,
              help="Generate even when the scenario seems too large for this machine.")
@click.option("--shard-size", type=click.IntRange(min=0), default=None,
              help="Ops the ledger kernel runs at a time (0: all at once); changes memory "
                   "use, never the dataset.  [default: 262144]")
def generate(scenario, transactions, seed, out, quiet, no_memory_check, shard_size):
    """Generate a labelled ledger and write it as Parquet + meta.json.

    Large ledgers use memory of about 100 bytes per transaction and, while they are
    generated, temporary disk of about 340 bytes per transaction in $TMPDIR (else /tmp);
    the files there are removed at the end.
    """
    import os

    from launderbench.simulator import write
    from launderbench.simulator.memory import SKIP_ENV

    if no_memory_check:
        os.environ[SKIP_ENV] = "1"

    overrides = {} if transactions is None else {"transactions": transactions}
    meta = write(scenario, out, seed=seed, progress=not quiet, shard_size=shard_size,
                 **overrides)
    c = meta["counts"]
    click.echo(
        f"wrote {out}: {c['transactions']:,} transactions, {c['addresses']:,} addresses, "
        f"{len(meta.get('incidents', []))} incident(s), hash {meta['content_hash'][:12]}"
    )


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def describe(dataset, as_json):
    """Print the statistics of a dataset directory."""
    import json

    from launderbench.simulator.dataset import Dataset
    from launderbench.simulator.describe import describe as describe_ds
    from launderbench.simulator.describe import format_stats

    stats = describe_ds(Dataset.load(dataset))
    click.echo(json.dumps(stats, indent=2) if as_json else format_stats(stats))


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
def check(dataset):
    """Check a dataset's ledger invariants and truth (exit 1 when any fails)."""
    from launderbench.simulator.check import problems
    from launderbench.simulator.dataset import Dataset

    ds = Dataset.load(dataset)
    found = problems(ds)
    for line in found:
        click.echo(f"{dataset}: {line}", err=True)
    if found:
        click.echo(f"{dataset}: {len(found)} problem(s)", err=True)
        sys.exit(1)
    from launderbench.simulator.check import skipped_checks

    skipped = skipped_checks(ds)
    click.echo(f"{dataset}: ok ({ds.transactions.num_rows:,} transactions, "
               f"{ds.addresses.num_rows:,} addresses"
               + (f"; a slice of a chain, so not checked: {', '.join(skipped)}" if skipped
                  else "") + ")")


@cli.command()
def scenarios():
    """List the registered scenarios."""
    from launderbench.simulator import registry

    for sid, desc in registry.list_scenarios().items():
        click.echo(f"{sid:28s} {desc}")


@cli.command("detectors")
def list_detectors_cmd():
    """List the registered detectors with what they need and output."""
    from launderbench import detectors
    for name, desc in detectors.list_detectors().items():
        click.echo(f"{name:22s} {desc}")


for _command in COMMANDS:
    cli.add_command(_command)
cli.add_command(features_cmd)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does (temporary files removed)


def main(argv=None):
    """Console entry point: usage errors too are one line and exit code 2."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:  # a bare `launderbench` asks what there is: the help, not an error
        click.echo(cli.get_help(click.Context(cli, info_name="launderbench")))
        sys.exit(0)
    try:
        rv = cli.main(args=args, prog_name="launderbench", standalone_mode=False)
    except click.exceptions.UsageError as e:
        hint = f" (see `{e.ctx.command_path} --help`)" if e.ctx is not None else ""
        click.echo(f"launderbench: error: {e.format_message()}{hint}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("launderbench: aborted", err=True)
        sys.exit(1)
    except LaunderbenchError as e:  # raised outside a command (e.g. while loading plugins)
        click.echo(f"launderbench: error: {e}", err=True)
        sys.exit(2)
    sys.exit(rv if isinstance(rv, int) else 0)

