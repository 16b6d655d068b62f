"""``repo-sdk score --engine ray``: a scoring run spread over a Ray cluster, block by block.

The driver (this process) plans the input's blocks (:mod:`repo_sdk.shards.plan`), opens
the work folder (:mod:`repo_sdk.shards.store`) and hands Ray Data the blocks not yet
finished. A read task adds each block's bytes; a fixed pool of actors, each with the
pipeline built once (on GPUs with ``actor_gpus``), scores them and writes one Parquet
shard per block; the driver lists each finished block in the manifest as its answer
comes back, in any order. At the end the outputs are assembled from the shards in input
order and written atomically, as a one-process run writes them (the same rows, the same
dialogue rows, skipped list and summary), and the work folder goes.

Resources are sized so that the pipeline cannot starve its own readers: actors take a
fraction of a CPU each, leaving a quarter of the cluster's CPUs (at most one) to the read
tasks (:func:`sizing`); a resumed run simply leaves finished blocks out of the plan, so no
filter task holds a CPU either.

Example:
    >>> sizing({"CPU": 2.0}, actors=2, actor_gpus=0.0, rules_only=True)
    (2, 0.75, 0.25)
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from repo_sdk.config import InputSpec
from repo_sdk.errors import InputError, RunError, require
from repo_sdk.io.fastjson import loads
from repo_sdk.io.readers import input_kind
from repo_sdk.pipeline import RewardPipeline
from repo_sdk.score_run import ProgressMode, ScoreSummary, fingerprint, nothing_read, progress_bar, write_outputs
from repo_sdk.shards.plan import Block, plan_blocks
from repo_sdk.shards.ray_actor import BlockScorer, merge_telemetry, read_payloads
from repo_sdk.shards.ray_session import INSTALL, connected, quiet_data_context
from repo_sdk.shards.store import ShardStore, shards_path
from repo_sdk.workers import runs_rules_only

__all__ = ["RayOptions", "builds_elsewhere", "score_file_ray", "sizing"]


@dataclass
class RayOptions:
    """Where and how wide: the cluster (None: ``RAY_ADDRESS``, else a new local Ray), the actors, GPUs
    per actor, records per block."""

    address: str | None = None
    actors: int | None = None
    actor_gpus: float = 0.0
    block_records: int = 500


def builds_elsewhere(source_cls: type, config: Any = None) -> bool:
    """Whether the driver leaves a source to the actors: an RM loaded in the process and any plugin
    source of another kind (a model, say), so nothing is loaded where nothing is scored. Rules, judges
    (built lazily) and a remote RM (its server probed here, as one process does) are built here.

    Example:
        >>> from repo_sdk.rm.source import RMConfig, RMSource
        >>> builds_elsewhere(RMSource, RMConfig(path="rm")), builds_elsewhere(RMSource, RMConfig(base_url="http://h/v1"))
        (True, False)
    """
    kind = getattr(source_cls, "kind", "other")
    if kind == "rm" and getattr(config, "base_url", None):
        return False
    return kind not in ("rules", "judge")


def sizing(
    cluster: dict[str, float], actors: int | None, actor_gpus: float, rules_only: bool, blocks: int | None = None
) -> tuple[int, float, float]:
    """``(actors, CPUs per actor, CPUs per read task)`` for a cluster's resources.

    Default actors: one per CPU when only rules run, one per ``actor_gpus`` share of the GPUs, else one
    (a model or an embedded judge is loaded once per actor); never more than the ``blocks`` to score.

    Raises:
        RunError: the cluster has too few GPUs for ``actors`` x ``actor_gpus``.
    """
    cpus, gpus = cluster.get("CPU", 0.0), cluster.get("GPU", 0.0)
    if actors is None:
        actors = max(1, int(gpus // actor_gpus)) if actor_gpus else (max(1, int(cpus)) if rules_only else 1)
    actors = min(actors, blocks) if blocks else actors
    if actor_gpus and actors * actor_gpus > gpus + 1e-9:
        raise RunError(
            f"--actors {actors} with --actor-gpus {actor_gpus:g} needs {actors * actor_gpus:g} GPUs; "
            f"the Ray cluster has {gpus:g}"
        )
    reserve = min(1.0, cpus / 4)  # for the read tasks: actors that take every CPU hang the pipeline
    actor_cpus = math.floor(min(1.0, (cpus - reserve) / actors) * 1e4) / 1e4  # Ray counts in 1/10,000s
    return actors, actor_cpus, math.floor(min(0.25, reserve / 2) * 1e4) / 1e4


def score_file_ray(
    pipeline: RewardPipeline,
    input_path: str | Path,
    output: str | Path,
    *,
    mapping: InputSpec | None = None,
    resume: bool = False,
    on_error: Literal["fail", "skip"] = "fail",
    progress: ProgressMode = True,
    batch_size: int | None = None,
    options: RayOptions | None = None,
) -> ScoreSummary:
    """:func:`repo_sdk.score_run.score_file` on a Ray cluster: the same outputs, written in the same places.

    ``pipeline`` must come from ``RewardPipeline.from_spec`` (the actors rebuild it with
    :meth:`~repo_sdk.pipeline.RewardPipeline.factory`); built with ``defer=builds_elsewhere``, it loads no model.

    Raises:
        InputError: as ``score_file`` (the first bad record or source error in input order with
            ``on_error="fail"``; an empty input; a resume whose spec or scored records changed).
        RunError: the cluster cannot be reached or lacks the GPUs asked for; an actor cannot build the spec.
        MissingDependencyError: Ray is not installed.
    """
    require("ray.data", INSTALL, "--engine ray")  # before any work
    started = time.perf_counter()
    src, out, opts = Path(input_path), Path(output), options or RayOptions()
    folder = shards_path(out)
    recorded = ShardStore.recorded(folder) if resume else None
    size = int(recorded.get("block_records", opts.block_records)) if recorded else opts.block_records
    plan = plan_blocks(src, size)
    header = {"fingerprint": fingerprint(pipeline), "block_records": size, "input": input_kind(src)}
    store = ShardStore.open(folder, header, plan, resume=resume, source=src)
    resumed = list(store.finished.values())
    todo = [b for b in plan if b.index not in store.finished]
    scorer = {"factory": pipeline.factory(), "source": str(src), "folder": str(folder), "mapping": mapping}
    scorer.update(on_error=on_error, batch_size=batch_size)
    telemetry: dict[str, dict[str, dict[str, float]]] = {}
    engine = "ray: nothing left to score"
    timings = {"plan": time.perf_counter() - started}
    try:
        with progress_bar(progress, sum(b.records for b in plan)) as advance:
            advance(sum(e["records"] for e in resumed), sum(e["turns"] for e in resumed))
            if todo:
                rules_only = runs_rules_only(pipeline)
                engine = _score_on_ray(todo, store, scorer, opts, rules_only, telemetry, timings, advance)
    except BaseException as exc:
        raise _keep_for_resume(exc, store, len(plan)) from None
    scored = [e for b in todo if (e := store.finished.get(b.index))]
    timings["actors busy"] = sum(e.get("seconds", 0.0) for e in scored)
    timings["actors cpu"] = sum(e.get("cpu_seconds", 0.0) for e in scored)
    finished = sorted(store.finished.values(), key=lambda e: e["block"])
    first_skip = next((e["first_skip"] for e in finished if e["first_skip"]), "")
    error = nothing_read(src, sum(e["dialogues"] for e in finished), sum(e["skipped"] for e in finished), first_skip)
    if error is not None:
        store.remove()
        raise error
    assembling, cpu = time.perf_counter(), time.process_time()
    summary = write_outputs(store.lines, out)
    store.remove()
    timings["assemble"] = time.perf_counter() - assembling
    timings["assemble cpu"] = time.process_time() - cpu
    summary.timings = {k: round(v, 2) for k, v in timings.items()}
    summary.engine = f"{engine}, {_count(len(plan), 'block')} of {size} records"
    summary.resumed_blocks = len(resumed)
    summary.telemetry = merge_telemetry(telemetry.values())
    return summary


def _score_on_ray(
    todo: list[Block],
    store: ShardStore,
    scorer: dict,
    opts: RayOptions,
    rules_only: bool,
    telemetry: dict,
    timings: dict[str, float],
    advance: Any,
) -> str:
    """Score the blocks ``todo`` on the cluster into ``store``; returns how the work was spread."""
    start = time.perf_counter()
    with connected(opts.address) as ray, quiet_data_context(ray):
        timings["connect"] = time.perf_counter() - start
        resources = ray.cluster_resources()
        actors, actor_cpus, read_cpus = sizing(resources, opts.actors, opts.actor_gpus, rules_only, len(todo))
        ds = ray.data.from_items([b.as_dict() for b in todo], override_num_blocks=len(todo))
        ds = ds.map_batches(
            read_payloads, batch_size=1, batch_format="pyarrow", num_cpus=read_cpus,
            fn_kwargs={"source": scorer["source"]},
        )  # fmt: skip
        ds = ds.map_batches(
            BlockScorer, batch_size=1, batch_format="pyarrow", num_cpus=actor_cpus,
            num_gpus=opts.actor_gpus or None, fn_constructor_kwargs=scorer,
            compute=ray.data.ActorPoolStrategy(size=actors),
        )  # fmt: skip
        _collect(ds.iter_rows(), store, todo, telemetry, advance, timings)
        timings["score"] = time.perf_counter() - start - timings["connect"]
        timings["first block"] -= start + timings["connect"]
    gpus = f" + {opts.actor_gpus:g} GPU" if opts.actor_gpus else ""
    return f"ray: {_count(actors, 'actor')} x {actor_cpus:g} CPU{gpus}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def _collect(rows: Any, store: ShardStore, todo: list[Block], telemetry: dict, advance: Any, timings: dict) -> None:
    """List each finished block as its answer comes; on a failure, stop once every block before it is in,
    and raise the first failure in input order (what a one-process run stops at)."""
    pending = {b.index for b in todo}
    failures: dict[int, str] = {}
    iterator = iter(rows)
    try:
        for row in _ray_errors_as_one_line(iterator):
            answer = loads(row["result"])
            timings.setdefault("first block", time.perf_counter())  # the actors' start-up, mostly
            if "error" in answer:
                raise RunError(answer["error"])
            entry = answer["entry"]
            pending.discard(entry["block"])
            telemetry[answer["actor"]] = answer["telemetry"]
            if answer["failure"] is not None:
                failures[entry["block"]] = answer["failure"]
            else:
                store.record(entry)
                advance(entry["records"], entry["turns"])
            if failures and not any(index < min(failures) for index in pending):
                break
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # stops the pipeline when we leave early
    if failures:
        raise InputError(failures[min(failures)])


def _ray_errors_as_one_line(rows: Iterator[Any]) -> Iterator[Any]:
    """Ray's own failures (an actor killed, a node lost past its retries) as a RunError of one line."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc
            text = next((line.strip() for line in str(cause).splitlines() if line.strip()), "")
            raise RunError(f"the Ray pipeline failed: {type(cause).__name__}: {text}") from None
        yield row


def _keep_for_resume(exc: BaseException, store: ShardStore, blocks: int) -> BaseException:
    """A failed run keeps its work folder when blocks are finished, so ``--resume`` goes on after the fix."""
    if not store.finished:
        store.remove()
        return exc
    store.close()
    kept = f"{len(store.finished)} of {blocks} blocks are scored and kept: fix this and rerun with --resume"
    if isinstance(exc, InputError | RunError):
        return type(exc)(f"{exc} ({kept})")
    return exc
