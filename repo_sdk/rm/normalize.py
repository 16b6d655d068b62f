"""The RM's scale: how raw RM scores map to the value the combiner reads.

REPO reads the RM's sign and magnitude (``R = R_rm + |R_rm| * E / n``), so the
scale is a choice, set by ``normalize`` in the source config:

- ``none`` (default): raw scores (a Bradley-Terry RM's logits: any offset, any sign).
- signed: ``{mean, std}`` (``(raw - mean) / std``); a calibration file with
  ``method: zscore`` (or just its path) or ``method: quantile`` (the score's place
  among the calibration scores, stretched to ``[-1, 1]``, median 0).
- positive, in ``(0, 1]``: ``method: positive_quantile`` (the calibrated place ``p``
  in ``[0, 1]`` mapped to ``floor + (1 - floor) * p``) or ``method: sigmoid``
  (``floor + (1 - floor) * sigmoid((raw - mean) / std)``, with mean 0 and std 1
  when no file is given: a sigmoid of the logit). REPO needs this: on a positive
  scale a penalty can only lower a reward (docs/combiners.md).

``rm train`` writes ``calibration.json`` beside the model, from the trained
model's scores on its training replies.

Example:
    >>> stats = calibration_stats([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> z = Normalizer.from_calibration(stats, "zscore")
    >>> round(z(2.0), 6), Normalizer.from_calibration(stats, "quantile")(2.0)
    (0.0, 0.0)
    >>> pos = Normalizer.from_calibration(stats, "positive_quantile", floor=0.5)
    >>> pos(-9.0), pos(2.0), pos(9.0), pos.positive
    (0.5, 0.75, 1.0, True)
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from repo_sdk.errors import ConfigError

__all__ = [
    "CALIBRATION_FILE",
    "POSITIVE_METHODS",
    "Method",
    "Normalizer",
    "calibration_stats",
    "load_calibration",
    "sigmoid",
]

CALIBRATION_FILE = "calibration.json"
_PROBS = [i / 20 for i in range(21)]

#: How raw scores are mapped: signed (``zscore``, ``quantile``) or positive (``positive_quantile``, ``sigmoid``).
Method = Literal["zscore", "quantile", "positive_quantile", "sigmoid"]
POSITIVE_METHODS = ("positive_quantile", "sigmoid")


def calibration_stats(values: Sequence[float]) -> dict[str, Any]:
    """Mean, std and the 0, 5, ..., 100 % quantiles of some raw RM scores."""
    xs = sorted(float(v) for v in values if not math.isnan(v))
    if not xs:
        raise ValueError("calibration needs at least one score")
    mean = sum(xs) / len(xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
    quantiles = []
    for p in _PROBS:
        pos = p * (len(xs) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(xs) - 1)
        quantiles.append(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo))
    return {"count": len(xs), "mean": mean, "std": std, "quantiles": {"probs": _PROBS, "values": quantiles}}


def load_calibration(path: Path) -> dict[str, Any]:
    """Read a calibration file, naming the file in any error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        float(data["mean"]), float(data["std"])
    except FileNotFoundError:
        raise ConfigError(f"rm: calibration file {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"rm: calibration file {path} is not valid ({type(exc).__name__}: {exc})") from None
    return data


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large ``|x|``.

    Example:
        >>> sigmoid(0.0), sigmoid(-1000.0), sigmoid(1000.0)
        (0.5, 0.0, 1.0)
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class Normalizer:
    """A raw-score map: z-score, quantile to ``[-1, 1]``, positive quantile or sigmoid to ``(0, 1]``."""

    def __init__(
        self,
        mean: float = 0.0,
        std: float = 1.0,
        quantiles: tuple[list[float], list[float]] | None = None,
        *,
        method: Method = "zscore",
        floor: float = 0.0,
    ):
        if method in ("quantile", "positive_quantile") and quantiles is None:
            raise ValueError(f"method {method!r} needs quantiles")
        if not 0.0 <= floor < 1.0:
            raise ValueError(f"floor must be in [0, 1), got {floor}")
        self.mean = mean
        self.std = std if std > 0 else 1.0
        self.quantiles = quantiles
        self.method = method
        self.floor = floor

    @property
    def positive(self) -> bool:
        """True when every value is on a positive scale (``positive_quantile``, ``sigmoid``)."""
        return self.method in POSITIVE_METHODS

    @classmethod
    def from_calibration(cls, data: dict[str, Any], method: Method = "zscore", floor: float = 0.0) -> Normalizer:
        if method in ("quantile", "positive_quantile"):
            q = data.get("quantiles") or {}
            probs, values = list(q.get("probs", [])), list(q.get("values", []))
            if len(probs) < 2 or len(probs) != len(values):
                raise ConfigError(f"rm: the calibration file has no usable quantiles for method {method!r}")
            return cls(quantiles=(values, probs), method=method, floor=floor)
        return cls(float(data["mean"]), float(data["std"]), method=method, floor=floor)

    def place(self, raw: float) -> float:
        """The share of calibration scores below ``raw``, in ``[0, 1]`` (ties: the middle of their share)."""
        assert self.quantiles is not None
        values, probs = self.quantiles
        lo, hi = bisect.bisect_left(values, raw), bisect.bisect_right(values, raw)
        if lo < hi:
            return (probs[lo] + probs[hi - 1]) / 2
        if lo == 0:
            return probs[0]
        if lo == len(values):
            return probs[-1]
        v0, v1, p0, p1 = values[lo - 1], values[lo], probs[lo - 1], probs[lo]
        return p0 + (p1 - p0) * (raw - v0) / (v1 - v0)

    def __call__(self, raw: float) -> float:
        if self.method == "sigmoid":
            return self.floor + (1 - self.floor) * sigmoid((raw - self.mean) / self.std)
        if self.method == "quantile":
            return 2 * self.place(raw) - 1
        if self.method == "positive_quantile":
            return self.floor + (1 - self.floor) * self.place(raw)
        return (raw - self.mean) / self.std
