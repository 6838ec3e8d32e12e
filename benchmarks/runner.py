"""The benchmark runner: datasets x detectors -> tidy result rows.

>>> from launderbench.benchmarks.runner import RunConfig, run_config
>>> res = run_config(RunConfig.from_suite("quick"), progress=False)     # doctest: +SKIP
>>> res.rows[0]["metric"], res.rows[0]["value"]                          # doctest: +SKIP

One unit of work (:class:`Job`) is one detector on one dataset: the dataset is generated
or loaded from the cache, the detector is fitted and scored with fit and score timed
separately, then (unless ``memory=False``) fitted and scored once more under
:mod:`tracemalloc` for its peak memory, so that tracing does not inflate the timings; every
task the dataset supports is evaluated, broken down per typology, stage, incident and chain. A detector that fails gives one row with
``status = "failed"`` and its one-line error, never a crash.

:func:`run` takes any :class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor``, or a
Dask ``client.get_executor()``); without one it runs serially in this process. Results do not
depend on the executor: rows are sorted back into task order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import pickle
import shutil
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from launderbench.simulator.errors import ConfigError, LaunderbenchError
from launderbench.simulator.tempdirs import make_temp_dir

from .chance import BASELINES, SHORTCUTS
from .labels import FULL, LabelPolicy
from .scoring import evaluate_scores, training_labels
from .suites import (
    ScenarioRun,
    dataset_path,
    ensure_dataset,
    generator_fingerprint,
    get_suite,
)

#: columns of a result row, in order
COLUMNS = ("suite", "scenario", "seed", "n_transactions", "dataset_hash", "detector", "params",
           "protocol", "labels", "trained_on",
           "task", "group", "metric", "value", "derived", "detections", "fit_s", "score_s",
           "peak_mem_mb", "warmup_s", "status", "error", "versions")

#: how a detector that learns from labels is trained and tested (:class:`RunConfig`):
#: ``transductive``: fitted on the labelled training part of the dataset it is tested on (one
#: graph); ``inductive``: fitted on another dataset (another seed, or another scenario), then
#: tested on this one, which it has never seen. Rows of detectors that learn nothing from
#: labels have an empty ``protocol``.
PROTOCOLS = ("transductive", "inductive")



# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class DetectorSpec:
    """A detector by registry name (or ``package.module:Class``) with parameters."""

    name: str
    params: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> DetectorSpec:
        """``"ppr"`` or ``"ppr@alpha=0.5,direction=both"`` (values read as JSON if they can be;
        ``None`` and ``null`` both mean None)."""
        name, _, rest = text.partition("@")
        if not name:
            raise ConfigError(f"bad detector spec '{text}': empty name")
        params = {}
        for part in filter(None, rest.split(",")):
            k, eq, v = part.partition("=")
            if not eq or not k:
                raise ConfigError(f"bad detector parameter '{part}' in '{text}': use key=value")
            try:
                params[k.strip()] = None if v.strip() == "None" else json.loads(v)
            except json.JSONDecodeError:
                params[k.strip()] = v
        return cls(name.strip(), params)

    def to_dict(self) -> dict:
        return {"name": self.name, "params": dict(self.params)}


@dataclass
class RunConfig:
    """Everything needed to rerun a benchmark exactly (written as ``config.json``)."""

    suite: str = "custom"
    scenarios: list[ScenarioRun] = field(default_factory=list)
    seeds: list[int] = field(default_factory=lambda: [0])
    detectors: list[DetectorSpec] = field(default_factory=list)
    budget: int | str = "auto"
    memory: bool = True
    #: placebos per dataset for the baselines (the report's placebo percentiles; 0: none)
    placebos: int = 0
    #: whether the placebos also cover the detectors that learn (each refitted on every
    #: placebo's labels: several times the cost of the baselines' placebos)
    placebo_learners: bool = False
    #: the training labels of detectors that learn (:mod:`launderbench.benchmarks.labels`)
    labels: LabelPolicy = FULL
    #: ``transductive`` or ``inductive`` (:data:`PROTOCOLS`)
    protocol: str = "transductive"
    #: inductive protocol: the seed of the training dataset (default: one above the largest
    #: tested seed) and its scenario (default: each tested scenario itself)
    train_seed: int | None = None
    train_scenario: ScenarioRun | None = None

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol '{self.protocol}' (known: "
                              f"{', '.join(PROTOCOLS)})")
        if self.protocol == "transductive" and (self.train_seed is not None
                                                or self.train_scenario is not None):
            raise ConfigError("a training seed or scenario needs the inductive protocol")
        if self.train_seed is not None and (isinstance(self.train_seed, bool)
                                            or not isinstance(self.train_seed, int)
                                            or self.train_seed < 0):
            raise ConfigError(f"training seed must be a non-negative integer, got "
                              f"{self.train_seed!r}")

    def training_dataset(self, run: ScenarioRun) -> tuple[ScenarioRun, int] | None:
        """The dataset a learning detector tested on ``run`` is fitted on (inductive
        protocol), or None (transductive: the tested dataset's own training part)."""
        if self.protocol != "inductive":
            return None
        seed = self.train_seed if self.train_seed is not None else max(self.seeds) + 1
        train = self.train_scenario or run
        if train == run and seed in self.seeds:
            raise ConfigError(f"inductive protocol: the training seed {seed} is also tested on "
                              f"{run.label}; choose a training seed outside the tested seeds")
        # a dataset directory is one dataset whatever the seed: training on it and testing on
        # it would fit on the tested labels
        if any(dataset_path(train, seed) == dataset_path(run, s) for s in self.seeds):
            raise ConfigError(f"inductive protocol: {train.label} is the tested dataset "
                              f"{run.label} itself; train on another scenario or dataset "
                              "(--train-scenario)")
        return train, seed

    @classmethod
    def from_suite(cls, name: str, scenarios=None, detectors=None, seeds=None) -> RunConfig:
        s = get_suite(name)
        runs = ([ScenarioRun(x) if isinstance(x, str) else x for x in scenarios]
                if scenarios else s.scenario_runs())
        if detectors:
            dets = [d if isinstance(d, DetectorSpec) else DetectorSpec.parse(d)
                    for d in detectors]
            import launderbench.detectors as registry

            for d in dets:  # a mistyped name or parameter is a user error, not a failed row
                registry.make(d.name, **d.params)
        else:
            dets = [DetectorSpec(n) for n in (s.detectors or all_detector_names(s.slow))]
        return cls(suite=name, scenarios=runs, seeds=list(seeds or s.seeds), detectors=dets,
                   placebos=s.placebos, placebo_learners=s.placebo_learners)

    def to_dict(self) -> dict:
        return {"suite": self.suite, "scenarios": [r.to_dict() for r in self.scenarios],
                "seeds": list(self.seeds), "detectors": [d.to_dict() for d in self.detectors],
                "budget": self.budget, "memory": self.memory, "placebos": self.placebos,
                "placebo_learners": self.placebo_learners,
                "labels": self.labels.to_dict(), "protocol": self.protocol,
                "train_seed": self.train_seed,
                "train_scenario": self.train_scenario.to_dict() if self.train_scenario else None,
                "versions": _versions()}

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        if not isinstance(d, dict):
            raise ConfigError(f"malformed run configuration: expected a JSON object, got "
                              f"{type(d).__name__}")
        budget = d.get("budget", "auto")
        if budget != "auto" and (isinstance(budget, bool) or not isinstance(budget, int)
                                 or budget < 0):
            raise ConfigError(f"malformed run configuration: budget must be 'auto' or a "
                              f"non-negative integer, got {budget!r}")
        try:
            return cls(suite=d.get("suite", "custom"),
                       scenarios=[ScenarioRun(r["id"], dict(r.get("overrides", {})))
                                  for r in d["scenarios"]],
                       seeds=[int(s) for s in d["seeds"]],
                       detectors=[DetectorSpec(x["name"], dict(x.get("params", {})))
                                  for x in d["detectors"]],
                       budget=d.get("budget", "auto"), memory=bool(d.get("memory", True)),
                       placebos=int(d.get("placebos", 0)),
                       placebo_learners=bool(d.get("placebo_learners", False)),
                       labels=LabelPolicy.from_dict(d.get("labels")),
                       protocol=d.get("protocol", "transductive"),
                       train_seed=d.get("train_seed"),
                       train_scenario=(ScenarioRun(d["train_scenario"]["id"],
                                                   dict(d["train_scenario"].get("overrides", {})))
                                       if d.get("train_scenario") else None))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ConfigError(f"malformed run configuration: {type(e).__name__}: {e}") from None

    @classmethod
    def load(cls, path) -> RunConfig:
        p = Path(path)
        if p.is_dir():
            p = p / "config.json"
        if not p.is_file():
            raise ConfigError(f"no run configuration at {p}")
        try:
            return cls.from_dict(json.loads(p.read_text()))
        except json.JSONDecodeError as e:
            raise ConfigError(f"corrupt run configuration {p}: {e}") from None

    def jobs(self, cache: Path | None = None) -> list[Job]:
        """One :class:`Job` per scenario, seed and detector (a detector that learns from
        labels carries the label policy and, under the inductive protocol, its training
        dataset)."""
        learns = [learns_from_labels(d) for d in self.detectors]
        return [Job(self.suite, run, seed, det, self.budget, self.memory,
                    str(cache) if cache else None,
                    labels=self.labels if learn else FULL,
                    train=self.training_dataset(run) if learn else None)
                for run in self.scenarios for seed in self.seeds
                for det, learn in zip(self.detectors, learns)]


def learns_from_labels(spec: DetectorSpec) -> bool:
    """Whether a detector learns from labels (its ``needs_labels`` tag)."""
    from launderbench import detectors

    try:
        return bool(detectors.registry.load(spec.name)._tag("needs_labels"))
    except ConfigError:
        return False


def all_detector_names(include_slow: bool = False) -> list[str]:
    """Every registered detector that can run here (its optional extra, if any, is
    installed); those tagged ``slow`` (the graph neural networks) only with ``include_slow``."""
    from launderbench import detectors

    out = []
    for name in sorted(detectors.list_detectors()):
        try:
            cls = detectors.registry.load(name)
        except ConfigError:
            out.append(name)  # a module that does not import: the run refuses it, naming it
            continue
        if not detectors.registry.available(name)[0]:
            continue
        if cls._tag("slow") and not include_slow:
            continue
        out.append(name)
    return out


@dataclass(frozen=True)
class Job:
    """One detector on one dataset (picklable, so executors can ship it to workers)."""

    suite: str
    scenario: ScenarioRun
    seed: int
    detector: DetectorSpec
    budget: int | str = "auto"
    memory: bool = True
    cache: str | None = None
    #: the training labels (detectors that learn only)
    labels: LabelPolicy = FULL
    #: inductive protocol: ``(scenario, seed)`` of the dataset to fit on; None: transductive
    train: tuple | None = None

    def datasets(self) -> list[tuple[ScenarioRun, int]]:
        """The datasets this job reads: the tested one, and the training one if any."""
        return [(self.scenario, self.seed)] + ([tuple(self.train)] if self.train else [])


@dataclass
class Results:
    """Tidy result rows plus precision-recall curves (for the report)."""

    rows: list[dict]
    curves: list[dict]
    config: RunConfig | None = None
    #: the baselines beside their placebos, one dict per dataset, baseline and task
    #: (:func:`launderbench.benchmarks.placebo.placebo_percentiles`, plus scenario and seed)
    placebos: list[dict] = field(default_factory=list)

    def table(self):
        """Rows as a :class:`pyarrow.Table`."""
        import pyarrow as pa

        cols = {c: [r.get(c) for r in self.rows] for c in COLUMNS}
        schema = pa.schema([
            ("suite", pa.string()), ("scenario", pa.string()), ("seed", pa.int64()),
            ("n_transactions", pa.int64()), ("dataset_hash", pa.string()),
            ("detector", pa.string()), ("params", pa.string()), ("protocol", pa.string()),
            ("labels", pa.string()), ("trained_on", pa.string()), ("task", pa.string()),
            ("group", pa.string()), ("metric", pa.string()), ("value", pa.float64()),
            ("derived", pa.bool_()), ("detections", pa.int64()), ("fit_s", pa.float64()),
            ("score_s", pa.float64()),
            ("peak_mem_mb", pa.float64()), ("warmup_s", pa.float64()),
            ("status", pa.string()), ("error", pa.string()), ("versions", pa.string())])
        return pa.Table.from_pydict(cols, schema=schema)

    def save(self, out, also=None) -> Path:
        """Write ``results.parquet``, ``results.csv``, ``curves.json`` and ``config.json``
        (and whatever ``also(directory)`` writes, e.g. the report) into ``out`` atomically: into a temporary sibling directory, then renamed into place,
        so an interrupted run leaves the old results or the complete new ones. ``out`` may be
        new, empty, or an earlier results directory (replaced whole, its report included);
        anything else is refused."""
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        out = Path(os.path.abspath(out))
        check_results_dir(out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = make_temp_dir(f".{out.name}.tmp-", out.parent)
        except OSError as e:
            raise ConfigError(f"cannot write {out}: {e.strerror or e}") from None
        try:
            t = self.table()
            pq.write_table(t, tmp / "results.parquet")
            pcsv.write_csv(t, tmp / "results.csv")
            (tmp / "curves.json").write_text(json.dumps(self.curves) + "\n")
            if self.placebos:
                (tmp / "placebos.json").write_text(json.dumps(self.placebos) + "\n")
            if self.config is not None:
                (tmp / "config.json").write_text(
                    json.dumps(self.config.to_dict(), indent=2) + "\n")
            if also is not None:
                also(tmp)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o777 & ~mask)
            if out.exists():
                old = make_temp_dir(f".{out.name}.old-", out.parent)
                os.rename(out, old / "d")
                os.rename(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    @classmethod
    def load(cls, out) -> Results:
        """Read a results directory; a missing, truncated or corrupt file is a
        :class:`ConfigError` naming it."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = Path(out)
        f = out / "results.parquet"
        if not f.is_file():
            raise ConfigError(f"no results at {out} (expected results.parquet)")
        try:
            rows = pq.read_table(f).to_pylist()
        except (pa.ArrowException, OSError) as e:
            msg = (str(e).splitlines() or [type(e).__name__])[0]
            raise ConfigError(f"corrupt results file {f}: {msg}") from None
        if rows and not {"scenario", "seed", "detector", "task", "metric", "value"} <= set(rows[0]):
            raise ConfigError(f"corrupt results file {f}: not launderbench results")
        curves, placebos = _json_list(out / "curves.json"), _json_list(out / "placebos.json")
        cfg = RunConfig.load(out) if (out / "config.json").is_file() else None
        return cls(rows, curves, cfg, placebos)


def _json_list(path: Path) -> list:
    """A JSON list from ``path`` ([] when the file is absent); corrupt is a ConfigError."""
    if not path.is_file():
        return []
    try:
        out = json.loads(path.read_text())
    except (ValueError, OSError) as e:
        raise ConfigError(f"corrupt {path}: {e}") from None
    if not isinstance(out, list):
        raise ConfigError(f"corrupt {path}: expected a list")
    return out


#: what a results directory may hold (anything else belongs to someone)
RESULT_FILES = {"results.parquet", "results.csv", "curves.json", "config.json",
                "placebos.json", "report", "reproduced", "learned.md", "journal"}


def check_results_dir(out: Path) -> None:
    """Refuse an output directory that holds anything but launderbench results."""
    out = Path(os.path.abspath(out))
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory")
    cwd = Path(os.getcwd())
    if out == cwd or out in cwd.parents:
        raise ConfigError(f"refusing to replace {out}: it holds the current directory")
    foreign = sorted({e.name for e in out.iterdir()} - RESULT_FILES)
    if foreign:
        raise ConfigError(f"refusing to replace {out}: it holds {foreign[0]!r}, which is not "
                          "a launderbench result; choose another --out or empty it")


# ----------------------------------------------------------------------------- execution
@lru_cache(maxsize=2)
def _taskset(path: str, content_hash: str, budget):
    """Dataset and tasks, kept for the next detectors on the same dataset (same process)."""
    from launderbench.simulator.dataset import Dataset

    from .tasks import TaskSet

    return TaskSet(Dataset.load(path), budget=budget)


def _meta_hash(path: Path) -> str:
    try:
        return json.loads((path / "meta.json").read_text()).get("content_hash", "")
    except (OSError, json.JSONDecodeError):
        return ""


def _base_row(job: Job, meta: dict, n_tx) -> dict:
    """The columns every row of a job shares (``meta``: the dataset's ``meta.json``)."""
    base = {
        "suite": job.suite,
        "scenario": meta.get("scenario") or job.scenario.id,
        "seed": job.seed,
        "n_transactions": n_tx,
        "dataset_hash": meta.get("content_hash", ""),
        "detector": job.detector.name,
        "params": json.dumps(job.detector.params, sort_keys=True),
        "protocol": "", "labels": "", "trained_on": "",
        "versions": json.dumps(_versions(), sort_keys=True),
    }
    if job.scenario.overrides:
        base["scenario"] = f"{base['scenario']}[" + ",".join(
            f"{k}={v}" for k, v in sorted(job.scenario.overrides.items())) + "]"
    return base


def _failed_row(base: dict, error: str, timing: dict | None = None) -> dict:
    timing = timing or {"fit_s": math.nan, "score_s": math.nan, "peak_mem_mb": math.nan,
                        "warmup_s": math.nan}
    return dict(base, task="", group="all", metric="error", value=math.nan, derived=False,
                detections=None, status="failed", error=error[:500], **timing)


def _error_text(e: BaseException) -> str:
    msg = (str(e).strip().splitlines() or [""])[0]
    return f"{type(e).__name__}: {msg}"


def run_one(job: Job) -> tuple[list[dict], list[dict]]:
    """Run one detector on one dataset and evaluate it; never raises for detector failures."""
    cache = Path(job.cache) if job.cache else None
    path = ensure_dataset(job.scenario, job.seed, cache)
    h = _meta_hash(path)
    ts = _taskset(str(path), h, job.budget)
    ds = ts.ds
    base = _base_row(job, {"content_hash": h, **ds.meta}, int(ts.n_tx))
    timing = {"fit_s": math.nan, "score_s": math.nan, "peak_mem_mb": math.nan,
              "warmup_s": math.nan}
    try:
        from launderbench import detectors
        det = detectors.make(job.detector.name, **job.detector.params)
        base["params"] = json.dumps(_jsonable(det.get_params()), sort_keys=True)
        warmup = warm_up(det)  # JIT compilation is not the detector's run time
        view = fit_view = ds.observable()
        labels = None
        if det._tag("needs_labels"):
            labels, fit_view = _fit_data(job, ts, base)
        # timed pass: no tracing, so that the timings are not inflated by tracemalloc
        t0 = time.perf_counter()
        det.fit(fit_view, labels)
        t1 = time.perf_counter()
        scores = det.score(view)
        t2 = time.perf_counter()
        peak = math.nan
        if job.memory:  # memory pass: a fresh detector, traced; its scores are not used
            d2 = det.clone()
            tracemalloc.start()
            try:
                d2.fit(fit_view, labels)
                d2.score(view)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            del d2
        timing = {"fit_s": t1 - t0, "score_s": t2 - t1, "peak_mem_mb": peak / 2**20,
                  "warmup_s": warmup}
        rows, curves = evaluate_scores(ts, scores, supervised=bool(det._tag("needs_labels")))
    except Exception as e:  # noqa: BLE001 - a failing detector is a result, not a crash
        return [_failed_row(base, _error_text(e), timing)], []
    out = []
    for r in rows:
        out.append(dict(base, **{"status": "ok", "error": "", **r}, **timing))
    for c in curves:
        c.update({k: base[k] for k in ("scenario", "seed", "detector", "dataset_hash")})
    return out, curves


def _fit_data(job: Job, ts, base: dict):
    """The view and labels a detector that learns is fitted on, and the row fields that say
    so: the tested dataset's own training part (transductive), or the whole of another
    dataset (inductive: :attr:`Job.train`)."""
    base["labels"] = job.labels.label()
    if job.train is None:
        base["protocol"] = "transductive"
        return training_labels(ts, job.labels), ts.view
    run, seed = job.train
    base["protocol"] = "inductive"
    base["trained_on"] = f"{run.label} seed {seed}"
    path = ensure_dataset(run, seed, Path(job.cache) if job.cache else None)
    train_ts = _taskset(str(path), _meta_hash(path), job.budget)
    if train_ts.meta.get("content_hash") and \
            train_ts.meta.get("content_hash") == ts.meta.get("content_hash"):
        raise ConfigError("inductive protocol: the training dataset is the tested one")
    return training_labels(train_ts, job.labels, part="all"), train_ts.view


#: seconds each detector configuration took to warm up in this process (see warm_up)
_WARM: dict[str, float] = {}


def _warm_key(det) -> str:
    cls = type(det)
    return (f"{cls.__module__}.{cls.__qualname__}:"
            f"{json.dumps(_jsonable(det.get_params()), sort_keys=True)}")


def warm_up(det) -> float:
    """Fit and score a clone of ``det`` once on the small toy ledger of
    :mod:`launderbench.detectors.testing`, so that just-in-time compilation (numba) and lazy
    imports happen before the timed pass. Runs once per configuration and process; returns
    the seconds that warm-up took (the ``warmup_s`` column of every row it precedes).

    A :class:`ConfigError` here is a bad parameter value and propagates (see
    :func:`validate_detectors`); any other error is left to the timed run to report.
    """
    key = _warm_key(det)
    if key in _WARM:
        return _WARM[key]
    from launderbench.detectors.testing import toy_views

    view, labels = toy_views()["mixed"]
    t0 = time.perf_counter()
    try:
        d = det.clone()
        d.fit(view, labels if det._tag("needs_labels") else None)
        d.score(view)
    except ConfigError:
        raise
    except Exception:  # noqa: BLE001 - the timed run reports it with its dataset
        pass
    _WARM[key] = time.perf_counter() - t0
    return _WARM[key]


def validate_detectors(specs) -> None:
    """Build every detector of a run and warm it up before any dataset is generated: an
    unknown name, an unknown parameter or a bad parameter value is a :class:`ConfigError`
    naming the detector, raised before any work starts."""
    from launderbench import detectors

    for spec in specs:
        label = spec.name + ("@" + ",".join(f"{k}={v}" for k, v in spec.params.items())
                             if spec.params else "")
        try:
            warm_up(detectors.make(spec.name, **spec.params))
        except ConfigError as e:
            raise ConfigError(f"detector '{label}': {e}") from None
        except TypeError as e:  # a parameter of the wrong type met by the constructor
            raise ConfigError(f"detector '{label}': {e}") from None


def _jsonable(params: dict) -> dict:
    out = {}
    for k, v in params.items():
        if isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        try:
            json.dumps(v)
        except TypeError:
            v = repr(v)
        out[k] = v
    return out


# ----------------------------------------------------------------------------- journal
#: reruns of a task that raised (not a detector failure: a crash of the job itself, a lost
#: worker Dask gave up on, a broken process pool) before the job is recorded as failed
DEFAULT_RETRIES = 2


def job_key(job: Job) -> str:
    """A stable name for a job's result: every field of the job but its cache path, the
    generator's fingerprint and the library versions (a changed generator or library never
    reuses an old result)."""
    fields = dataclasses.asdict(job)
    fields.pop("cache", None)
    return _digest({"job": fields})


def placebo_key(args) -> str:
    """The name of one placebo job (see :func:`placebo_job`)."""
    scenario, seed, _cache, names, k = args
    return _digest({"placebo": {"scenario": scenario.to_dict(), "seed": seed,
                                "names": list(names), "k": k}})


def _digest(what: dict) -> str:
    blob = json.dumps({**what, "generator": generator_fingerprint(), "versions": _versions()},
                      sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class Journal:
    """Finished jobs' results, one file per job named by :func:`job_key`, so that an
    interrupted run can be resumed.

    An entry is written to a temporary file in the same directory, flushed to disk and
    renamed into place: it is complete or absent. An entry that cannot be read back whole
    (truncated, foreign, of another key) counts as absent and its job runs again.
    ``resume=False`` empties the journal first; the directory is made at the first entry.
    """

    SUFFIX = ".pkl"

    def __init__(self, path, resume: bool = False):
        self.path = Path(path)
        if not resume and self.path.is_dir():
            shutil.rmtree(self.path)

    def __len__(self) -> int:
        return sum(1 for _ in self.path.glob(f"*{self.SUFFIX}")) if self.path.is_dir() else 0

    def get(self, key: str):
        """The journaled value of ``key``, or None."""
        f = self.path / f"{key}{self.SUFFIX}"
        try:
            with open(f, "rb") as fh:
                entry = pickle.load(fh)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - truncated or foreign: the job runs again
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or "value" not in entry:
            return None
        return entry["value"]

    def put(self, key: str, value) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump({"key": key, "value": value}, fh, protocol=pickle.HIGHEST_PROTOCOL)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / f"{key}{self.SUFFIX}")
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


# ----------------------------------------------------------------------------- scheduling
class _Inline(Executor):
    """Runs each task at submission, in this process (the serial run)."""

    def submit(self, fn, /, *args, **kwargs):
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - handed to the caller like any executor's
            f.set_exception(e)
        return f


def _stderr(msg: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(msg, file=sys.stderr)


def _generate(scenario: ScenarioRun, seed: int, cache: str | None) -> str:
    """One generation task: the dataset of ``(scenario, seed)`` into the cache."""
    return str(ensure_dataset(scenario, seed, Path(cache) if cache else None))


def _dataset_meta(job: Job) -> dict:
    try:
        path = dataset_path(job.scenario, job.seed, Path(job.cache) if job.cache else None)
        return json.loads((path / "meta.json").read_text())
    except (OSError, ValueError):
        return {}


def run(jobs: list[Job], executor: Executor | None = None,
        progress: bool = True, placebos: int = 0, journal: Journal | None = None,
        retries: int = DEFAULT_RETRIES, log=None, placebo_learners: bool = False) -> Results:
    """Run every job: each missing dataset is generated once, as a task of its own, and the
    detectors (and placebo jobs) of a dataset are submitted as soon as it is ready.

    Parameters
    ----------
    jobs : list of :class:`Job`
    executor : concurrent.futures.Executor, optional
        Where to run (e.g. ``ProcessPoolExecutor``, Dask's ``client.get_executor()``);
        default: serially in this process.
    progress : bool
        Show a tqdm progress bar.
    placebos : int
        Placebos per dataset against which the run's baselines are read (0: none).
    placebo_learners : bool
        Whether the placebos also cover the run's detectors that learn (those fitted
        transductively on exact labels, as a placebo refits them).
    journal : Journal, optional
        Where each finished job's result is recorded as it completes; jobs already there are
        not run again (resume).
    retries : int
        How often a task that raised is submitted again (a detector that raises is a
        ``failed`` row, not a task failure). Once they are spent, its jobs are ``failed``
        rows with the error; a :class:`LaunderbenchError` (a user error such as an unknown
        scenario) is never retried and propagates.
    log : callable, optional
        Receives one line per retry or failure (default: standard error).
    """
    from tqdm.auto import tqdm

    log = log or _stderr
    ex = executor if executor is not None else _Inline()

    seen: dict = {}  # the tested datasets, once each
    for t in jobs:
        seen.setdefault((t.scenario.label, t.seed, t.cache), t)
    # placebos: the baselines and the detectors that learn from labels (with default
    # parameters) beside benign look-alikes, once per dataset; a placebo refits a learner
    # transductively on exact labels, so learners trained otherwise in this run are left out
    # (their placebo figures would not be read beside their own results)
    names = sorted({t.detector.name for t in jobs if not t.detector.params
                    and (t.detector.name in BASELINES
                         or (placebo_learners and learns_from_labels(t.detector)
                             and t.train is None and t.labels.exact))})
    pjobs = ([(t.scenario, t.seed, t.cache, names, placebos) for t in seen.values()]
             if placebos > 0 and names else [])
    # what the journal has already; the datasets (tested, and training ones of the
    # inductive protocol) each remaining task reads
    results: list = [None] * len(jobs)
    found: list = [None] * len(pjobs)
    keys = [job_key(t) for t in jobs] if journal is not None else []
    pkeys = [placebo_key(p) for p in pjobs] if journal is not None else []
    dsets: dict = {}  # (label, seed, cache) -> (scenario, seed, cache)
    needs: dict = {}  # task -> the keys of the datasets it reads
    for i, t in enumerate(jobs):
        results[i] = journal.get(keys[i]) if journal is not None else None
        if results[i] is None:
            needs[("job", i)] = [(r.label, sd, t.cache) for r, sd in t.datasets()]
            for r, sd in t.datasets():
                dsets.setdefault((r.label, sd, t.cache), (r, sd, t.cache))
    for i, p in enumerate(pjobs):
        found[i] = journal.get(pkeys[i]) if journal is not None else None
        if found[i] is None:
            needs[("placebo", i)] = [(p[0].label, p[1], p[2])]
            dsets.setdefault((p[0].label, p[1], p[2]), (p[0], p[1], p[2]))
    gens = [k for k, (r, sd, c) in dsets.items()
            if not (dataset_path(r, sd, Path(c) if c else None) / "meta.json").is_file()]
    blocked: dict = {}  # task -> the generations it still waits for
    waiting: dict = {k: [] for k in gens}  # generation -> the tasks waiting for it
    for task, ks in needs.items():
        missing = {k for k in ks if k in waiting}
        if missing:
            blocked[task] = missing
            for k in missing:
                waiting[k].append(task)
    total = len(gens) + len(needs)
    bar = tqdm(total=total, desc="tasks", disable=not progress or not total, leave=False)

    def describe(task) -> str:
        kind, i = task
        if kind == "gen":
            return f"generation of {i[0]} seed {i[1]}"
        if kind == "job":
            return f"{jobs[i].detector.name} on {jobs[i].scenario.label} seed {jobs[i].seed}"
        return f"placebos of {pjobs[i][0].label} seed {pjobs[i][1]}"

    running: dict = {}
    attempts: dict = {}

    def submit(task) -> None:
        kind, i = task
        fn, args = {"gen": lambda: (_generate, dsets[i]),
                    "job": lambda: (run_one, (jobs[i],)),
                    "placebo": lambda: (placebo_job, (pjobs[i],))}[kind]()
        bar.set_postfix_str(describe(task), refresh=False)
        try:
            f = ex.submit(fn, *args)
        except Exception as e:  # noqa: BLE001 - e.g. a broken pool: retried, then reported
            f = Future()
            f.set_exception(e)
        running[f] = task

    def finish(task, value) -> None:
        kind, i = task
        bar.update(1)
        if kind == "gen":
            for dep in waiting.pop(i):
                if dep in blocked:  # not given up on meanwhile
                    blocked[dep].discard(i)
                    if not blocked[dep]:
                        del blocked[dep]
                        submit(dep)
        elif kind == "job":
            results[i] = value
            if journal is not None:
                journal.put(keys[i], value)
        else:
            found[i] = value
            if journal is not None:
                journal.put(pkeys[i], value)

    def give_up(task, error: str) -> None:
        """Record a task whose attempts are spent (never journaled: a resume retries it)."""
        kind, i = task
        bar.update(1)
        if kind == "gen":
            for dep in waiting.pop(i):
                if blocked.pop(dep, None) is not None:
                    give_up(dep, f"generation of {i[0]} seed {i[1]} {error}")
        elif kind == "job":
            results[i] = ([_failed_row(_base_row(jobs[i], _dataset_meta(jobs[i]), None),
                                       error)], [])
        else:
            found[i] = []  # validity figures are information, not the run

    try:
        for k in gens:  # generations first: they unblock the most work
            submit(("gen", k))
        for task in needs:
            if task not in blocked:
                submit(task)
        while running:
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            # in the order they were submitted, not the set's: the same run handles its
            # results (and meets a user error) in the same order every time
            for f in [g for g in running if g in done]:
                task = running.pop(f)
                try:
                    value = f.result()
                except LaunderbenchError:
                    raise  # a user error: the same on every attempt
                except Exception as e:  # noqa: BLE001 - a crashed task or a lost worker
                    n = attempts[task] = attempts.get(task, 0) + 1
                    err = _error_text(e)
                    if n <= retries:
                        log(f"task failed: {describe(task)}: {err}; retry {n} of {retries}")
                        submit(task)
                        continue
                    many = f"{n} attempt{'s' if n > 1 else ''}"
                    log(f"task failed: {describe(task)}: {err}; giving up after {many}")
                    give_up(task, f"failed after {many}: {err}")
                    continue
                finish(task, value)
    finally:
        for f in running:
            f.cancel()
        bar.close()
    rows = [r for rs, _ in results for r in rs]
    curves = [c for _, cs in results for c in cs]
    return Results(rows, curves, placebos=[r for rs in found for r in rs])


def placebo_job(args) -> list[dict]:
    """The baselines ``names`` on one dataset beside ``k`` of its placebos
    (:func:`launderbench.benchmarks.placebo.placebo_percentiles`); never raises (a dataset
    without qualifying look-alikes gives no record)."""
    scenario, seed, cache, names, k = args
    from launderbench.simulator.dataset import Dataset

    from .placebo import placebo_percentiles

    try:
        ds = Dataset.load(ensure_dataset(scenario, seed, Path(cache) if cache else None))
        recs = placebo_percentiles(ds, names, k=k, seed=seed)
    except Exception:  # noqa: BLE001 - validity figures are information, not the run
        return []
    label = scenario.label
    return [dict(r, scenario=label, seed=seed, placebos=[float(x) for x in r["placebos"]])
            for r in recs if r["placebos"]]


def run_config(cfg: RunConfig, executor: Executor | None = None, progress: bool = True,
               cache: Path | None = None, journal: Journal | None = None,
               retries: int = DEFAULT_RETRIES) -> Results:
    """Run a :class:`RunConfig` (see :func:`run`)."""
    if not cfg.scenarios:
        raise ConfigError("nothing to run: no scenarios")
    if not cfg.detectors:
        raise ConfigError("nothing to run: no detectors")
    validate_detectors(cfg.detectors)
    res = run(cfg.jobs(cache), executor=executor, progress=progress, placebos=cfg.placebos,
              journal=journal, retries=retries, placebo_learners=cfg.placebo_learners)
    res.config = cfg
    return res


def compare(a: Results, b: Results) -> list[str]:
    """Differences between two runs' scores (timing, memory and versions aside)."""
    def key(r):
        return (r["scenario"], r["seed"], r["detector"], r["params"], r.get("protocol") or "",
                r.get("labels") or "", r.get("trained_on") or "", r["task"], r["group"],
                r["metric"])

    ka = {key(r): r for r in a.rows}
    kb = {key(r): r for r in b.rows}
    diffs = []
    for k in sorted(set(ka) | set(kb), key=str):
        if k not in ka or k not in kb:
            diffs.append(f"{'/'.join(map(str, k))}: only in {'first' if k in ka else 'second'}")
            continue
        ra, rb = ka[k], kb[k]
        va, vb = ra["value"], rb["value"]
        same = (va == vb) or (va is not None and vb is not None and math.isnan(va)
                              and math.isnan(vb))
        if not same or ra["dataset_hash"] != rb["dataset_hash"] or ra["status"] != rb["status"]:
            diffs.append(f"{'/'.join(map(str, k))}: {va!r} != {vb!r}")
    return diffs


@lru_cache(maxsize=1)
def _versions() -> dict:
    """Versions of launderbench and of the libraries that can change a score."""
    import importlib.metadata as md
    import sys

    out = {"python": sys.version.split()[0]}
    for pkg in ("launderbench", "numpy", "scipy", "scikit-learn", "numba", "pyarrow"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


__all__ = ["PROTOCOLS", "learns_from_labels", "check_results_dir", "RESULT_FILES", "RunConfig", "Job", "DetectorSpec", "Results", "run", "run_one", "run_config",
           "placebo_job", "compare", "COLUMNS", "SHORTCUTS", "Journal", "job_key",
           "placebo_key", "DEFAULT_RETRIES"]
