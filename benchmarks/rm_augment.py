"""The starter RM with and without `--augment`: held-out accuracy, artifact accuracy and twin accuracy.

Trains the packaged MiniLM RM on the scaffold's preference pairs twice per seed: plain (the
`rm train` defaults) and as `repo-sdk init` trains it (`--augment`, its per-pair count and
epochs, `init_cmd.RM_TRAINING`), then reports for each:
the held-out pairwise accuracy on real pairs, the accuracy on artifact-controlled pairs
drawn from the held-out pairs, the share of the negotiation plugin's twin pairs whose
clean reply the RM alone scores higher (dev / holdout), and the training time.

    python -m benchmarks.rm_augment
    python -m benchmarks.rm_augment --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from repo_sdk.cli.init_cmd import RM_TRAINING
from repo_sdk.fidelity import read_twins, score_twins, win_share
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.rm.train import RMTrainOptions, train_rm
from repo_sdk.templates_builtin import templates_dir


def twin_accuracy(rm_dir: Path, twins_file: Path) -> tuple[float | None, float | None]:
    spec = {"sources": {"rm": {"type": "rm", "path": str(rm_dir)}}, "combiner": {"type": "weighted_sum"}}
    with RewardPipeline.from_spec(spec) as pipe:
        scored = score_twins(pipe, read_twins(twins_file))
    return win_share(scored, "rm", split="dev"), win_share(scored, "rm", split="holdout")


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def main(argv: list[str] | None = None) -> int:
    import repo_sdk_negotiation

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args(argv)
    pairs = templates_dir() / "init" / "preference_pairs.jsonl"
    twins = repo_sdk_negotiation.twins_path()
    print(f"{'seed':>4}  {'augment':>7}  {'held-out':>8}  {'artifacts':>9}  {'twins dev':>9}  {'holdout':>7}  train s")
    with tempfile.TemporaryDirectory(prefix="repo-rm-augment-") as tmp:
        for seed in args.seeds:
            for augment in (False, True):
                out = Path(tmp) / f"rm-{seed}-{augment}"
                options = RM_TRAINING if augment else RMTrainOptions()
                res = train_rm(pairs, out, options.model_copy(update={"seed": seed, "show_progress": False}))
                dev, hold = twin_accuracy(out, twins)
                print(
                    f"{seed:>4}  {('+' + str(res.augmented_pairs)) if augment else 'no':>7}  "
                    f"{pct(res.heldout_accuracy):>8}  {pct(res.heldout_artifact_accuracy):>9}  {pct(dev):>9}  "
                    f"{pct(hold):>7}  {res.seconds:.0f}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
