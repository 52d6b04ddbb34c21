"""The contracts under test and the SDK request types each is checked against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anthropic.types import message_count_tokens_params, message_create_params
from anthropic.types.beta import message_count_tokens_params as beta_count
from anthropic.types.beta import message_create_params as beta_create
from cogate.policies.contract import Node
from cogate.proxy.surfaces import (
    anthropic_request,
    chat,
    completions,
    embeddings,
    responses_request,
)
from openai.types import completion_create_params, embedding_create_params
from openai.types.chat import completion_create_params as chat_params
from openai.types.responses import (
    input_token_count_params,
    response_compact_params,
    response_create_params,
)

CONTRACTS: dict[str, Callable[[], Node]] = {
    "openai.responses": responses_request.CONTRACT,
    "anthropic.messages": anthropic_request.CONTRACT,
    "openai.chat": chat.CONTRACT,
    "openai.completions": completions.CONTRACT,
    "openai.embeddings": embeddings.CONTRACT,
}
SDK_TYPES: dict[str, tuple[str, Any]] = {
    "chat.completions.create": ("openai.chat", chat_params.CompletionCreateParamsStreaming),
    "completions.create": (
        "openai.completions",
        completion_create_params.CompletionCreateParamsStreaming,
    ),
    "embeddings.create": ("openai.embeddings", embedding_create_params.EmbeddingCreateParams),
    "responses.create": ("openai.responses", response_create_params.ResponseCreateParamsBase),
    "responses.compact": ("openai.responses", response_compact_params.ResponseCompactParams),
    "responses.input_tokens": (
        "openai.responses",
        input_token_count_params.InputTokenCountParams,
    ),
    "messages.create": ("anthropic.messages", message_create_params.MessageCreateParamsBase),
    "messages.count_tokens": (
        "anthropic.messages",
        message_count_tokens_params.MessageCountTokensParams,
    ),
    # Claude Code speaks the beta Messages API (`?beta=true`): its fields too.
    "beta.messages.create": ("anthropic.messages", beta_create.MessageCreateParamsBase),
    "beta.messages.count_tokens": ("anthropic.messages", beta_count.MessageCountTokensParams),
}
