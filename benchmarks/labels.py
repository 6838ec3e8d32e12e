"""The training labels a learned detector is given: labels as investigators have them.

The benchmark knows the exact truth, but an investigator does not. A :class:`LabelPolicy`
turns the exact labels of a dataset's training part into the labels of a realistic case file,
with three knobs (each off by default):

``share``
    *Partial* labels: the share of the laundering addresses that are known. The others are
    not known to be laundering, so they are labelled licit (0), as every address not on the
    investigator's list is treated: positive-unlabelled learning (Bekker & Davis,
    "Learning from positive and unlabeled data: a survey", Machine Learning 109, 2020).
``noise``
    *Noisy* labels: each known label is flipped (1 <-> 0) with this probability, after the
    other knobs (symmetric label noise; Frenay & Verleysen, "Classification in the presence
    of label noise: a survey", IEEE TNNLS 25(5), 2014).
``delay_days``
    *Delayed* labels: an address's label becomes known only this many days after its first
    transaction; an address whose label is not known yet by the end of the labelled period is
    unknown (-1). Confirmations of laundering typically arrive weeks or months after the
    activity (the "verification latency" of fraud detection: Dal Pozzolo et al., "Credit card
    fraud detection: a realistic modeling and a novel learning strategy", IEEE TNNLS 29(8),
    2018).

Randomness (which laundering addresses are known, which labels flip) comes from
``numpy.random.SeedSequence`` of the policy's seed, the number of addresses and the dataset's
content hash, one draw per address id, so the same policy and dataset always give the same
labels. Evaluation always uses the exact truth.

Labels are one integer per address: 1 illicit, 0 licit, -1 unknown (the Elliptic convention of
:mod:`launderbench.detectors.base`).

>>> LabelPolicy(share=0.5, delay_days=30).label()
'share=0.5,delay=30d'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from launderbench.simulator.errors import ConfigError
from launderbench.simulator.schema import DAY

__all__ = ["LabelPolicy", "training_labels", "FULL"]


@dataclass(frozen=True)
class LabelPolicy:
    """How the training labels depart from the exact truth (see the module docstring).

    Parameters
    ----------
    share : float in (0, 1], default 1
        Share of the laundering addresses that are known to be laundering.
    noise : float in [0, 0.5), default 0
        Probability that a known label is flipped.
    delay_days : float >= 0, default 0
        Days after an address's first transaction until its label is known.
    seed : int >= 0, default 0
        Seed of the random choices (which addresses are known, which labels flip).
    """

    share: float = 1.0
    noise: float = 0.0
    delay_days: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name in ("share", "noise", "delay_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ConfigError(f"label {name} must be a number, got {v!r}")
            if not math.isfinite(float(v)):
                raise ConfigError(f"label {name} must be finite, got {v!r}")
            object.__setattr__(self, name, float(v))
        if not 0.0 < self.share <= 1.0:
            raise ConfigError(f"label share must be in (0, 1], got {self.share:g}")
        if not 0.0 <= self.noise < 0.5:
            raise ConfigError(f"label noise must be in [0, 0.5), got {self.noise:g}")
        if self.delay_days < 0:
            raise ConfigError(f"label delay must be at least 0 days, got {self.delay_days:g}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) \
                or self.seed < 0:
            raise ConfigError(f"label seed must be a non-negative integer, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))

    @property
    def exact(self) -> bool:
        """True when the labels are the exact truth of the labelled addresses."""
        return self.share == 1.0 and self.noise == 0.0 and self.delay_days == 0.0

    def label(self) -> str:
        """A short text for result rows: ``"exact"`` or e.g. ``"share=0.5,noise=0.05"``."""
        if self.exact:
            return "exact"
        parts = []
        if self.share != 1.0:
            parts.append(f"share={self.share:g}")
        if self.noise:
            parts.append(f"noise={self.noise:g}")
        if self.delay_days:
            parts.append(f"delay={self.delay_days:g}d")
        return ",".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d) -> LabelPolicy:
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise ConfigError(f"label policy must be a mapping, got {type(d).__name__}")
        unknown = set(d) - {"share", "noise", "delay_days", "seed"}
        if unknown:
            raise ConfigError(f"unknown label policy key(s): {', '.join(sorted(unknown))}")
        return cls(**d)

    def apply(self, ts, part: str = "train") -> np.ndarray:
        """The labels of :class:`~launderbench.benchmarks.tasks.TaskSet` ``ts`` under this
        policy: int64, one per address (1, 0 or -1).

        ``part="train"`` labels the addresses of the training part of the temporal split
        (the transductive protocol: the rest of the dataset is what is tested);
        ``part="all"`` labels every used address (the inductive protocol: the whole dataset
        is for training, the test is another dataset). The labelled period ends at the last
        transaction of that part; delayed labels are those known by then.
        """
        if part not in ("train", "all"):
            raise ConfigError(f"part must be 'train' or 'all', got {part!r}")
        code = ts.split["address"]
        labelled = code == 0 if part == "train" else code >= 0
        y = ts.addr_label.astype(np.int64)
        out = np.where(labelled, y, -1)
        n = len(out)
        if self.exact or n == 0:
            return out
        digest = str(ts.meta.get("content_hash") or "")[:8]
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, n, int(digest, 16) if digest else 0]))
        u_known, u_flip = rng.random(n), rng.random(n)
        if self.delay_days:
            tx_code = ts.split["transaction"]
            t = ts.view.transactions["timestamp"]
            in_part = tx_code == 0 if part == "train" else np.ones(len(t), bool)
            end = t[in_part].max() if in_part.any() else -np.inf
            from launderbench.simulator.split import first_appearance

            first = first_appearance(ts.view)
            first_t = np.where(first >= 0, t[np.maximum(first, 0)], np.iinfo(np.int64).max)
            late = first_t + self.delay_days * DAY > end
            out[labelled & late] = -1
        if self.share < 1.0:
            out[(out == 1) & (u_known >= self.share)] = 0
        if self.noise:
            flip = (out >= 0) & (u_flip < self.noise)
            out[flip] = 1 - out[flip]
        return out


#: the exact labels (every knob off)
FULL = LabelPolicy()


def training_labels(ts, policy: LabelPolicy | None = None, part: str = "train") -> np.ndarray:
    """The labels a detector that learns may see (:meth:`LabelPolicy.apply`); by default
    the exact labels of the training part of the temporal split, -1 (unknown) elsewhere."""
    return (policy or FULL).apply(ts, part)
