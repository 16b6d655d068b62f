"""The steps a pipeline scores with: sources over a batch, dialogue-level scores, the combine.

No step lets one bad item spoil the batch: a source that raises on a batch has it re-scored item
by item, so a bad sample (or dialogue) loses its own score alone (a :func:`source_error` score:
None, the error as reason and in ``details["error"]``). :func:`run_sync` runs a scoring coroutine
from synchronous code, whether or not an event loop already runs in this thread.

Example:
    >>> from repo_sdk.interfaces import RewardSource
    >>> from repo_sdk.testing import make_dialogue
    >>> class Strict(RewardSource):
    ...     name = "strict"
    ...     def score(self, samples):
    ...         return [SourceScore(value=0.0) for _ in samples]
    ...     def score_dialogue(self, dialogue):
    ...         if len(dialogue.turns) > 2:
    ...             raise ValueError("too long")
    ...         return SourceScore(value=1.0)
    >>> short = make_dialogue([("user", "Hi"), ("assistant", "Hello")])
    >>> long = make_dialogue([("user", "Hi"), ("assistant", "Hello"), ("user", "Bye")])
    >>> [s.value if s else None for s in dialogue_scores_isolated("strict", Strict(), [short, long])]
    [1.0, None]
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from repo_sdk.interfaces import Combiner, RewardSource
from repo_sdk.types import Dialogue, RewardResult, RuleHit, Sample, SourceScore, assemble

__all__ = [
    "ascore_dialogues_of",
    "combine_results",
    "dialogue_scores_isolated",
    "gives_dialogue_scores",
    "hits_of",
    "run_sync",
    "score_isolated",
    "score_dialogues_of",
    "score_isolated_sync",
    "source_error",
]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from synchronous code, whether or not an event loop runs here.

    With no loop in this thread it runs on a new one (``asyncio.run``); inside a running loop
    (a notebook, an async server) it runs on a new loop in a worker thread, and this thread
    waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="repo-sdk-score") as pool:
        return pool.submit(asyncio.run, coro).result()


def source_error(name: str, exc: Exception) -> SourceScore:
    """The score of a sample its source raised on: None, the error as the reason and in ``details["error"]``.

    Example:
        >>> source_error("rules", ValueError("bad price '120 EUR'")).reason
        "rules failed on this sample: ValueError: bad price '120 EUR'"
    """
    error = f"{type(exc).__name__}: {exc}"
    return SourceScore(value=None, reason=f"{name} failed on this sample: {error}", details={"error": error})


async def score_isolated(name: str, source: RewardSource, samples: list[Sample]) -> list[SourceScore]:
    """One source on a batch; if it raises, each sample on its own, so a bad sample loses only its own score.

    The samples the source still raises on alone get :func:`source_error` scores.
    """
    try:
        return list(await source.ascore(samples))
    except Exception as exc:
        if len(samples) == 1:
            return [source_error(name, exc)]
    alone = await asyncio.gather(*(score_isolated(name, source, [s]) for s in samples))
    return [score for scores in alone for score in scores]


def score_isolated_sync(name: str, source: RewardSource, samples: list[Sample]) -> list[SourceScore]:
    """:func:`score_isolated` for a sync source called directly (no event loop): the same per-sample errors.

    Example:
        >>> from repo_sdk.testing import make_sample
        >>> class Picky(RewardSource):
        ...     name = "picky"
        ...     def score(self, samples):
        ...         if any(s.response == "boom" for s in samples):
        ...             raise ValueError("boom")
        ...         return [SourceScore(value=1.0) for _ in samples]
        >>> [s.value for s in score_isolated_sync("p", Picky(), [make_sample(response=r) for r in ("a", "boom")])]
        [1.0, None]
    """
    try:
        return list(source.score(samples))
    except Exception as exc:
        if len(samples) == 1:
            return [source_error(name, exc)]
    return [score for s in samples for score in score_isolated_sync(name, source, [s])]


def gives_dialogue_scores(source: RewardSource) -> bool:
    """Whether a source scores whole dialogues (it overrides ``score_dialogue``; the default gives none)."""
    return type(source).score_dialogue is not RewardSource.score_dialogue


def dialogue_scores_isolated(
    name: str, source: RewardSource, dialogues: Sequence[Dialogue]
) -> list[SourceScore | None]:
    """A source's dialogue-level score of each dialogue (None: it gives none for that one); a dialogue it
    raises on gets a :func:`source_error` score, and the others keep theirs."""
    out: list[SourceScore | None] = []
    for dialogue in dialogues:
        try:
            out.append(source.score_dialogue(dialogue))
        except Exception as exc:  # one bad dialogue costs its own dialogue score, not the batch
            out.append(source_error(name, exc))
    return out


async def ascore_dialogues_of(
    sources: Mapping[str, RewardSource], dialogues: Sequence[Dialogue]
) -> list[dict[str, SourceScore]]:
    """Each dialogue's scores by source name, from the sources that give dialogue scores: concurrently,
    each over the whole batch in a worker thread (:meth:`repo_sdk.RewardPipeline.ascore_dialogues`)."""
    dialogues = list(dialogues)
    scorers = [(name, src) for name, src in sources.items() if gives_dialogue_scores(src)]
    outputs = await asyncio.gather(
        *(asyncio.to_thread(dialogue_scores_isolated, name, src, dialogues) for name, src in scorers)
    )
    return _per_dialogue(len(dialogues), [name for name, _ in scorers], outputs)


def score_dialogues_of(
    sources: Mapping[str, RewardSource], dialogues: Sequence[Dialogue]
) -> list[dict[str, SourceScore]]:
    """:func:`ascore_dialogues_of`, synchronously: the sources one after the other, in this thread."""
    dialogues = list(dialogues)
    scorers = [(name, src) for name, src in sources.items() if gives_dialogue_scores(src)]
    outputs = [dialogue_scores_isolated(name, src, dialogues) for name, src in scorers]
    return _per_dialogue(len(dialogues), [name for name, _ in scorers], outputs)


def _per_dialogue(
    n: int, names: list[str], outputs: Sequence[list[SourceScore | None]]
) -> list[dict[str, SourceScore]]:
    per: list[dict[str, SourceScore]] = [{} for _ in range(n)]
    for name, scores in zip(names, outputs, strict=True):
        for scored, score in zip(per, scores, strict=True):
            if score is not None:
                scored[name] = score
    return per


def hits_of(score: SourceScore) -> list[RuleHit]:
    """Rule hits a source reported in ``details["hits"]`` (RuleHit objects or dicts)."""
    return [h if isinstance(h, RuleHit) else RuleHit.model_validate(h) for h in score.details.get("hits", [])]


def combine_results(
    combiner: Combiner, names: Sequence[str], samples: Sequence[Sample], outputs: Sequence[Sequence[SourceScore]]
) -> list[RewardResult]:
    """The results of a batch from each source's scores (sources named ``names``, in that order)."""
    samples = list(samples)
    scores: dict[str, list[SourceScore]] = {}
    for name, out in zip(names, outputs, strict=True):
        if len(out) != len(samples):
            raise RuntimeError(f"source {name!r} returned {len(out)} scores for {len(samples)} samples")
        scores[name] = list(out)
    combined = combiner.combine(samples, scores)
    results = []
    for i, comb in enumerate(combined):
        per_source = {name: scores[name][i] for name in scores}
        fired = [  # hits_of(score), inline: a call per source and sample
            h if isinstance(h, RuleHit) else RuleHit.model_validate(h)
            for score in per_source.values()
            for h in score.details.get("hits", ())
        ]
        values = {"reward": comb.reward, "sources": per_source, "fired": fired, "details": comb.details}
        if (
            (comb.reward is None or type(comb.reward) is float)
            and type(comb.details) is dict
            and all(type(score) is SourceScore for score in per_source.values())
        ):
            results.append(assemble(RewardResult, values, _RESULT_FIELDS))  # (its parts are validated models)
        else:  # a combiner's numpy number, a source's look-alike of a score: validated (or refused) as before
            results.append(RewardResult.model_validate(values))
    return results


_RESULT_FIELDS = frozenset(RewardResult.model_fields)
