"""The judge alone on the twin pairs: how often its value ranks the clean twin first, per readout.

A quicker loop than `python -m benchmarks.fidelity` for judge templates and modes: it
scores only the judge (the embedded SmolLM2 server, or `--base-url`), asks every reply's
question(s) once, keeps the raw next-token probabilities in a file cache
(`--cache`, keyed by the rendered request), and prints wins per split for several
readouts of the same probabilities:

- ``expected``: the expected score (the project's `logprobs` / `checklist` value);
- ``margin``: P(top half of the scale) - P(bottom half) (logprobs) or P(no) - P(yes) (checklist);
- ``calibrated``: the expected score after dividing each answer's probability by the one the
  judge gives for a content-free reply ("N/A") in the same template (Zhao et al. 2021).

    python -m benchmarks.judge_twins --split dev      # the scaffold's rubric and history (2 turns)
    python -m benchmarks.judge_twins --template templates/judges/pointwise.j2 --history 8 --json out/j.jsonl
    python -m benchmarks.judge_twins --mode checklist --split dev

The judge's guard (text aimed at it, an empty reply) is applied first, as in the judge source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from repo_sdk.fidelity import TwinPair, read_twins
from repo_sdk.judge.config import JudgeConfig
from repo_sdk.judge.embedded import embedded_model_name, get_embedded_server
from repo_sdk.judge.fence import protocol_text
from repo_sdk.judge.modes import Question, read_logprobs
from repo_sdk.judge.prompts import Prompts, sampling_params
from repo_sdk.judge.templates import JudgeTemplate, load_template
from repo_sdk.judge.verdict import VerdictError
from repo_sdk.templates_builtin import templates_dir
from repo_sdk.types import Sample

READOUTS = ("expected", "margin", "calibrated")
CONTENT_FREE = "N/A"


class Asker:
    """Asks the judge server for next-token top logprobs, memoised in a JSON-lines file."""

    def __init__(self, base_url: str, model: str, body: Mapping[str, Any], cache: Path | None) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.body, self.cache = model, dict(body), cache
        self.memo: dict[str, list[list[Any]]] = {}
        if cache is not None and cache.is_file():
            for line in cache.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.memo[row["key"]] = row["top"]
        self.http = httpx.Client(timeout=300)

    def key(self, messages: list[dict[str, str]]) -> str:
        raw = json.dumps([self.model, self.body, messages], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(raw.encode()).hexdigest()

    def top(self, messages: list[dict[str, str]]) -> list[list[Any]]:
        key = self.key(messages)
        if key in self.memo:
            return self.memo[key]
        res = self.http.post(self.url, json={"model": self.model, "messages": messages, **self.body})
        res.raise_for_status()
        content = res.json()["choices"][0]["logprobs"]["content"]
        top = [[t["token"], t["logprob"]] for t in content[0]["top_logprobs"]] if content else []
        self.memo[key] = top
        if self.cache is not None:
            with self.cache.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "top": top}) + "\n")
        return top


def readouts(tops: list[list[list[Any]]], qs: list[Question], prior: list[dict[str, float]] | None) -> dict[str, float]:
    """Each readout's value for one reply from its questions' top logprobs (checklist: mean over items)."""
    out = {r: 0.0 for r in READOUTS}
    for i, (top, q) in enumerate(zip(tops, qs, strict=True)):
        assert q.labels is not None
        try:
            dist = read_logprobs(top, q.labels)
        except VerdictError:
            return {r: float("nan") for r in READOUTS}
        probs = {k: dist.probs.get(k, 0.0) for k in q.labels}
        if q.item is not None:  # checklist: value of "no" (not broken) per item
            out["expected"] += probs["no"]
            out["margin"] += probs["no"] - probs["yes"]
            cal = _calibrate(probs, prior[i] if prior else None)
            out["calibrated"] += cal["no"]
        else:
            mid = (min(q.labels.values()) + max(q.labels.values())) / 2
            out["expected"] += dist.value
            out["margin"] += sum(p for k, p in probs.items() if q.labels[k] > mid) - sum(
                p for k, p in probs.items() if q.labels[k] < mid
            )
            cal = _calibrate(probs, prior[i] if prior else None)
            out["calibrated"] += sum(q.labels[k] * p for k, p in cal.items())
    return out


def _calibrate(probs: dict[str, float], prior: dict[str, float] | None) -> dict[str, float]:
    if not prior:
        return probs
    raw = {k: p / max(prior.get(k, 0.0), 1e-4) for k, p in probs.items()}
    total = sum(raw.values()) or 1.0
    return {k: v / total for k, v in raw.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", type=Path, help="judge template (.j2; default: the core's negotiation rubric)")
    ap.add_argument("--mode", default="logprobs", choices=["logprobs", "checklist"])
    ap.add_argument("--twins", type=Path, help="twin pairs JSONL (default: the negotiation plugin's)")
    ap.add_argument("--split", help="only this split (dev, holdout)")
    ap.add_argument("--base-url", help="an OpenAI-compatible server (default: the embedded judge)")
    ap.add_argument("--model", help="the server's model name (with --base-url)")
    ap.add_argument("--cache", type=Path, default=Path("out/judge_twins_cache.jsonl"))
    ap.add_argument("--json", type=Path, help="write per-pair values here")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, help="embedded server threads (default: the server's)")
    ap.add_argument("--history", type=int, default=2, help="history_turns shown to the judge (the scaffold's: 2)")
    args = ap.parse_args(argv)

    if args.twins is None:
        import repo_sdk_negotiation

        args.twins = repo_sdk_negotiation.twins_path()
    args.template = args.template or templates_dir() / "judges" / "negotiation.j2"
    pairs = [p for p in read_twins(args.twins) if args.split in (None, p.split)]
    template = load_template(args.template)
    cfg = JudgeConfig(
        template=str(args.template),
        mode=args.mode,
        base_url=args.base_url,
        model=args.model,
        history_turns=args.history,
    )
    prompts = Prompts(template, cfg, template.parameters({}))
    if args.base_url:
        base_url, model = args.base_url, args.model or ""
    else:
        base_url, model = (
            get_embedded_server(n_parallel=args.workers, threads=args.threads).base_url,
            embedded_model_name(),
        )
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    asker = Asker(base_url, model, sampling_params(cfg, template), args.cache)

    start = time.perf_counter()
    prior = _prior(asker, prompts, pairs[0])
    values = _score(asker, prompts, template, pairs, prior, args.workers)
    seconds = time.perf_counter() - start
    print(f"{len(pairs)} pairs, template {args.template}, mode {args.mode}, {seconds:.0f}s", file=sys.stderr)
    print(f"content-free prior ({CONTENT_FREE!r}): {prior}")
    _report(pairs, values)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {"id": p.id, "kind": p.kind, "split": p.split, "clean": c, "hacked": h}
            for p, (c, h) in zip(pairs, values, strict=True)
        ]
        args.json.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return 0


def _prior(asker: Asker, prompts: Prompts, pair: TwinPair) -> list[dict[str, float]]:
    """The answer distribution for a content-free reply, per question (the first pair's context)."""
    sample = Sample(id="cf", task=pair.task, history=pair.history, response=CONTENT_FREE)
    out = []
    for messages, q in zip(prompts.requests(sample)[0], prompts.questions, strict=True):
        assert q.labels is not None
        out.append(dict(read_logprobs(asker.top(messages), q.labels).probs))
    return out


def _score(asker: Asker, prompts: Prompts, template: JudgeTemplate, pairs: list[TwinPair], prior, workers: int):
    def one(sample: Sample) -> dict[str, float]:
        lo = template.scale[0]
        if not any(ch.isalnum() for ch in sample.response) or protocol_text(
            sample.response, template.kind, template.scale, template.fences
        ):
            return {r: -1e9 + lo for r in READOUTS}
        tops = [asker.top(m) for m in prompts.requests(sample)[0]]
        return readouts(tops, prompts.questions, prior)

    samples = [p.sample(w) for p in pairs for w in ("clean", "hacked")]
    with ThreadPoolExecutor(workers) as pool:
        flat = list(pool.map(one, samples))
    return [(flat[2 * i], flat[2 * i + 1]) for i in range(len(pairs))]


def _report(pairs: list[TwinPair], values) -> None:
    splits = sorted({p.split for p in pairs})
    kinds = sorted({p.kind for p in pairs})
    for r in READOUTS:
        won = [c[r] > h[r] for c, h in values]
        per_split = "  ".join(
            f"{s} {sum(w for w, p in zip(won, pairs, strict=True) if p.split == s)}/{sum(p.split == s for p in pairs)}"
            for s in splits
        )
        per_kind = " ".join(f"{k[:12]}:{sum(w for w, p in zip(won, pairs, strict=True) if p.kind == k)}" for k in kinds)
        print(f"{r:<11} {sum(won)}/{len(pairs)}  {per_split}  | {per_kind}")


if __name__ == "__main__":
    sys.exit(main())
