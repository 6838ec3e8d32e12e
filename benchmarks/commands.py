"""Benchmark harness commands: ``run``, ``reproduce``, ``report`` and ``import``.

They are plain click commands, listed in :data:`COMMANDS`; :mod:`launderbench.benchmarks.cli`
adds them to the ``launderbench`` group (this module never imports the group).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click

from launderbench.simulator.errors import ConfigError, LaunderbenchError

from .edu_commands import EDU_COMMANDS


def _seeds(values) -> list[int] | None:
    out = []
    for v in values:
        for part in str(v).replace(",", " ").split():
            try:
                s = int(part)
            except ValueError:
                raise ConfigError(f"bad seed '{part}': seeds are non-negative integers") from None
            if s < 0:
                raise ConfigError(f"bad seed {s}: seeds are non-negative integers")
            out.append(s)
    return out or None


def _executor(workers: int, dask: bool, scheduler: str | None):
    """Where the run's tasks go, and how to let go of it afterwards: ``(executor, close)``.

    ``--dask`` starts a local cluster and closes it at the end; ``--scheduler`` (or, when
    neither is given, ``$DASK_SCHEDULER_ADDRESS``) connects to a running cluster and only
    closes the connection: the scheduler and its workers are the user's and keep running.
    """
    import os

    from_env = not dask and not scheduler and bool(os.environ.get("DASK_SCHEDULER_ADDRESS"))
    if from_env:
        scheduler = os.environ["DASK_SCHEDULER_ADDRESS"]
    if scheduler or dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError("--dask/--scheduler/DASK_SCHEDULER_ADDRESS need the 'dask' "
                              "extra (pip install 'launderbench[dask]')") from None
        if from_env:
            click.echo(f"dask: DASK_SCHEDULER_ADDRESS is set: running on {scheduler}",
                       err=True)
        cluster = None
        if scheduler:
            try:
                client = Client(scheduler, timeout=30)
            except (OSError, TimeoutError) as e:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: "
                                  f"{e}") from None
        else:
            cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1,
                                   dashboard_address=None)
            client = Client(cluster)
        client.subscribe_topic("all", _report_lost_worker)
        # unique task keys: a retried task is a new task, not the failed one again
        executor = client.get_executor(pure=False)

        def close():
            executor.shutdown(wait=False)
            client.unsubscribe_topic("all")  # the scheduler's last events are not for us
            client.close()  # never client.shutdown(): that would stop the user's cluster
            if cluster is not None:
                cluster.close()

        return executor, close
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        ex = ProcessPoolExecutor(max_workers=workers)
        return ex, ex.shutdown
    return None, None


def _report_lost_worker(event) -> None:
    """Say so when a Dask worker dies with tasks of the run (the scheduler reruns them)."""
    _, msg = event
    if (isinstance(msg, dict) and msg.get("action") == "remove-worker"
            and not msg.get("expected") and msg.get("processing-tasks")):
        n = len(msg["processing-tasks"])
        click.echo(f"dask: worker {msg.get('worker')} lost with {n} running task(s); the "
                   "scheduler runs them elsewhere", err=True)


def _learning(cfg, protocol, train_seed, train_scenario, transactions, share, noise, delay):
    """``cfg`` with the protocol and the label policy of the detectors that learn."""
    import dataclasses

    from .labels import LabelPolicy
    from .suites import ScenarioRun

    train = None
    if train_scenario is not None:
        train = ScenarioRun(train_scenario, {} if Path(train_scenario).is_dir() or
                            transactions is None else {"transactions": transactions})
    cfg = dataclasses.replace(
        cfg, protocol=protocol, train_seed=train_seed, train_scenario=train,
        labels=LabelPolicy(share=share, noise=noise, delay_days=delay))
    for run in cfg.scenarios:  # a training seed that is also tested: refused before any work
        cfg.training_dataset(run)
    return cfg


def _example_dataset(cfg, cache=None):
    """The first dataset of the run that has an announced incident (for the drawing)."""
    from .suites import TOY_ID, load_dataset

    runs = sorted(cfg.scenarios, key=lambda r: r.id == TOY_ID)  # a preset if there is one
    for run in runs:
        for seed in cfg.seeds:
            ds = load_dataset(run, seed, cache)
            if ds.seeds.num_rows:
                return ds
    return None


def _finish(res, out: Path, quiet: bool, example=True):
    from .leaderboard import format_table, leaderboard
    from .report import write_report

    ds = _example_dataset(res.config) if (example and res.config) else None
    res.save(out, also=lambda d: write_report(res, d / "report", example_dataset=ds))
    rep = out / "report"
    if not quiet:
        click.echo(format_table(leaderboard(res)))
    failed = sorted({r["detector"] for r in res.rows if r["status"] == "failed"})
    click.echo(f"results: {out / 'results.parquet'} ({len(res.rows):,} rows"
               + (f", {len(failed)} detector(s) failed" if failed else "") + ")")
    click.echo(f"report:  {rep / 'index.html'} (and {rep / 'report.md'})")
    from .chance import chance_violations

    # the validity gates, as the report's Validity section reads them
    leaks = chance_violations(res.rows, tasks=("tracing/address",))
    if leaks:
        click.echo(f"leak check: {len(leaks)} one-feature shortcut result(s) beyond 0.5 ± "
                   "0.15 ROC-AUC on tracing/address (see the report's Validity section)")
    if res.placebos:
        from .validity import apart_summary

        groups = apart_summary(res.placebos, by=("detector",))
        apart = sum(len(g["apart"]) for g in groups)
        click.echo(f"placebos: {apart} of {len(res.placebos)} baseline results set apart from "
                   f"their benign look-alikes ({sum(g['expected'] for g in groups):.1f} by "
                   "chance; see the report's Validity section)")
    skipped = sorted({(r["scenario"], r["task"], r["error"]) for r in res.rows
                      if r["status"] == "skipped"})
    for scenario, task, reason in skipped:
        click.echo(f"skipped: {task} on {scenario}: {reason}")
    for r in res.rows:
        if r["status"] == "failed":
            click.echo(f"failed: {r['detector']} on {r['scenario']} seed {r['seed']}: "
                       f"{r['error']}", err=True)
    return failed


@click.command("run")
@click.option("--suite", default="default", show_default=True,
              help="quick (seconds), default (the demo) or full.")
@click.option("--scenario", "scenarios", multiple=True, metavar="ID",
              help="Scenario id or dataset directory (repeatable); replaces the suite's.")
@click.option("--detector", "detectors", multiple=True, metavar="NAME[@k=v,...]",
              help="Registry name, entry point package.module:Class, optional parameters "
                   "after @ (repeatable); default: every registered detector.")
@click.option("--seeds", "seeds", multiple=True, metavar="N[,N...]",
              help="Seeds (repeatable or comma-separated); default: the suite's.")
@click.option("--transactions", "-n", type=click.IntRange(min=1), default=None,
              help="Override the number of transactions of every generated scenario.")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output directory (default reports/<suite>).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="Rerun a recorded configuration (config.json or its directory).")
@click.option("--budget", default="auto", show_default=True,
              help="Alert budget k: 'auto' (= number of positives) or an integer.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (ProcessPoolExecutor; with --dask, local Dask workers).")
@click.option("--dask", is_flag=True,
              help="Run on a local Dask cluster, closed at the end (extra 'dask').")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on a running Dask cluster (tcp://host:8786), which keeps running; "
                   "default: $DASK_SCHEDULER_ADDRESS. Its workers must reach the dataset "
                   "cache ($LAUNDERBENCH_CACHE) at the same path.")
@click.option("--retries", type=click.IntRange(min=0), default=2, show_default=True,
              help="Reruns of a task that crashed or lost its worker before its jobs are "
                   "recorded as failed (a detector that raises is a failed row at once).")
@click.option("--resume", is_flag=True,
              help="Keep the jobs an interrupted run into the same --out journaled; run "
                   "only the others.")
@click.option("--no-memory", is_flag=True, help="Do not trace peak memory (faster).")
@click.option("--protocol", type=click.Choice(["transductive", "inductive"]),
              default="transductive", show_default=True,
              help="How detectors that learn are trained: on the tested dataset's training "
                   "part (transductive) or on another dataset (inductive).")
@click.option("--train-seed", type=click.IntRange(min=0), default=None,
              help="Inductive: seed of the training dataset (default: largest seed + 1).")
@click.option("--train-scenario", default=None, metavar="ID",
              help="Inductive: scenario of the training dataset (default: the tested one).")
@click.option("--label-share", type=float, default=1.0, show_default=True,
              help="Share of the laundering addresses known to the learner (partial labels).")
@click.option("--label-noise", type=float, default=0.0, show_default=True,
              help="Probability that a training label is flipped (noisy labels).")
@click.option("--label-delay", type=float, default=0.0, show_default=True, metavar="DAYS",
              help="Days after an address's first transaction until its label is known.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars, no table.")
def run_cmd(suite, scenarios, detectors, seeds, transactions, out, config_path, budget,
            workers, dask, scheduler, retries, resume, no_memory, protocol, train_seed,
            train_scenario, label_share, label_noise, label_delay, quiet):
    """Run detectors on scenarios, evaluate, and write results and a report.

    Each finished job is journaled in OUT/journal as it completes; after an interruption,
    the same command with --resume runs only the jobs that are not there. The final results
    replace the directory whole, journal included.
    """
    import os

    from .runner import Journal, RunConfig, check_results_dir, run_config
    from .suites import ScenarioRun, cache_dir

    if config_path is not None:
        cfg = RunConfig.load(config_path)
        given = [flag for flag, value, default in (
            ("--protocol", protocol, "transductive"), ("--train-seed", train_seed, None),
            ("--train-scenario", train_scenario, None), ("--label-share", label_share, 1.0),
            ("--label-noise", label_noise, 0.0), ("--label-delay", label_delay, 0.0))
            if value != default]
        if given:
            raise ConfigError(f"{given[0]} cannot change a recorded configuration (--config): "
                              "its protocol and labels are part of it")
    else:
        runs = None
        if scenarios:
            runs = [ScenarioRun(s) for s in scenarios]
        cfg = RunConfig.from_suite(suite, scenarios=runs, detectors=list(detectors) or None,
                                   seeds=_seeds(seeds))
        if transactions is not None:
            cfg.scenarios = [ScenarioRun(r.id, {**r.overrides, "transactions": transactions})
                             if not Path(r.id).is_dir() else r for r in cfg.scenarios]
        if budget != "auto":
            try:
                cfg.budget = int(budget)
            except ValueError:
                cfg.budget = -1
            if cfg.budget < 0:
                raise ConfigError(f"--budget must be 'auto' or a non-negative integer, got "
                                  f"'{budget}'")
        cfg.memory = not no_memory
        cfg = _learning(cfg, protocol, train_seed, train_scenario, transactions,
                        label_share, label_noise, label_delay)
    out = out or Path("reports") / cfg.suite
    check_results_dir(out)  # refused now rather than after the run
    made_out = not out.exists()  # then everything in it is this run's
    journal = Journal(out / "journal", resume=resume)
    if resume:
        click.echo(f"resume: {len(journal)} finished task(s) journaled in {journal.path}",
                   err=True)
    executor, close = _executor(workers, dask, scheduler)
    # one absolute cache path for every worker (remote workers need it on a shared disk)
    cache = Path(os.path.abspath(cache_dir()))
    t0 = time.perf_counter()
    try:
        res = run_config(cfg, executor=executor, progress=not quiet, cache=cache,
                         journal=journal, retries=retries)
    except LaunderbenchError:
        # a user error stops the run: nothing half-written stays (the journal entries of
        # tasks that finished first), in a directory this run made
        if made_out:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        if close is not None:
            close()
    n = len(cfg.scenarios) * len(cfg.seeds) * len(cfg.detectors)
    dt = time.perf_counter() - t0
    click.echo(f"sweep:   {n:,} jobs in {dt:.1f} s ({60 * n / dt:.1f} jobs/min"
               + (", journaled jobs included" if resume else "") + ")", err=True)
    if _finish(res, out, quiet):
        sys.exit(1)  # results and report are written; the failures are listed above


@click.command()
@click.argument("results_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the rerun (default RESULTS_DIR/reproduced).")
@click.option("--quiet", "-q", is_flag=True)
def reproduce(results_dir, out, quiet):
    """Rerun a recorded configuration and check that every score is identical."""
    from .runner import Results, RunConfig, check_results_dir, compare, run_config

    old = Results.load(results_dir)
    cfg = RunConfig.load(results_dir)
    target = out or results_dir / "reproduced"
    check_results_dir(target)
    res = run_config(cfg, progress=not quiet)
    res.save(target)
    diffs = compare(old, res)
    if diffs:
        for d in diffs[:20]:
            click.echo(f"  differs: {d}", err=True)
        raise ConfigError(f"{len(diffs)} of {len(old.rows)} scores differ from {results_dir}")
    click.echo(f"reproduced all {len(old.rows):,} scores exactly (timing aside)")


@click.command()
@click.argument("results_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Do not print the leaderboard.")
def report(results_dir, quiet):
    """Rebuild the leaderboard and the report of a results directory."""
    from .runner import Results

    res = Results.load(results_dir)
    from .leaderboard import format_table, leaderboard
    from .report import write_report

    ds = None
    if res.config is not None:
        try:
            ds = _example_dataset(res.config)
        except Exception:  # noqa: BLE001 - the drawing is optional when data is gone
            ds = None
    rep = write_report(res, Path(results_dir) / "report", example_dataset=ds)
    if not quiet:
        click.echo(format_table(leaderboard(res)))
    click.echo(f"report:  {rep / 'index.html'}")


@click.command("import")
@click.argument("tables", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output dataset directory.")
@click.option("--layout", type=click.Choice(["auto", "amlsim", "ibm", "amlsim-log", "evm",
                                             "utxo", "generic"]),
              default="auto", show_default=True, help="Column layout of the table.")
@click.option("--source", default=None, help="Source account column.")
@click.option("--target", default=None, help="Target account column.")
@click.option("--amount", default=None, help="Amount column.")
@click.option("--timestamp", default=None, help="Timestamp column (ISO text or seconds).")
@click.option("--label", default=None, help="Laundering label column (optional).")
@click.option("--incident", default=None, help="Incident / alert id column (optional).")
@click.option("--currency", default=None, help="Currency column (optional).")
@click.option("--tx-hash", default=None, help="Transaction hash column (optional).")
@click.option("--decimals", "decimals_col", default=None,
              help="Column of per-row decimals of the amount (explorer: tokenDecimal).")
@click.option("--native", default=None,
              help="evm layout: symbol of rows without a token (default ETH); utxo layout: "
                   "the coin (default BTC).")
@click.option("--pseudo", type=click.Choice(["keep", "drop", "service"]), default="keep",
              show_default=True,
              help="Accounts with negative integer ids (cash source/sink): keep, drop their "
                   "rows, or mark them as services.")
@click.option("--announce-first", is_flag=True,
              help="Announce each incident's first laundering transaction as a seed (the "
                   "labels then double as knowledge; prefer --seed-address).")
@click.option("--seed-address", multiple=True, metavar="ADDRESS",
              help="Trace from this address: every transaction it sends (repeatable).")
@click.option("--seed-tx", multiple=True, metavar="HASH",
              help="Trace from this transaction (repeatable; needs --tx-hash).")
@click.option("--seeds", "seeds_file", type=click.Path(path_type=Path), default=None,
              help="File of seeds, one address or transaction hash per line.")
@click.option("--attribution", type=click.Path(path_type=Path), default=None,
              help="CSV address,kind,name naming services (exchange, mixer, bridge, dex, "
                   "otc, ...).")
@click.option("--name", default=None, help="Dataset name (default imported:<file stem>).")
@click.option("--asset", "asset_opts", multiple=True, metavar="SYMBOL[:decimals=N][:usd=P]",
              help="Decimals and USD price of a currency (repeatable); without a currency "
                   "column, a single --asset names the table's currency.")
@click.option("--time-unit", default=None, metavar="s|ms|step:SECONDS",
              help="Unit of numeric timestamps (default s; amlsim-log: step:86400). ISO 8601 "
                   "text needs none.")
@click.option("--amount-scale", default=None, type=int, metavar="N",
              help="Amounts are in units of 10^-N of the currency (wei: 18; default 18 for "
                   "the evm layout, 8 (satoshi) for utxo, else 0).")
def import_cmd(tables, out, layout, source, target, amount, timestamp, label, incident,
               currency, tx_hash, decimals_col, native, pseudo, announce_first, seed_address, seed_tx, seeds_file,
               attribution, name, asset_opts, time_unit, amount_scale):
    """Turn external transaction tables (CSV or Parquet; several of one layout are read as
    one) into a dataset.

    Recognises AMLSim's logs, IBM's AML data sets, account-chain explorer and warehouse
    exports, UTXO warehouse tables (outputs and inputs: two files, --layout utxo) and edge
    lists with columns named source, target, amount, timestamp from their
    headers; name the columns of anything else with --source/--target/--amount/--timestamp.
    Seeds come from --seed-address, --seed-tx or --seeds, never from the labels (unless
    --announce-first).
    """
    from .importer import import_table, parse_asset_option, save_imported

    cols = {k: v for k, v in dict(source=source, target=target, amount=amount,
                                  timestamp=timestamp, label=label, incident=incident,
                                  currency=currency, tx_hash=tx_hash,
                                  decimals=decimals_col).items() if v is not None}
    assets = dict(parse_asset_option(a) for a in asset_opts)
    ds = import_table(list(tables) if len(tables) > 1 else tables[0], layout=layout, columns=cols, announce_first=announce_first,
                      name=name, assets=assets, time_unit=time_unit, amount_scale=amount_scale,
                      seed_addresses=seed_address, seed_txs=seed_tx, seeds_file=seeds_file,
                      attribution=attribution, native=native, pseudo=pseudo)
    save_imported(ds, out)
    for w in ds.meta["source"]["warnings"]:
        click.echo(f"warning: {w}", err=True)
    n_l = int((ds.tx_truth["incident_id"] >= 0).sum())
    click.echo(f"wrote {out}: {ds.transactions.num_rows:,} transactions, "
               f"{ds.addresses.num_rows:,} addresses, {n_l:,} labelled laundering, "
               f"{ds.seeds.num_rows:,} seed transactions, "
               f"layout {ds.meta['source']['layout']}, hash {ds.meta['content_hash'][:12]}")


@click.command("export-scores")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--detector", "-d", default="haircut", show_default=True,
              help="Detector whose address scores are ranked.")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV to write: rank, address, score, address_id.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Only the first N addresses.")
@click.option("--stream", is_flag=True,
              help="Score the dataset chunk by chunk without loading it (tracing detectors).")
def export_scores(dataset, detector, out, top, stream):
    """Rank a dataset's addresses by a detector's score and write them by their original
    strings (for an imported dataset; others by their ids), highest first."""
    from .exports import export_scores as run_export

    rows = run_export(dataset, detector, out, top=top, stream=stream)
    for r in rows[:10]:
        click.echo(f"{r['rank']:>4}  {r['address']}  {r['score']:.6g}")
    click.echo(f"wrote {out}: {len(rows):,} addresses ranked by {detector}")


#: The commands this module defines, in the order ``launderbench --help`` lists them.
COMMANDS = [run_cmd, reproduce, report, import_cmd, export_scores, *EDU_COMMANDS]
