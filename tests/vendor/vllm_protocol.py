"""vLLM's request and response classes of ``POST /classify``, vendored for contract tests on CPU.

Taken from the vLLM 0.33.0 wheel (``vllm-0.33.0-cp38-abi3-manylinux_2_28_x86_64.whl``),
which cannot be installed on a CPU machine, from these files (SPDX-License-Identifier:
Apache-2.0, copyright contributors to the vLLM project):

- ``vllm/entrypoints/pooling/classify/protocol.py``: ClassificationCompletionRequest,
  ClassificationChatRequest, ClassificationRequest, ClassificationData, ClassificationResponse;
- ``vllm/entrypoints/pooling/base/protocol.py``: reject_removed_pooling_parameters,
  PoolingBasicRequestMixin, CompletionRequestMixin, ChatRequestOptionsMixin, ChatRequestMixin,
  ClassifyRequestMixin;
- ``vllm/entrypoints/serve/engine/protocol.py``: OpenAIBaseModel, _REMOVED_GUIDED_FIELDS,
  UsageInfo, PromptTokenUsageInfo, CompletionTokenUsageInfo;
- ``vllm/renderers/chat_utils/types.py``: CustomChatCompletionMessageParam;
- ``vllm/tasks.py``: check_removed_pooling_task.

Kept: every field, default, constraint and validator of the request and response
bodies. Left out: what only the server's engine uses (``to_pooling_params``,
``build_tok_params``, ``build_chat_params``, the cache-salt check, logging). vLLM
raises its ``VLLMValidationError`` (a ``ValueError``) where this raises ``ValueError``.
OpenAIBaseModel allows extra fields, as vLLM does (it ignores them); a contract test
checks ``model_extra`` is empty, so a field vLLM would silently ignore fails the test.
The message union is reduced to vLLM's own ``CustomChatCompletionMessageParam``
(role and text content), the shape the remote RM sends.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from typing_extensions import Required, TypedDict

VERSION = "0.33.0"

# -- vllm/entrypoints/serve/engine/protocol.py ----------------------------------------------

REMOVED_GUIDED_FIELDS = frozenset(
    {
        "guided_json",
        "guided_regex",
        "guided_choice",
        "guided_grammar",
        "guided_decoding_backend",
        "guided_whitespace_pattern",
    }
)


def random_uuid() -> str:
    return str(uuid.uuid4().hex)


class OpenAIBaseModel(BaseModel):
    # OpenAI API does allow extra fields
    model_config = ConfigDict(extra="allow")

    field_names: ClassVar[set[str] | None] = None


class PromptTokenUsageInfo(OpenAIBaseModel):
    cached_tokens: int | None = None
    created_cache_tokens: int | None = None
    multimodal_tokens: dict[str, int] | None = None


class CompletionTokenUsageInfo(OpenAIBaseModel):
    reasoning_tokens: int = 0


class UsageInfo(OpenAIBaseModel):
    prompt_tokens: int = 0
    total_tokens: int = 0
    completion_tokens: int | None = 0
    prompt_tokens_details: PromptTokenUsageInfo | None = None
    completion_tokens_details: CompletionTokenUsageInfo | None = None


# -- vllm/tasks.py ----------------------------------------------------------------------------

_REMOVED_POOLING_TASK_MESSAGES = {
    "score": "`score` task was removed; use `classify` instead.",
    "encode": "`encode` task was removed; use `token_embed` or `token_classify` instead.",
}


def check_removed_pooling_task(task: object) -> None:
    if isinstance(task, str) and (message := _REMOVED_POOLING_TASK_MESSAGES.get(task)):
        raise ValueError(message)


# -- vllm/renderers/chat_utils/types.py -----------------------------------------------------


class CustomChatCompletionMessageParam(TypedDict, total=False):
    """Enables custom roles in the Chat Completion API."""

    role: Required[str]
    content: str | list[dict[str, Any]]
    name: str


# -- vllm/entrypoints/pooling/base/protocol.py ------------------------------------------------


def reject_removed_pooling_parameters(data):
    if not isinstance(data, dict):
        return data
    if "normalize" in data:
        raise ValueError("Parameter `normalize` was removed; use `use_activation` instead.")
    check_removed_pooling_task(data.get("task"))
    return data


class PoolingBasicRequestMixin(OpenAIBaseModel):
    model: str | None = None
    user: str | None = None
    truncate_prompt_tokens: Annotated[int, Field(ge=-1)] | None = None
    padding: Literal["max_length", "do_not_pad"] | None = None
    truncation_side: Literal["left", "right"] | None = None
    request_id: str = Field(default_factory=random_uuid)
    priority: int = Field(default=0, ge=-(2**63), le=2**63 - 1)
    mm_processor_kwargs: dict[str, Any] | None = None
    cache_salt: str | None = Field(default=None, min_length=1, max_length=1024)


class CompletionRequestMixin(OpenAIBaseModel):
    input: list[int] | list[list[int]] | str | list[str]
    add_special_tokens: bool = Field(default=True)


class ChatRequestOptionsMixin(OpenAIBaseModel):
    add_generation_prompt: bool = Field(default=False)
    continue_final_message: bool = Field(default=False)
    add_special_tokens: bool = Field(default=False)
    chat_template: str | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    media_io_kwargs: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="before")
    @classmethod
    def check_generation_prompt(cls, data):
        if not isinstance(data, dict):
            return data
        if data.get("continue_final_message") and data.get("add_generation_prompt"):
            raise ValueError("Cannot set both `continue_final_message` and `add_generation_prompt` to True.")
        return data


class ChatRequestMixin(ChatRequestOptionsMixin):
    messages: list[CustomChatCompletionMessageParam]


class ClassifyRequestMixin(OpenAIBaseModel):
    use_activation: bool | None = Field(default=None)


# -- vllm/entrypoints/pooling/classify/protocol.py ------------------------------------------


class ClassificationCompletionRequest(PoolingBasicRequestMixin, CompletionRequestMixin, ClassifyRequestMixin):
    pass


class ClassificationChatRequest(PoolingBasicRequestMixin, ChatRequestMixin, ClassifyRequestMixin):
    pass


ClassificationRequest: TypeAlias = Annotated[
    ClassificationCompletionRequest | ClassificationChatRequest,
    BeforeValidator(reject_removed_pooling_parameters),
]


class ClassificationData(OpenAIBaseModel):
    index: int
    label: str | None
    probs: list[float]
    num_classes: int


class ClassificationResponse(OpenAIBaseModel):
    id: str = Field(default_factory=lambda: f"classify-{random_uuid()}")
    object: str = "list"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    data: list[ClassificationData]
    usage: UsageInfo
