"""Conformance checks every detector must pass, after scikit-learn's ``check_estimator`` /
``parametrize_with_checks`` and Gymnasium's ``check_env``.

Each check is a named function that takes a configured, unfitted detector and raises
``AssertionError`` with a one-line reason. :func:`detector_checks` yields them by name;
:func:`parametrize_with_checks` turns a list of detectors into one pytest case per detector
and check, so that a detector is checked by registering it (``tests/test_conformance.py``
runs every check on every registered detector); :func:`check_detector` runs them all and stops
at the first failure.

>>> from launderbench import detectors
>>> from launderbench.detectors.testing import check_detector, detector_checks
>>> check_detector(detectors.make("haircut"))                        # doctest: +SKIP
>>> [name for name, _ in detector_checks(detectors.make("haircut"))][:2]
['check_class_attributes', 'check_parameters']

The checks run the detector on small hand-built ledgers (:func:`toy_views`): a mixed
UTXO/account ledger with an announced hack, the same ledger without seeds, and an empty
ledger.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import Role, ServiceKind
from launderbench.simulator.toy import ToyLedger

from .base import Detector, NotFittedError, Scores

__all__ = ["check_detector", "detector_checks", "parametrize_with_checks", "toy_views",
           "toy_ledger", "view_hash", "CHECKS"]

BTC = 100_000_000  # satoshi per BTC
GWEI = 1_000_000_000  # gwei per ETH (ETH amounts are in gwei)
USD6 = 1_000_000  # base units per USDT


def toy_ledger(seeds: bool = True) -> ToyLedger:
    """A small two-chain ledger with one announced hack, laundering and benign traffic.

    Bitcoin: a victim is drained (the seed), the thief splits, one part is merged with clean
    coins and paid to an exchange, the other joins a CoinJoin; benign payments run alongside.
    Ethereum: a victim is drained (the seed), the funds hop twice to an exchange deposit
    address that forwards to the exchange; USDT moves between benign users.
    """
    led = ToyLedger()
    inc = 0
    thief_kw = {"role": Role.THIEF, "incident": inc}
    # -- bitcoin
    victim = led.address("bitcoin", role=Role.VICTIM, incident=inc)
    thief = led.address("bitcoin", **thief_kw)
    s1 = led.address("bitcoin", role=Role.SPLITTER, incident=inc)
    s2 = led.address("bitcoin", role=Role.SPLITTER, incident=inc)
    bob, carol, dave, erin = (led.address("bitcoin") for _ in range(4))
    cj = [led.address("bitcoin") for _ in range(3)]
    exch = led.address("bitcoin", service=ServiceKind.EXCHANGE, name="bitex")
    shop = led.address("bitcoin")
    # -- ethereum
    ev = led.address("ethereum", role=Role.VICTIM, incident=inc)
    et = led.address("ethereum", **thief_kw)
    eh = led.address("ethereum", role=Role.INTERMEDIARY, incident=inc)
    dep = led.address("ethereum", role=Role.CASHOUT, incident=inc)
    eex = led.address("ethereum", service=ServiceKind.EXCHANGE, name="ethex")
    alice, frank, gina = (led.address("ethereum") for _ in range(3))

    t = 0
    v0, b0, c0, d0 = led.issue(t, [(victim, 10 * BTC), (bob, 5 * BTC), (carol, 3 * BTC),
                                   (dave, 2 * BTC)])
    (e0, a0, f0) = led.issue(t, [(ev, 100 * GWEI), (alice, 20 * GWEI), (frank, 5 * GWEI)],
                             asset="ETH")
    led.issue(t, [(alice, 5_000 * USD6), (gina, 1_000 * USD6)], asset="USDT")
    t += 600
    seed_btc, (o_th,) = led.utxo_tx(t, [v0], [(thief, 10 * BTC - 10_000)])
    seed_eth, _ = led.transfer(t, ev, et, 99 * GWEI, fee=21_000)
    if seeds:
        led.seed(inc, seed_btc)
        led.seed(inc, seed_eth)
    t += 600
    _, (o_s1, o_s2) = led.utxo_tx(t, [o_th], [(s1, 6 * BTC), (s2, 4 * BTC - 20_000)])
    _, (o_shop, o_bob) = led.utxo_tx(t, [b0], [(shop, 2 * BTC), (bob, 3 * BTC - 5_000)])
    led.transfer(t, alice, frank, 2 * GWEI, fee=21_000)
    led.transfer(t, et, eh, 60 * GWEI, fee=21_000)
    t += 600
    _, (o_ex, o_s1c) = led.utxo_tx(t, [o_s1, o_bob], [(exch, 8 * BTC), (s1, 1 * BTC - 10_000)])
    led.transfer(t, eh, dep, 59 * GWEI, fee=21_000)
    led.transfer(t, alice, gina, 1_000 * USD6, asset="USDT", fee=0)
    t += 600
    # CoinJoin: three participants, three equal outputs plus changes.
    led.utxo_tx(t, [o_s2, c0, d0], [(cj[0], 1 * BTC), (cj[1], 1 * BTC), (cj[2], 1 * BTC),
                                     (s2, 3 * BTC - 40_000), (carol, 2 * BTC - 10_000),
                                     (dave, 1 * BTC - 10_000)])
    led.transfer(t, dep, eex, 59 * GWEI - 21_000, fee=21_000)
    led.transfer(t, frank, alice, 1 * GWEI, fee=21_000)
    t += 600
    led.utxo_tx(t, [o_shop], [(erin, 1 * BTC), (shop, 1 * BTC - 3_000)])
    led.transfer(t, et, [(frank, 10 * GWEI), (gina, 20 * GWEI)], fee=21_000)
    return led


def toy_views() -> dict:
    """``{"mixed": view, "no_seeds": view, "empty": view}`` used by :func:`check_detector`."""
    mixed = toy_ledger(seeds=True).build()
    return {
        "mixed": (mixed.observable(), _labels(mixed)),
        "no_seeds": (toy_ledger(seeds=False).build().observable(), _labels(mixed)),
        "empty": (ToyLedger().build().observable(), np.zeros(0, np.int64)),
    }


def _labels(ds) -> np.ndarray:
    role = ds.address_truth["role"]
    return ((role != Role.BENIGN) & (role != Role.VICTIM)).astype(np.int64)


def view_hash(view) -> str:
    """SHA-256 over every column of every observable table (to detect mutation)."""
    h = hashlib.sha256()
    for name in ("chains", "assets", "transactions", "inputs", "outputs", "addresses", "seeds"):
        t = getattr(view, name)
        for col in t:
            arr = t[col]
            h.update(f"{name}.{col}:{arr.dtype}:{arr.shape}".encode())
            if arr.dtype == object:
                h.update("\x1f".join(map(str, arr)).encode())
            else:
                h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _fail(det, msg: str):
    raise AssertionError(f"{type(det).__name__}: {msg}")


def _params_equal(a, b) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                return False
        elif x != y and x is not y:
            return False
    return True


def _scores_equal(a: Scores, b: Scores) -> bool:
    for k in ("address", "transaction"):
        x, y = getattr(a, k), getattr(b, k)
        if (x is None) != (y is None):
            return False
        if x is not None and not np.array_equal(x, y, equal_nan=True):
            return False
    if (a.links is None) != (b.links is None):
        return False
    if a.links is not None:
        for k in ("in_tx_id", "out_tx_id", "score"):
            if not np.array_equal(np.asarray(a.links[k]), np.asarray(b.links[k])):
                return False
    return True


def check_class_attributes(det) -> None:
    """``name``, a one-line ``description``, the ``tags`` the harness reads, and a docstring
    citing the method's source."""
    if not isinstance(det, Detector):
        raise AssertionError(f"{det!r} is not a detectors.Detector")
    cls = type(det)
    if not isinstance(cls.name, str) or not cls.name:
        _fail(det, "class variable 'name' must be a non-empty string")
    if not isinstance(cls.description, str) or not cls.description:
        _fail(det, "class variable 'description' must be a non-empty one-line string")
    if "\n" in cls.description:
        _fail(det, "description must be one line")
    tags = cls.tags
    for key in ("needs_seeds", "needs_labels", "outputs"):
        if key not in tags:
            _fail(det, f"tags lack '{key}'")
    outs = tuple(tags["outputs"])
    if not outs or set(outs) - {"address", "transaction", "link"}:
        _fail(det, f"tags['outputs'] must be a non-empty subset of address/transaction/link, "
                   f"got {outs}")
    docs = [k.__doc__ for k in cls.__mro__[: cls.__mro__.index(Detector)]]
    if not any((d or "").strip() for d in docs):
        _fail(det, "class needs a docstring citing its source")


def check_parameters(det) -> None:
    """Every ``__init__`` parameter has a default; ``get_params``/``set_params`` round-trip;
    ``set_params`` returns ``self`` and refuses unknown names with ``ConfigError``."""
    cls = type(det)
    try:
        names = cls._param_names()
    except TypeError as e:
        _fail(det, str(e))
    sig = inspect.signature(cls.__init__)
    for n in names:
        if sig.parameters[n].default is inspect.Parameter.empty:
            _fail(det, f"parameter '{n}' needs a default value")
    params = det.get_params()
    if not _params_equal(cls(**params).get_params(), params):
        _fail(det, "get_params() of a clone differs from the original's")
    default = cls()
    if default.set_params(**params) is not default:
        _fail(det, "set_params must return self")
    if not _params_equal(default.get_params(), params):
        _fail(det, "set_params(**get_params()) does not round-trip")
    try:
        cls().set_params(no_such_parameter_xyz=1)
    except ConfigError:
        pass
    else:
        _fail(det, "set_params with an unknown name must raise ConfigError")


def check_init_learns_nothing(det) -> None:
    """``__init__`` stores its parameters and nothing else (no fitted attribute)."""
    cls = type(det)
    names = cls._param_names()
    for attr in vars(cls(**det.get_params())):
        if attr.endswith("_") and not attr.startswith("__"):
            _fail(det, f"__init__ sets fitted attribute '{attr}'")
        if attr not in names and not attr.startswith("_"):
            _fail(det, f"__init__ stores '{attr}', which is not a parameter")


def check_not_fitted(det) -> None:
    """``score`` before ``fit`` raises :class:`NotFittedError`."""
    view, _ = toy_views()["mixed"]
    try:
        det.clone().score(view)
    except NotFittedError:
        pass
    else:
        _fail(det, "score before fit must raise NotFittedError")


def check_fitted_attributes(det) -> None:
    """What ``fit`` learns is stored in attributes whose names end in ``_``."""
    for where, (view, labels) in toy_views().items():
        d, _ = _run(det, view, labels, where)
        for attr in vars(d):
            if (attr not in d._param_names() and not attr.startswith("_")
                    and not attr.endswith("_")):
                _fail(det, f"fit stores '{attr}': fitted attributes must end in '_'")


def check_outputs(det) -> None:
    """Every tagged output is float64, of the right length and finite, on every toy ledger
    (the empty one included)."""
    for where, (view, labels) in toy_views().items():
        _, s = _run(det, view, labels, where)
        _check_output(det, view, s, where)


def check_view_not_mutated(det) -> None:
    """``fit`` and ``score`` leave the input view as it was."""
    for where, (view, labels) in toy_views().items():
        before = view_hash(view)
        _run(det, view, labels, where)
        if view_hash(view) != before:
            _fail(det, f"fit/score mutated the input view ('{where}' ledger)")


def check_deterministic(det) -> None:
    """Scoring the same view twice, and two fits on the same view, give equal scores."""
    for where, (view, labels) in toy_views().items():
        d, s1 = _run(det, view, labels, where)
        if not _scores_equal(s1, d.score(view)):
            _fail(det, f"{where}: scoring the same view twice gives different scores")
        _, s3 = _run(det, view, labels, where)
        if not _scores_equal(s1, s3):
            _fail(det, f"{where}: two fits on the same view give different scores (not "
                       "deterministic; pass a seed)")


def check_needs_seeds(det) -> None:
    """A detector tagged ``needs_seeds`` gives all-zero scores on a ledger without seeds."""
    if not det._tag("needs_seeds"):
        return
    view, labels = toy_views()["no_seeds"]
    _, s = _run(det, view, labels, "no_seeds")
    for what in ("address", "transaction"):
        arr = getattr(s, what)
        if arr is not None and np.any(arr != 0):
            _fail(det, f"needs seeds but gives non-zero {what} scores on a ledger without "
                       "seeds")
    if s.links is not None and np.any(np.asarray(s.links["score"]) != 0):
        _fail(det, "needs seeds but gives non-zero link scores without seeds")


@functools.lru_cache(maxsize=1)
def _learning_data():
    """A generated ledger big enough to learn from, its address labels, and the transaction
    id where its labelled (training) period ends."""
    from launderbench.simulator import make
    from launderbench.simulator.split import first_appearance

    ds = make("easy-v1", seed=0, transactions=1500)
    view = ds.observable()
    truth = _labels(ds)
    k = int(0.6 * view.n_transactions)
    first = first_appearance(view)
    labels = np.where((first >= 0) & (first < k), truth, -1).astype(np.int64)
    return view, labels, k


def _prefix_view(view, k: int):
    """The view as an investigator saw it before transaction ``k``: the same addresses,
    chains and assets, the first ``k`` transactions with their legs and seeds."""
    from launderbench.simulator.dataset import ObservableView

    keep = np.arange(k)
    tables = {name: getattr(view, name) for name in ("chains", "assets", "addresses")}
    tables["transactions"] = view.transactions.take(keep)
    for name in ("inputs", "outputs", "seeds"):
        t = getattr(view, name)
        tables[name] = t.take(np.flatnonzero(t["tx_id"] < k))
    return ObservableView(tables, view.meta)


def check_fit_ignores_the_future(det) -> None:
    """A detector that learns from labels learns nothing from what happens after the labelled
    period: fitted on the whole ledger (labels known only for addresses first seen before
    transaction ``k``) or on the ledger cut at ``k``, it gives the same scores on the cut
    ledger. (The test part's items and labels are not seen while fitting.)"""
    if not det._tag("needs_labels"):
        return
    view, labels, k = _learning_data()
    prefix = _prefix_view(view, k)
    whole = det.clone().fit(view, labels).score(prefix)
    cut = det.clone().fit(prefix, labels).score(prefix)
    if not _scores_equal(whole, cut):
        _fail(det, "fitting on the whole ledger and on the ledger cut at the end of the "
                   "labelled period gives different models: fit reads transactions after the "
                   "labelled period")


#: Every conformance check, in the order :func:`check_detector` runs them.
CHECKS: tuple[Callable[[Detector], None], ...] = (
    check_class_attributes, check_parameters, check_init_learns_nothing, check_not_fitted,
    check_outputs, check_fitted_attributes, check_view_not_mutated, check_deterministic,
    check_needs_seeds, check_fit_ignores_the_future,
)


def _run(det, view, labels, where: str):
    d = det.clone()
    try:
        d.fit(view, labels if det._tag("needs_labels") else None)
        return d, d.score(view)
    except AssertionError:
        raise
    except Exception as e:
        _fail(det, f"failed on the '{where}' toy ledger: {type(e).__name__}: {e}")


def _check_output(det, view, s: Scores, where: str) -> None:
    outputs = det._tag("outputs")
    arrays = []
    if "address" in outputs:
        arrays.append(("address", s.address, view.n_addresses))
    if "transaction" in outputs:
        arrays.append(("transaction", s.transaction, view.n_transactions))
    if "link" in outputs:
        links = s.links
        arrays.append(("links['score']", links["score"], len(links["score"])))
    for what, arr, n in arrays:
        if arr is None:
            _fail(det, f"{where}: Scores.{what} is None although tagged as an output")
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float64 or arr.shape != (n,):
            _fail(det, f"{where}: Scores.{what} must be float64 of shape ({n},)")
        if not np.all(np.isfinite(arr)):
            _fail(det, f"{where}: Scores.{what} has non-finite values")


def detector_checks(det: Detector) -> Iterator[tuple[str, Callable[[Detector], None]]]:
    """``(name, check)`` for every conformance check that applies to ``det``; call
    ``check(det)``."""
    for check in CHECKS:
        yield check.__name__, check


def check_detector(det: Detector) -> None:
    """Run every conformance check on ``det`` (a configured, unfitted detector instance).

    Raises
    ------
    AssertionError
        With a one-line reason on the first failed check.
    """
    for _, check in detector_checks(det):
        check(det)


def _case_id(det: Detector) -> str:
    params = {k: v for k, v in det.get_params().items()
              if not _params_equal({k: v}, {k: type(det)().get_params()[k]})}
    extra = ",".join(f"{k}={v!r}" for k, v in sorted(params.items()))
    return f"{type(det).name}({extra})" if extra else type(det).name


def parametrize_with_checks(detectors: Iterable[Detector]):
    """A ``pytest.mark.parametrize`` decorator with one case per detector and check; the test
    it decorates takes ``detector`` and ``check`` and calls ``check(detector)``.

    >>> @parametrize_with_checks([detectors.make("fifo")])        # doctest: +SKIP
    ... def test_conforms(detector, check):
    ...     check(detector)
    """
    import pytest

    cases = [pytest.param(det, check, id=f"{_case_id(det)}-{name}")
             for det in detectors for name, check in detector_checks(det)]
    return pytest.mark.parametrize(("detector", "check"), cases)
