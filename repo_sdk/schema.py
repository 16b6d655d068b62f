"""JSON Schema of reward specs, assembled from the registered plugins' config models.

Rules get a schema each (``$defs.Rule``: a name, or ``{name, points, ...params}``
with the rule's own parameters), used by the ``rules`` source and by the list
shorthand of a source, so an editor completes and checks rule parameters too.

Example:
    >>> s = spec_json_schema()
    >>> "rules" in [v["properties"]["type"]["const"] for v in s["$defs"]["Source"]["oneOf"]]
    True
    >>> max_length = next(r for r in s["$defs"]["Rule"]["oneOf"] if r.get("title") == "max_length")
    >>> sorted(max_length["properties"])[:3], max_length["additionalProperties"]
    (['max_chars', 'max_hits', 'max_sentences'], False)
"""

from __future__ import annotations

from typing import Any

from repo_sdk.config import RewardSpec
from repo_sdk.plugins import Registry, get_registry

__all__ = ["spec_json_schema"]


def _variant(name: str, model: Any) -> dict[str, Any]:
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    schema.setdefault("properties", {})
    schema["properties"] = {"type": {"const": name}, **schema["properties"]}
    schema["required"] = ["type", *schema.get("required", [])]
    schema["title"] = name
    if defs:
        schema["$defs"] = defs
    return schema


def _rule_variant(name: str, rule: Any) -> dict[str, Any]:
    schema = rule.Config.model_json_schema()
    points = {"type": ["number", "null"], "description": f"points per hit (default {rule.default_points:g})"}
    max_hits = {
        "type": ["integer", "null"],
        "minimum": 1,
        "description": "at most this many hits per reply (per turn for a dialogue rule); caps the penalty",
    }
    properties = {"name": {"const": name}, "points": points, "max_hits": max_hits, **schema.get("properties", {})}
    out: dict[str, Any] = {
        "type": "object",
        "title": name,
        "properties": properties,
        "required": ["name", *schema.get("required", [])],
        "additionalProperties": rule.Config.model_config.get("extra") != "forbid",
    }
    if rule.description:
        out["description"] = rule.description
    if "$defs" in schema:
        out["$defs"] = schema["$defs"]
    return out


def spec_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The spec's schema with ``sources`` and ``combiner`` as unions over registered plugins."""
    registry = registry or get_registry()
    base = RewardSpec.model_json_schema()
    defs = base.setdefault("$defs", {})
    sources = [_variant(n, r.obj.Config) for n, r in sorted(registry.sources.items())]
    combiners = [_variant(n, r.obj.Config) for n, r in sorted(registry.combiners.items())]
    rules = [_rule_variant(n, r.obj) for n, r in sorted(registry.rules.items())]
    for variants in (sources, combiners, rules):
        for v in variants:
            defs.update(v.pop("$defs", {}))
    for variant in sources:
        if variant["title"] == "rules":
            variant["properties"]["rules"]["items"] = {"$ref": "#/$defs/Rule"}
    defs.pop("RuleRef", None)
    defs["Source"] = {"oneOf": sources}
    defs["Combiner"] = {"oneOf": combiners}
    defs["Rule"] = {"oneOf": [{"type": "string", "enum": sorted(registry.rules)}, *rules]}
    base["properties"]["sources"] = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "anyOf": [
                {"$ref": "#/$defs/Source"},
                {"type": "array", "items": {"$ref": "#/$defs/Rule"}, "minItems": 1},
                {"type": "string"},
            ]
        },
    }
    base["properties"]["combiner"] = {"anyOf": [{"$ref": "#/$defs/Combiner"}, {"type": "string"}]}
    defs.pop("SourceSpec", None)
    defs.pop("CombinerSpec", None)
    base["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return base
