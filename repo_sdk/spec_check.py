"""What `repo-sdk validate` checks beyond the keys, still without loading a model or starting a judge.

:func:`repo_sdk.config.load_spec` validates every key and plugin parameter.
:func:`check_spec` then checks what a run would otherwise find only when it starts,
or never:

- the combiner's references to sources (a gate naming a source that does not exist),
  by binding the combiner to placeholders of the sources;
- the environment variables the spec names (``api_key_env``, any ``*_env`` key);
- each judge template: the file exists, it compiles, the sandbox lets it render, and
  it renders against a sample (the first records of ``--sample LOGS``, else a
  built-in example, where a failure is only a warning: the example may lack task
  fields your logs have);
- each reward model folder (and calibration file) exists and holds a one-label model config; a
  remote RM's tokenizer folder exists;
- the ``train:`` section, and the dataset or model files it names.

Every finding names the spec file, the line and the key path.

Example:
    >>> from repo_sdk.config import load
    >>> loaded = load({"sources": {"r": ["cot_leak"]}, "combiner": {"type": "repo", "judge": "j"}})
    >>> [f.text() for f in check_spec(loaded)]
    ["<spec>: combiner.judge: 'j' is not a source (sources: ['r'])"]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from repo_sdk.config import LoadedSpec
from repo_sdk.errors import RepoSdkError, SpecError, problem_line
from repo_sdk.interfaces import BuildContext
from repo_sdk.plugin_config import validate_config
from repo_sdk.plugins import Registry, get_registry
from repo_sdk.types import Sample

__all__ = ["Finding", "check_spec", "example_samples"]


@dataclass(frozen=True)
class Finding:
    """One problem: where (``spec.yaml:12``), the key path, the message; a warning does not fail validate."""

    where: str
    loc: tuple[Any, ...]
    message: str
    warning: bool = False

    def text(self) -> str:
        return problem_line(self.where, self.loc, self.message)


def check_spec(
    loaded: LoadedSpec, *, registry: Registry | None = None, samples: list[Sample] | None = None
) -> list[Finding]:
    """Every problem :func:`load_spec` cannot see (see the module docs); an empty list when all is well.

    Args:
        loaded: a spec that passed :func:`repo_sdk.config.load_spec`.
        registry: the plugin registry (default: the process's).
        samples: samples to render the judge templates against (None: the built-in example, warnings only).
    """
    registry = registry or get_registry()
    out: list[Finding] = []

    def add(loc: tuple[Any, ...], message: str, warning: bool = False) -> None:
        out.append(Finding(loaded.where(loc), loc, message, warning))

    _check_combiner(loaded, registry, add)
    for loc, env in _env_keys(loaded):
        if not os.environ.get(env):
            add(loc, f"environment variable {env!r} is not set")
    context = BuildContext(registry=registry, base_dir=loaded.base_dir)
    for name, config in loaded.source_configs.items():
        kind = registry.get("sources", loaded.spec.sources[name].type).kind
        if kind == "judge" and hasattr(config, "template"):
            _check_judge(("sources", name), config, context, samples, add)
        elif kind == "rm" and hasattr(config, "path"):
            _check_rm(("sources", name), config, context, add)
    if loaded.spec.train is not None:
        _check_train(loaded, registry, add)
    return out


def example_samples() -> list[Sample]:
    """The last assistant turn of the scaffold's first example dialogue: what templates render against."""
    from repo_sdk.io.readers import read_dialogues
    from repo_sdk.templates_builtin import templates_dir

    dialogue = read_dialogues(templates_dir() / "init" / "dialogues.jsonl")[0]
    return dialogue.samples()[-1:]


def _check_combiner(loaded: LoadedSpec, registry: Registry, add: Any) -> None:
    from repo_sdk.pipeline import RewardPipeline

    try:  # every source as a placeholder (nothing loads), so bind() checks the combiner's names and roles
        RewardPipeline.from_spec(loaded, only=[], registry=registry).close()
    except SpecError as exc:
        for loc, message in exc.problems:
            add(loc, message)
    except RepoSdkError as exc:
        add(("combiner",), str(exc))
    watched = getattr(loaded.combiner_config, "rules", None)  # a gate fires on these rules' hits
    if isinstance(watched, list):
        used = {ref.name for c in loaded.source_configs.values() for ref in getattr(c, "rules", None) or []}
        for i, rule in enumerate(watched):
            if rule not in used:
                add(("combiner", "rules", i), f"{rule!r} is not a rule of any rules source, so it never fires "
                    f"(rules in the spec: {sorted(used)})")  # fmt: skip


def _env_keys(loaded: LoadedSpec) -> list[tuple[tuple[Any, ...], str]]:
    """``(key path, variable)`` for every ``*_env`` key of a source or the combiner that names one."""
    configs: list[tuple[tuple[str, ...], BaseModel]] = [(("sources", n), c) for n, c in loaded.source_configs.items()]
    configs.append((("combiner",), loaded.combiner_config))
    out = []
    for loc, config in configs:
        for key, value in config:
            if key.endswith("_env") and isinstance(value, str):
                out.append(((*loc, key), value))
    return out


def _check_judge(
    loc: tuple[Any, ...], config: Any, context: BuildContext, samples: list[Sample] | None, add: Any
) -> None:
    from repo_sdk.judge.prompts import NoReference, Prompts
    from repo_sdk.judge.resolve import resolve_template
    from repo_sdk.judge.templates import TemplateError

    try:  # resolves a path against the spec's folder, compiles, and renders once in the sandbox
        template = resolve_template(config.template, context)
        params = template.parameters(config.params)
        template.probe(config.params)
    except TemplateError as exc:
        add((*loc, "template"), str(exc).removeprefix("template: "))
        return
    example = samples is None
    key = config.pairwise.reference_key
    for sample in samples if samples is not None else example_samples():
        if template.kind == "pairwise" and example:
            sample = sample.model_copy(update={"metadata": {**sample.metadata, key: sample.response}})
        try:
            Prompts(template, config, params).requests(sample)
        except (TemplateError, NoReference) as exc:
            hint = "the built-in example; render one of yours with --sample LOGS" if example else f"sample {sample.id}"
            add((*loc, "template"), f"{exc} (rendering {hint})", warning=example)
            return


def _check_rm(loc: tuple[Any, ...], config: Any, context: BuildContext, add: Any) -> None:
    if config.path is None:  # a remote RM: the server is probed when the source is built, not here
        tokenizer = context.resolve(config.tokenizer) if getattr(config, "tokenizer", None) else None
        if tokenizer is not None and not tokenizer.is_dir():
            add((*loc, "tokenizer"), f"no tokenizer folder at {str(tokenizer)!r}")
    else:
        _check_rm_folder(loc, context.resolve(config.path), add)
    normalize = config.normalize
    file = getattr(
        normalize, "file", normalize if isinstance(normalize, str) and normalize not in ("none", "sigmoid") else None
    )
    if file is not None and not context.resolve(file).is_file():
        add((*loc, "normalize"), f"no calibration file at {str(context.resolve(file))!r}")


def _check_rm_folder(loc: tuple[Any, ...], path: Path, add: Any) -> None:
    if not path.is_dir():
        add((*loc, "path"), f"no reward model folder at {str(path)!r}")
        return
    try:
        model = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        add((*loc, "path"), f"{path} holds no readable model config.json ({exc})")
        return
    labels = model.get("num_labels") or len(model.get("id2label") or {0: ""})
    if labels != 1:
        add((*loc, "path"), f"{path} is a {labels}-label model; a reward model has one label")


def _check_train(loaded: LoadedSpec, registry: Registry, add: Any) -> None:
    from repo_sdk.train_spec import TrainSpec

    try:
        train = validate_config(TrainSpec, loaded.spec.train or {}, registry, ("train",))
    except SpecError as exc:
        for loc, message in exc.problems:
            add(loc, message)
        return
    base = loaded.base_dir
    if train.dataset != "default" and not (base / train.dataset).expanduser().is_file():
        add(("train", "dataset"), f"no prompt file at {str(base / train.dataset)!r}")
    model = Path(train.model).expanduser()
    looks_local = train.model.endswith(".gguf") or train.model.startswith((".", "/", "~")) or len(model.parts) > 2
    if train.model not in ("default", "tiny") and looks_local and not (base / model).exists():
        add(("train", "model"), f"no model at {str(base / model)!r} (a hub id has the form org/name)")
