"""Splitting OpenRLHF queries back into turns, for several chat templates."""

from __future__ import annotations

import pytest
from repo_sdk_openrlhf.chat import ChatSplitter, PlainSplitter

from repo_sdk.errors import ConfigError
from repo_sdk.rm.tiny import build_tiny_tokenizer
from repo_sdk.types import Turn

CHATML = None  # the tiny tokenizer's own
LLAMA3 = (
    "{{ '<|begin_of_text|>' }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
    "{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
DEFAULT_SYSTEM = (  # SmolLM2 / Qwen style: a system turn appears when the messages have none
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NO_GEN_PROMPT = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"

HISTORIES = [
    [Turn(role="user", content="We offer 95 EUR.")],
    [Turn(role="system", content="Target: 80 EUR."), Turn(role="user", content="We offer 95 EUR.")],
    [
        Turn(role="user", content="Hello, Hotel Aurora."),
        Turn(role="assistant", content="Hi! Could we talk about the twin room?"),
        Turn(role="user", content="Sure, it is 95 EUR now."),
    ],
]


def tokenizer(template):
    tok = build_tiny_tokenizer()
    if template is not None:
        tok.chat_template = template
    return tok


@pytest.mark.parametrize("template", [CHATML, LLAMA3, DEFAULT_SYSTEM], ids=["chatml", "llama3", "default-system"])
@pytest.mark.parametrize("history", HISTORIES, ids=["user", "system", "multi-turn"])
@pytest.mark.parametrize("end", ["", "<|im_end|>", "<|endoftext|>", "<|eot_id|>"])
def test_query_splits_back_into_history_and_reply(template, history, end):
    tok = tokenizer(template)
    sp = ChatSplitter(tok)
    prompt = tok.apply_chat_template([t.message() for t in history], tokenize=False, add_generation_prompt=True)
    reply = "Could you do 80 EUR?"
    query = prompt + reply + (end if end in (sp.suffix.strip(), tok.eos_token, "") else "")
    assert sp.split(query, prompt) == (history, reply)
    assert sp.split(query) == (history, reply)  # without the prompt: the last assistant turn


def test_the_splitter_round_trips_real_tokenization(tiny_tokenizer):
    sp = ChatSplitter(tiny_tokenizer)
    prompt = tiny_tokenizer.apply_chat_template(
        [t.message() for t in HISTORIES[2]], tokenize=False, add_generation_prompt=True
    )
    ids = tiny_tokenizer(prompt + "Deal at 80!", add_special_tokens=False)["input_ids"] + [tiny_tokenizer.eos_token_id]
    query = tiny_tokenizer.decode(ids, skip_special_tokens=False)  # what OpenRLHF sends
    assert sp.split(query, prompt) == (HISTORIES[2], "Deal at 80!")


def test_user_turn_continues_the_conversation(tiny_tokenizer):
    sp = ChatSplitter(tiny_tokenizer)
    msgs = [t.message() for t in HISTORIES[0]]
    prompt = tiny_tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    text = prompt + "80?" + sp.user_turn("No, 90.", eos_in_tokens=False)
    expected = tiny_tokenizer.apply_chat_template(
        [*msgs, {"role": "assistant", "content": "80?"}, {"role": "user", "content": "No, 90."}],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert text == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [(NO_GEN_PROMPT, "generation prompt"), ("", "no chat template")],
)
def test_templates_that_cannot_be_inverted_are_refused(template, message):
    tok = build_tiny_tokenizer()
    tok.chat_template = template or None
    with pytest.raises(ConfigError, match=message):
        ChatSplitter(tok)


def test_plain_splitter():
    sp = PlainSplitter(eos=("</s>",))
    assert sp.split("Q: price? A: 80</s>", "Q: price? A:") == ([Turn(role="user", content="Q: price? A:")], " 80")


TOOL_TEXT = "RATE-SHEET <think>internal</think> market rate 80 EUR"
TOOL_CONV = [
    {"role": "user", "content": "We offer 95 EUR."},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"type": "function", "function": {"name": "rates", "arguments": {"room": "twin"}}}],
    },
    {"role": "tool", "name": "rates", "content": TOOL_TEXT},
]


@pytest.mark.parametrize("template", ["chatml", "qwen2.5", "llama3"])
def test_tool_output_in_a_query_is_a_tool_turn_never_the_reply(template):
    from trl.chat_template_utils import qwen2_5_chat_template

    chat_template = {"chatml": None, "qwen2.5": qwen2_5_chat_template, "llama3": LLAMA3}[template]
    tok = build_tiny_tokenizer() if chat_template is None else build_tiny_tokenizer(chat_template=chat_template)
    sp = ChatSplitter(tok)
    prompt = tok.apply_chat_template(TOOL_CONV, tokenize=False, add_generation_prompt=True)
    history, reply = sp.split(prompt + "Could you do 80?" + sp.suffix, prompt)
    assert reply == "Could you do 80?"
    assert history[-1] == Turn(role="tool", content=TOOL_TEXT)
    assert [t.role for t in history] == ["user", "assistant", "tool"]
    assert all(TOOL_TEXT not in t.content for t in history[:-1])


def test_a_template_that_writes_tool_output_as_a_user_turn_reads_it_as_one():
    plain_roles = "{% for m in messages %}<|im_start|>{{ 'user' if m['role'] == 'tool' else m['role'] }}\n" + (
        "{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    sp = ChatSplitter(build_tiny_tokenizer(chat_template=plain_roles))
    assert "tool" not in sp.prefix
    prompt = sp._render(TOOL_CONV, True)
    history, reply = sp.split(prompt + "80?<|im_end|>", prompt)
    assert reply == "80?" and history[-1] == Turn(role="user", content=TOOL_TEXT)
