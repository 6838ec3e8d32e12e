"""Conformance checks every detector must pass (after scikit-learn's ``check_estimator`` and
Gymnasium's ``check_env``).

>>> from launderbench.detectors.testing import check_detector
>>> check_detector(detectors.make("haircut"))      # doctest: +SKIP

:func:`check_detector` raises ``AssertionError`` with a one-line reason on the first failure.
It runs the detector on small hand-built ledgers (:func:`toy_views`): a mixed UTXO/account
ledger with an announced hack, the same ledger without seeds, and an empty ledger.
"""

from __future__ import annotations

import hashlib
import inspect

import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import Role, ServiceKind
from launderbench.simulator.toy import ToyLedger

from .base import Detector, NotFittedError, Scores

__all__ = ["check_detector", "toy_views", "toy_ledger", "view_hash"]

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


def _check_class(det) -> None:
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


def _check_params(det) -> None:
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
    fresh = cls(**params)
    # nothing learned (and nothing else stored) in __init__
    for attr in vars(fresh):
        if attr.endswith("_") and not attr.startswith("__"):
            _fail(det, f"__init__ sets fitted attribute '{attr}'")
        if attr not in names and not attr.startswith("_"):
            _fail(det, f"__init__ stores '{attr}', which is not a parameter")
    if not _params_equal(fresh.get_params(), params):
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


def _run(det, view, labels):
    d = det.clone()
    d.fit(view, labels if det._tag("needs_labels") else None)
    for attr in vars(d):
        if attr not in d._param_names() and not attr.startswith("_") and not attr.endswith("_"):
            _fail(det, f"fit stores '{attr}': fitted attributes must end in '_'")
    return d, d.score(view)


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


def check_detector(det: Detector) -> None:
    """Run the conformance checks on ``det`` (a configured, unfitted detector instance).

    Checks: class variables and docstring; parameters (defaults, ``get_params`` /
    ``set_params`` round trip, unknown names raise ``ConfigError``, nothing learned in
    ``__init__``); ``score`` before ``fit`` raises :class:`NotFittedError`; output shapes,
    dtypes (float64) and finiteness on every toy view; determinism (two fresh fits give equal
    scores, and scoring twice gives equal scores); no mutation of the input view; a graceful
    answer on an empty ledger; on a ledger without seeds a detector tagged ``needs_seeds``
    returns all-zero scores.

    Raises
    ------
    AssertionError
        With a one-line reason on the first failed check.
    """
    _check_class(det)
    _check_params(det)
    views = toy_views()
    view, labels = views["mixed"]
    try:
        det.clone().score(view)
    except NotFittedError:
        pass
    else:
        _fail(det, "score before fit must raise NotFittedError")

    for where, (view, labels) in views.items():
        before = view_hash(view)
        try:
            d, s1 = _run(det, view, labels)
        except AssertionError:
            raise
        except Exception as e:
            _fail(det, f"failed on the '{where}' toy ledger: {type(e).__name__}: {e}")
        if view_hash(view) != before:
            _fail(det, f"fit/score mutated the input view ('{where}' ledger)")
        _check_output(det, view, s1, where)
        s2 = d.score(view)
        if not _scores_equal(s1, s2):
            _fail(det, f"{where}: scoring the same view twice gives different scores")
        _, s3 = _run(det, view, labels)
        if not _scores_equal(s1, s3):
            _fail(det, f"{where}: two fits on the same view give different scores (not "
                       "deterministic; pass a seed)")
        if where == "no_seeds" and det._tag("needs_seeds"):
            for what in ("address", "transaction"):
                arr = getattr(s1, what)
                if arr is not None and np.any(arr != 0):
                    _fail(det, f"needs seeds but gives non-zero {what} scores on a ledger "
                               "without seeds")
            if s1.links is not None and np.any(np.asarray(s1.links["score"]) != 0):
                _fail(det, "needs seeds but gives non-zero link scores without seeds")
