"""Rendering a Sample for the RM: chat template or plain lines, task placement, truncation."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from repo_sdk.rm.minilm import default_base
from repo_sdk.rm.render import Renderer, default_task_text
from repo_sdk.rm.tiny import build_tiny_tokenizer
from repo_sdk.testing import make_sample

TASK = {"hotel": "Aurora", "target_price": 95}


@pytest.fixture(scope="module")
def chatml():
    return build_tiny_tokenizer()


@pytest.fixture(scope="module")
def bert():
    return AutoTokenizer.from_pretrained(default_base())


def roles(msgs):
    return [m["role"] for m in msgs]


def test_system_placement_adds_or_merges_a_system_turn(chatml):
    r = Renderer(chatml)
    msgs = r.messages(TASK, make_sample(history=[("user", "Hello")]).history, "Hi")
    assert roles(msgs) == ["system", "user", "assistant"]
    assert msgs[0]["content"] == default_task_text(TASK) and "- target_price: 95" in msgs[0]["content"]
    merged = r.messages(TASK, make_sample(history=[("system", "Be kind."), ("user", "Hello")]).history, "Hi")
    assert roles(merged) == ["system", "user", "assistant"]
    assert merged[0]["content"].startswith("Task information:") and merged[0]["content"].endswith("Be kind.")


def test_user_prefix_and_none_placements(chatml):
    history = make_sample(history=[("user", "Hello"), ("assistant", "Hi"), ("user", "Price?")]).history
    pre = Renderer(chatml, task_placement="user-prefix").messages(TASK, history, "95?")
    assert roles(pre) == ["user", "assistant", "user", "assistant"]
    assert pre[0]["content"].startswith("Task information:") and pre[0]["content"].endswith("Hello")
    assert "Task" not in pre[2]["content"]
    none = Renderer(chatml, task_placement="none").messages(TASK, history, "95?")
    assert all("Aurora" not in m["content"] for m in none)
    assert roles(Renderer(chatml, task_placement="user-prefix").messages(TASK, [], "x")) == ["user", "assistant"]


def test_empty_task_adds_no_turn_and_custom_template_renders(chatml):
    assert roles(Renderer(chatml).messages({}, [], "x")) == ["assistant"]
    r = Renderer(chatml, task_template="Hotel {{ task.hotel }} wants {{ task.target_price }} EUR.")
    assert r.messages(TASK, [], "x")[0]["content"] == "Hotel Aurora wants 95 EUR."
    with pytest.raises(Exception, match="nope"):  # StrictUndefined: a missing field is an error
        Renderer(chatml, task_template="{{ task.nope.deeper }}").messages(TASK, [], "x")


def test_chat_template_rendering_ends_with_the_response(chatml):
    text = Renderer(chatml).text(make_sample(response="Deal at 95.", task=TASK))
    assert text.startswith("<|im_start|>system\nTask information:")
    assert text.endswith("<|im_start|>assistant\nDeal at 95.<|im_end|>\n")


def test_plain_rendering_without_chat_template_uses_the_tokenizers_specials(bert):
    r = Renderer(bert)
    assert not r.has_chat_template
    sample = make_sample(response="Deal at 95.", task={"hotel": "Aurora"}, history=[("user", "Hello")])
    assert r.text(sample) == "system: Task information:\n- hotel: Aurora\nuser: Hello\nassistant: Deal at 95."
    ids = r.encode([sample])[0].ids
    assert ids[0] == bert.cls_token_id and ids[-1] == bert.sep_token_id


def long_history(turns: int):
    return [("user" if i % 2 == 0 else "assistant", f"turn {i} " + "blah " * 20) for i in range(turns)]


@pytest.mark.parametrize("tok_name", ["chatml", "bert"])
def test_truncation_drops_fewest_oldest_turns_keeps_task_and_response(request, tok_name):
    tok = request.getfixturevalue(tok_name)
    sample = make_sample(response="Deal at 95, thank you.", task=TASK, history=long_history(12))
    r = Renderer(tok)
    fits_last_4 = len(r._encode_texts([r.render(r.messages(TASK, sample.history[8:], sample.response))])[0])
    r.max_length = fits_last_4 + 3  # too short for the last 6 turns (a whole turn is ~25 tokens)
    enc = r.encode([sample])[0]
    assert enc.truncated and enc.cut_tokens == 0 and enc.dropped_turns == 8
    assert enc.ids == r._encode_texts([r.render(r.messages(TASK, sample.history[8:], sample.response))])[0]
    text = tok.decode(enc.ids)
    assert "aurora" in text.lower() and "turn 8 " in text and "turn 7 " not in text
    assert "deal at 95, thank you." in text.lower()
    assert enc.full_length == len(r._encode_texts([r.text(sample)])[0])
    assert r.encode([make_sample(response="short", history=[])])[0].truncated is False


def test_token_cut_keeps_leading_special_and_the_response_tail(bert):
    r = Renderer(bert, max_length=32)
    reply = "final words " + "very " * 10 + "end of reply"
    enc = r.encode([make_sample(response="a b c " * 40 + reply, task=TASK, history=long_history(3))])[0]
    assert len(enc.ids) == 32 and enc.cut_tokens > 0 and enc.dropped_turns == 3
    assert enc.ids[0] == bert.cls_token_id and enc.ids[-1] == bert.sep_token_id
    assert bert.decode(enc.ids[1:-1]).endswith("end of reply")


@pytest.mark.parametrize("tok_name", ["chatml", "bert"])
def test_a_reply_too_long_alone_is_encoded_twice_and_cut_as_the_search_would(request, tok_name, monkeypatch):
    tok = request.getfixturevalue(tok_name)
    r = Renderer(tok, max_length=48)
    reply = "word " * 3000 + "end of reply"  # far longer than max_length without any history
    sample = make_sample(response=reply, task=TASK, history=long_history(16))
    alone = r._encode_texts([r.render(r.messages(TASK, sample.history[16:], reply))])[0]
    calls = []
    encode = r._encode_texts
    monkeypatch.setattr(r, "_encode_texts", lambda texts: calls.append(len(texts)) or encode(texts))
    enc = r.encode([sample])[0]
    assert len(calls) == 2  # the whole rendering, then the one without history; no search in between
    head = 1 if tok_name == "bert" else 0  # BERT's [CLS] stays in front
    assert enc.dropped_turns == 16 and len(enc.ids) == 48
    assert enc.ids == alone[:head] + alone[-(48 - head) :]
    assert enc.cut_tokens == len(alone) - 48


def test_strict_template_refusing_assistant_first_still_truncates(chatml):
    strict = build_tiny_tokenizer()
    strict.chat_template = (
        "{% if messages[0]['role'] == 'assistant' %}{{ raise_exception('must start with user') }}{% endif %}"
        + chatml.chat_template
    )
    sample = make_sample(response="ok", history=long_history(9))
    r = Renderer(strict, task_placement="none")
    last_user = r._encode_texts([r.render(r.messages({}, sample.history[8:], "ok"))])[0]
    r.max_length = len(last_user)
    enc = r.encode([sample])[0]
    assert (enc.dropped_turns, enc.cut_tokens, enc.ids) == (8, 0, last_user)
    assert strict.decode(enc.ids).startswith("<|im_start|>user")
    # Even the last user turn is too long: the no-history shape fails to render, so the
    # cut applies to the shortest rendering that worked.
    r.max_length = 20
    enc = r.encode([sample])[0]
    assert (enc.dropped_turns, len(enc.ids)) == (8, 20) and enc.ids == last_user[-20:]
