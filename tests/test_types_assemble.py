"""``repo_sdk.types.assemble`` in C (``repo_sdk/fastmodel.c``) makes the models the Python function makes.

Rows with and without the C parts are compared end to end in ``tests/rules/test_rules_speedups.py``
(``REPO_SDK_PURE_PYTHON``); here each kind of model the hot path assembles is compared field by field,
with what pydantic does to them afterwards: equality, dumps, copies with updates, pickling, private
attributes, a frozen model refusing a change.
"""

from __future__ import annotations

import os
import pickle

import pytest
from pydantic import BaseModel, ValidationError

from repo_sdk import types
from repo_sdk.types import RewardResult, RuleHit, Sample, SourceScore, Turn

IN_C = types._IN_C  # (the module's own switch, read by its own test)
needs_c = pytest.mark.skipif(IN_C is None, reason="repo_sdk/fastmodel.c is not built or ignored (REPO_SDK_PURE_PYTHON)")
in_python = types.__test__["assemble"]


def test_the_c_part_is_built_here() -> None:
    if os.environ.get("REPO_SDK_PURE_PYTHON"):
        assert IN_C is None and types.assemble is in_python
    else:
        assert IN_C is not None and types.assemble is IN_C, "repo_sdk/fastmodel.c was not built"


def _cases() -> list[tuple[type[BaseModel], dict, frozenset[str], dict | None]]:
    turn = Turn(role="user", content="Hi, 80 EUR?")
    hit = RuleHit(rule="max_length", points=-10.0, reason="too long", span=(0, 3), evidence="abc")
    sample = Sample(id="d1#1", history=[turn], response="We can do 85.")
    score = SourceScore(value=-10.0, reason="1 rule fired", details={"hits": [hit]})
    result = RewardResult(reward=-1.0, sources={"rules": score}, fired=[hit])
    out = []
    for made in (turn, hit, sample, score, result):
        values = {name: getattr(made, name) for name in type(made).model_fields}
        out.append((type(made), values, frozenset(made.model_fields_set), made.__pydantic_private__))
    return out


@needs_c
@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0].__name__)
def test_a_model_assembled_in_c_is_the_python_one(case: tuple) -> None:
    cls, values, given, private = case
    made_c, made_py = IN_C(cls, dict(values), given, private), in_python(cls, dict(values), given, private)
    assert type(made_c) is cls and made_c == made_py
    assert made_c.model_fields_set == made_py.model_fields_set == set(given)
    assert made_c.model_fields_set is not made_py.model_fields_set  # (each its own set: pydantic adds to it)
    assert made_c.model_dump() == made_py.model_dump() and made_c.__pydantic_private__ == private
    assert made_c.__pydantic_extra__ is None
    assert pickle.loads(pickle.dumps(made_c)) == made_py
    first = next(iter(values))
    assert made_c.model_copy(update={first: values[first]}) == made_py
    if cls.model_config.get("frozen"):
        with pytest.raises(ValidationError):
            setattr(made_c, first, values[first])


@needs_c
def test_the_c_part_takes_three_or_four_arguments_and_refuses_others() -> None:
    values = {"role": "user", "content": "Hi", "tool_calls": (), "name": None, "tool_call_id": None}
    assert IN_C(Turn, dict(values), frozenset({"role"})) == Turn(role="user", content="Hi")
    with pytest.raises(TypeError, match="3 or 4 arguments"):
        IN_C(Turn, dict(values))
    with pytest.raises(TypeError, match="cls must be a class and values a dict, not str and list"):
        IN_C("Turn", [], frozenset())
    with pytest.raises(TypeError, match="not iterable"):
        IN_C(Turn, dict(values), 3)
    from repo_sdk import fastmodel  # type: ignore[attr-defined]

    with pytest.raises(TypeError, match="argument 2 is int, not a data descriptor"):
        fastmodel.bind(BaseModel.__dict__["__dict__"], 1, 2, 3)
