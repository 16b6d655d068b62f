"""JSON Schema of reward specs, assembled from the registered plugins' config models.

Example:
    >>> s = spec_json_schema()
    >>> "rules" in [v["properties"]["type"]["const"] for v in s["$defs"]["Source"]["oneOf"]]
    True
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


def spec_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The spec's schema with ``sources`` and ``combiner`` as unions over registered plugins."""
    registry = registry or get_registry()
    base = RewardSpec.model_json_schema()
    defs = base.setdefault("$defs", {})
    sources = [_variant(n, r.obj.Config) for n, r in sorted(registry.sources.items())]
    combiners = [_variant(n, r.obj.Config) for n, r in sorted(registry.combiners.items())]
    for variants in (sources, combiners):
        for v in variants:
            defs.update(v.pop("$defs", {}))
    defs["Source"] = {"oneOf": sources}
    defs["Combiner"] = {"oneOf": combiners}
    base["properties"]["sources"] = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"anyOf": [{"$ref": "#/$defs/Source"}, {"type": "array"}, {"type": "string"}]},
    }
    base["properties"]["combiner"] = {"anyOf": [{"$ref": "#/$defs/Combiner"}, {"type": "string"}]}
    defs.pop("SourceSpec", None)
    defs.pop("CombinerSpec", None)
    base["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return base
