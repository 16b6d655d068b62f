"""Twin fidelity of the `repo-sdk init` scaffold: the share of twin pairs whose clean reply wins.

Scaffolds a project with `repo-sdk init` (embedded judge, starter RM, no flags) unless
`--project` names one, scores the negotiation plugin's adversarial twin set (clean and
hacked reply per pair) through the project's spec, and prints, per variant (REPO = the
spec's combiner, RM only, rules only, judge only, an unweighted sum of the sources), the
share of pairs where the clean twin scores strictly higher: overall and per kind, for the
`dev` half (rules and scale tuned on it) and the `holdout` half (only measured).

    python -m benchmarks.fidelity                          # fresh scaffold in a temp dir
    python -m benchmarks.fidelity --project out/demo       # an existing scaffold
    python -m benchmarks.fidelity --twins my_twins.jsonl --json out/fidelity.json
    python -m benchmarks.fidelity --project out/demo --judge-noise 0.5 1.0   # REPO under a noisier judge

`--judge-noise SD` adds independent Gaussian noise of SD rating points to each reply's
judge value (clipped to the 1-5 scale), recombines with the spec's combiner, and prints
REPO's mean wins over 200 draws: how much judge noise the ranking tolerates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from repo_sdk.fidelity import VARIANTS, ScoredTwin, read_twins, score_twins, win_share
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.types import SourceScore

LABELS = {
    "combined": "REPO",
    "rm": "RM only",
    "rules": "rules only",
    "judge": "judge only",
    "weighted_sum": "weighted sum",
}


def default_twins() -> Path:
    import repo_sdk_negotiation

    return repo_sdk_negotiation.twins_path()


def scaffold(directory: Path) -> Path:
    from typer.testing import CliRunner

    from repo_sdk.cli import app

    res = CliRunner().invoke(app, ["init", str(directory)])
    if res.exit_code != 0:
        raise SystemExit(f"error: repo-sdk init failed:\n{res.output}")
    return directory


def cell(scored: list[ScoredTwin], variant: str, **where: str | None) -> str:
    share = win_share(scored, variant, **where)
    if share is None:
        return "n/a"
    n = sum(1 for s in scored if all(getattr(s.pair, k) == v for k, v in where.items() if v is not None))
    return f"{round(share * n)}/{n}"


def table(scored: list[ScoredTwin], splits: list[str | None]) -> str:
    kinds = sorted({s.pair.kind for s in scored})
    head = ["split", "kind", *(LABELS[v] for v in VARIANTS)]
    rows = []
    for split in splits:
        name = split or "all"
        rows.append([name, "ALL", *(cell(scored, v, split=split) for v in VARIANTS)])
        rows.extend([name, k, *(cell(scored, v, split=split, kind=k) for v in VARIANTS)] for k in kinds)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def noisy_wins(pipeline: RewardPipeline, scored: list[ScoredTwin], sd: float, draws: int = 200) -> float:
    """REPO's mean wins when each reply's judge value gets independent noise of ``sd`` rating points."""
    judges = [n for n, src in pipeline.sources.items() if src.kind == "judge"]
    rng = random.Random(0)
    wins = 0
    for _ in range(draws):
        for s in scored:
            assert s.results is not None
            scores: dict[str, list[SourceScore]] = {}
            for name in s.results[0].sources:
                pair = [r.sources[name] for r in s.results]
                if name in judges:
                    pair = [
                        x
                        if x.value is None
                        else x.model_copy(update={"value": min(5.0, max(1.0, x.value + rng.gauss(0, sd)))})
                        for x in pair
                    ]
                scores[name] = pair
            c, h = (x.reward for x in pipeline.combiner.combine([None, None], scores))
            wins += c is not None and (h is None or c > h)
    return wins / draws


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, help="an existing `repo-sdk init` project (default: scaffold a fresh one)")
    ap.add_argument("--twins", type=Path, help="twin pairs JSONL (default: the negotiation plugin's twin set)")
    ap.add_argument("--json", type=Path, help="also write per-pair values here")
    ap.add_argument(
        "--judge-noise", type=float, nargs="*", default=[], help="judge noise SDs to simulate (rating points)"
    )
    args = ap.parse_args(argv)
    twins = read_twins(args.twins or default_twins())
    with tempfile.TemporaryDirectory(prefix="repo-fidelity-") as tmp:
        if args.project is None:
            os.environ.setdefault("REPO_SDK_CACHE_DIR", str(Path(tmp) / "cache"))  # a fresh judge cache
            print("scaffolding a project with `repo-sdk init` (trains the starter RM) ...", file=sys.stderr)
        project = args.project or scaffold(Path(tmp) / "project")
        start = time.perf_counter()
        with RewardPipeline.from_spec(project / "spec.yaml") as pipeline:
            scored = score_twins(
                pipeline,
                twins,
                progress=lambda done, total: print(f"  scored {done}/{total} pairs", file=sys.stderr, flush=True),
            )
            seconds = time.perf_counter() - start
            noise = [(sd, noisy_wins(pipeline, scored, sd)) for sd in args.judge_noise]
    splits = sorted({s.pair.split for s in scored})
    print(f"{len(scored)} twin pairs, {2 * len(scored)} replies scored in {seconds:.0f}s")
    print("clean twin ranked strictly first (wins/pairs); ties and missing values count as losses\n")
    print(table(scored, [*splits, None] if len(splits) > 1 else [None]))
    for sd, wins in noise:
        share = f"{wins:.1f}/{len(scored)}"
        print(f"\nREPO with judge noise sd {sd:g} rating points: {share} clean twins first (mean of 200 draws)")
    if args.json:
        rows = [{"id": s.pair.id, "kind": s.pair.kind, "split": s.pair.split, "clean": s.clean, "hacked": s.hacked}
                for s in scored]  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
