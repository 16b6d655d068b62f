"""Optional normalisation of raw RM scores, so the RM's scale is stable for the combiner.

REPO reads the RM's sign and magnitude (``R = R_rm + |R_rm| * E / n``), so an RM
whose raw scores drift (all positive, say) changes what the enhancement does.
Three choices, set by ``normalize`` in the source config:

- ``none`` (default): raw scores.
- ``{mean, std}``: ``(raw - mean) / std``.
- a calibration file (``{file: PATH, method: zscore | quantile}`` or just ``PATH``,
  z-score): ``rm train`` writes ``calibration.json`` beside the model, from the
  trained model's scores on its training replies. ``quantile`` maps a score to its
  place among the calibration scores, stretched to ``[-1, 1]`` (the median maps to
  0), by linear interpolation between the stored quantiles.

Example:
    >>> stats = calibration_stats([0.0, 1.0, 2.0, 3.0, 4.0])
    >>> z = Normalizer.from_calibration(stats, "zscore")
    >>> round(z(2.0), 6), Normalizer.from_calibration(stats, "quantile")(2.0)
    (0.0, 0.0)
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from repo_sdk.errors import ConfigError

__all__ = ["CALIBRATION_FILE", "Normalizer", "calibration_stats", "load_calibration"]

CALIBRATION_FILE = "calibration.json"
_PROBS = [i / 20 for i in range(21)]


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


class Normalizer:
    """A raw-score map: z-score, quantile to ``[-1, 1]``, or identity."""

    def __init__(self, mean: float = 0.0, std: float = 1.0, quantiles: tuple[list[float], list[float]] | None = None):
        self.mean = mean
        self.std = std if std > 0 else 1.0
        self.quantiles = quantiles

    @classmethod
    def from_calibration(cls, data: dict[str, Any], method: Literal["zscore", "quantile"] = "zscore") -> Normalizer:
        if method == "quantile":
            q = data.get("quantiles") or {}
            probs, values = list(q.get("probs", [])), list(q.get("values", []))
            if len(probs) < 2 or len(probs) != len(values):
                raise ConfigError("rm: the calibration file has no usable quantiles for method 'quantile'")
            return cls(quantiles=(values, probs))
        return cls(float(data["mean"]), float(data["std"]))

    def __call__(self, raw: float) -> float:
        if self.quantiles is None:
            return (raw - self.mean) / self.std
        values, probs = self.quantiles
        lo, hi = bisect.bisect_left(values, raw), bisect.bisect_right(values, raw)
        if lo < hi:  # equal to stored quantiles (ties): the middle of their probabilities
            p = (probs[lo] + probs[hi - 1]) / 2
        elif lo == 0:
            p = probs[0]
        elif lo == len(values):
            p = probs[-1]
        else:
            v0, v1, p0, p1 = values[lo - 1], values[lo], probs[lo - 1], probs[lo]
            p = p0 + (p1 - p0) * (raw - v0) / (v1 - v0)
        return 2 * p - 1
