"""The data shipped with the plugin: example dialogues, preference pairs and a ready-made spec.

All of it was written for this project (no third-party data). Example dialogues
are logged-dialogue JSONL lines ``{"id", "task", "turns", "metadata"}``; the
planted bad cases are marked in ``metadata.expected`` as ``{"<turn index>":
["negotiation.rule", ...]}`` (dialogue-scope rules at the turn they point at).
Preference pairs are ``{"task", "history", "chosen", "rejected"}`` lines. The
adversarial twin set (``twins.jsonl``) holds ``{"id", "kind", "split", "task",
"history", "clean", "hacked", "note"}`` lines: two replies to one context that
differ only by one guardrail break or reward hack (``kind``), for measuring
whether a reward ranks the clean twin first (``python -m benchmarks.fidelity``).

Example:
    >>> records = load_example_records()
    >>> len(records) >= 12, sum(t["role"] == "assistant" for r in records for t in r["turns"]) >= 60
    (True, True)
    >>> spec_path().name
    'negotiation_spec.yaml'
    >>> len(load_twins("dev")) + len(load_twins("holdout")) == len(load_twins())
    True
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from repo_sdk.types import Dialogue

__all__ = [
    "DATA_DIR",
    "copy_examples",
    "dialogues_path",
    "expected_hits",
    "load_example_dialogues",
    "load_example_records",
    "load_preference_pairs",
    "load_twins",
    "preference_pairs_path",
    "spec_path",
    "twins_path",
]

DATA_DIR = Path(__file__).parent / "data"


def dialogues_path() -> Path:
    """The example dialogues (JSONL, the logged-dialogue format)."""
    return DATA_DIR / "dialogues.jsonl"


def preference_pairs_path() -> Path:
    """The preference pairs (JSONL: task, history, chosen, rejected).

    They are the negotiation pairs the core ships for ``repo-sdk init``, one file for both.
    """
    from repo_sdk.templates_builtin import templates_dir

    return templates_dir() / "init" / "preference_pairs.jsonl"


def spec_path() -> Path:
    """A reward spec using the plugin's rules (judge and RM shown commented out)."""
    return DATA_DIR / "negotiation_spec.yaml"


def twins_path() -> Path:
    """The adversarial twin set (JSONL: id, kind, split, task, history, clean, hacked, note)."""
    return DATA_DIR / "twins.jsonl"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_example_records() -> list[dict[str, Any]]:
    """The example dialogue lines as dicts, metadata included."""
    return _read_jsonl(dialogues_path())


def load_example_dialogues() -> list[Dialogue]:
    """The example dialogues as core Dialogue objects (with their metadata)."""
    return [Dialogue.model_validate(r) for r in load_example_records()]


def load_preference_pairs() -> list[dict[str, Any]]:
    """The preference pairs as dicts."""
    return _read_jsonl(preference_pairs_path())


def load_twins(split: str | None = None) -> list[dict[str, Any]]:
    """The twin pairs as dicts; ``split`` ("dev" or "holdout") keeps one half.

    Tune rules or models on ``dev`` only and report ``holdout`` as well: the
    holdout half measures how far the tuning carries to wording it never saw.
    """
    twins = _read_jsonl(twins_path())
    if split is not None and split not in ("dev", "holdout"):
        raise ValueError(f"split must be 'dev' or 'holdout', got {split!r}")
    return [t for t in twins if split is None or t["split"] == split]


def expected_hits(record: dict[str, Any]) -> dict[int, set[str]]:
    """Turn index -> the rules a planted bad case must fire there (empty for clean dialogues)."""
    expected = (record.get("metadata") or {}).get("expected") or {}
    return {int(k): set(v) for k, v in expected.items()}


def copy_examples(directory: str | Path) -> list[Path]:
    """Copy the example dialogues, preference pairs and spec into ``directory`` (created if needed).

    The files are named as ``repo-sdk init`` names its scaffold: ``dialogues.jsonl``,
    ``preference_pairs.jsonl`` and ``spec.yaml``. Existing files are overwritten.

    Example:
        >>> import tempfile
        >>> [p.name for p in copy_examples(tempfile.mkdtemp())]
        ['dialogues.jsonl', 'preference_pairs.jsonl', 'spec.yaml']
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    out = []
    for src, name in (
        (dialogues_path(), "dialogues.jsonl"),
        (preference_pairs_path(), "preference_pairs.jsonl"),
        (spec_path(), "spec.yaml"),
    ):
        out.append(Path(shutil.copyfile(src, target / name)))
    return out
