"""Pydantic v2 models of the OpenAI Chat Completions wire format.

One model of the wire format serves the client (validating streamed chunks), the mock backend
(emitting them) and the tests. The models are strict (``"0"`` is not an index, ``"abort"`` is
not a finish reason) and keep unknown vendor fields instead of rejecting them, so that a
vLLM or llama.cpp extension passes through untouched.

Tolerances: where a real provider differs from OpenAI, the models accept exactly that
difference, each noted where it is declared with the provider that needs it; everywhere else
they are as strict as the OpenAI spec.

Fields are declared in the order the real API sends them, and the mock builds models with
exactly the fields the API sets, so ``model.model_dump_json(exclude_unset=True)`` reproduces
the API's frames byte for byte (see :func:`to_json`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

__all__ = [
    "VENDOR_FINISH_REASONS",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChoiceLogprobs",
    "ChunkChoice",
    "Delta",
    "ErrorDetail",
    "ErrorResponse",
    "FinishReason",
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionDefinition",
    "Role",
    "StreamOptions",
    "TokenLogprob",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "to_json",
]

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class WireModel(BaseModel):
    """Base of every wire model: strict types, unknown fields kept."""

    model_config = ConfigDict(extra="allow", strict=True, defer_build=True)


def to_json(model: BaseModel) -> str:
    """Compact JSON of exactly the fields that were set, as the API writes its frames."""
    return model.model_dump_json(exclude_unset=True)


# --- messages -----------------------------------------------------------------------------


class FunctionCall(WireModel):
    name: str
    arguments: str


class ToolCall(WireModel):
    id: str
    type: Literal["function"]
    function: FunctionCall


class ChatMessage(WireModel):
    """One message of a conversation, as sent in a request or returned in a response."""

    role: Role
    content: str | list[dict[str, Any]] | None = None
    refusal: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _check_role_fields(self) -> ChatMessage:
        if self.role == "assistant":
            if self.content is None and not self.tool_calls and self.refusal is None:
                raise ValueError("an assistant message needs content, tool_calls or a refusal")
        elif self.content is None:
            raise ValueError(f"a {self.role} message needs content")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id it answers")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        return self


# --- request ------------------------------------------------------------------------------


class StreamOptions(WireModel):
    include_usage: bool | None = None


class FunctionDefinition(WireModel):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(WireModel):
    type: Literal["function"]
    function: FunctionDefinition


class ResponseFormat(WireModel):
    """``{"type": "text" | "json_object" | "json_schema", "json_schema": {...}}``."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: dict[str, Any] | None = None


Temperature = Annotated[float, Field(ge=0, le=2)]
Probability = Annotated[float, Field(ge=0, le=1)]
Penalty = Annotated[float, Field(ge=-2, le=2)]
PositiveInt = Annotated[int, Field(ge=1)]


class ChatCompletionRequest(WireModel):
    """The body of ``POST /v1/chat/completions``, with the spec's ranges enforced."""

    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: Temperature | None = None
    top_p: Probability | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    seed: int | None = None
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None
    user: str | None = None
    # Newer options, with the values openai-python 3.x allows.
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = (
        None
    )
    response_format: ResponseFormat | None = None
    logit_bias: dict[str, Annotated[int, Field(ge=-100, le=100)]] | None = None
    parallel_tool_calls: bool | None = None
    service_tier: Literal["auto", "default", "flex", "scale", "priority", "fast"] | None = None
    prediction: dict[str, Any] | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    audio: dict[str, Any] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    safety_identifier: str | None = None
    web_search_options: dict[str, Any] | None = None
    # Deprecated by OpenAI in favour of tools, still accepted by it.
    functions: list[dict[str, Any]] | None = None
    function_call: Literal["none", "auto"] | dict[str, Any] | None = None
    # Beyond the spec: sampling knobs that vLLM and other compatible servers accept.
    top_k: Annotated[int, Field(ge=-1)] | None = None
    repetition_penalty: Annotated[float, Field(gt=0)] | None = None

    @field_validator("stream_options")
    @classmethod
    def _only_when_streaming(
        cls, value: StreamOptions | None, info: ValidationInfo
    ) -> StreamOptions | None:
        if value is not None and not info.data.get("stream"):
            raise ValueError("stream_options is only allowed when stream is true")
        return value

    @property
    def output_limit(self) -> int | None:
        """The completion-token limit the caller asked for, whichever field carried it."""
        return (
            self.max_completion_tokens
            if self.max_completion_tokens is not None
            else self.max_tokens
        )

    @property
    def stop_sequences(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


# --- usage and logprobs -------------------------------------------------------------------


class Usage(WireModel):
    prompt_tokens: Annotated[int, Field(ge=0)]
    completion_tokens: Annotated[int, Field(ge=0)]
    total_tokens: Annotated[int, Field(ge=0)]
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None


class TopLogprob(WireModel):
    token: str
    logprob: float
    bytes: list[int] | None = None


class TokenLogprob(WireModel):
    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = Field(default_factory=list)


class ChoiceLogprobs(WireModel):
    content: list[TokenLogprob] | None = None
    refusal: list[TokenLogprob] | None = None


#: Finish reasons of servers other than OpenAI's, and the OpenAI reason each means: Hugging
#: Face TGI ends with ``eos_token``, some llama.cpp builds and proxies of Anthropic-style models
#: with ``eos``, ``stop_sequence``, ``end_turn`` or ``max_tokens``. The server's own word is
#: kept as ``native_finish_reason`` (the field OpenRouter uses for the same purpose).
VENDOR_FINISH_REASONS: dict[str, FinishReason] = {
    "eos_token": "stop",
    "eos": "stop",
    "stop_sequence": "stop",
    "end_turn": "stop",
    "max_tokens": "length",
    "model_length": "length",
}


def _openai_finish_reason(fields: Any) -> Any:
    """A vendor's finish reason in OpenAI's words, the vendor's kept beside it."""
    native = fields.get("finish_reason") if isinstance(fields, dict) else None
    if isinstance(native, str) and native in VENDOR_FINISH_REASONS:
        fields = {**fields, "finish_reason": VENDOR_FINISH_REASONS[native]}
        fields.setdefault("native_finish_reason", native)
    return fields


# --- response -----------------------------------------------------------------------------


class Choice(WireModel):
    index: Annotated[int, Field(ge=0)]
    message: ChatMessage
    logprobs: ChoiceLogprobs | None = None
    finish_reason: FinishReason

    @model_validator(mode="before")
    @classmethod
    def _vendor_reason(cls, fields: Any) -> Any:
        return _openai_finish_reason(fields)


class ChatCompletionResponse(WireModel):
    """A whole (non-streamed) completion."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[Choice]
    usage: Usage | None = None


# --- streamed chunks ----------------------------------------------------------------------


class FunctionCallDelta(WireModel):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(WireModel):
    index: Annotated[int, Field(ge=0)]
    id: str | None = None
    type: Literal["function"] | None = None
    function: FunctionCallDelta | None = None


class Delta(WireModel):
    role: Role | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    refusal: str | None = None
    # What thinking models stream before the answer: DeepSeek and older vLLM call it
    # ``reasoning_content``; Ollama, newer vLLM and OpenRouter call it ``reasoning``.
    reasoning_content: str | None = None
    reasoning: str | None = None


class ChunkChoice(WireModel):
    index: Annotated[int, Field(ge=0)]
    # Azure OpenAI (asynchronous content filter) sends choices that carry only
    # content_filter_results / content_filter_offsets and no delta.
    delta: Delta = Field(default_factory=Delta)
    logprobs: ChoiceLogprobs | None = None
    # TGI and others finish with reasons of their own: see VENDOR_FINISH_REASONS.
    finish_reason: FinishReason | None = None

    @model_validator(mode="before")
    @classmethod
    def _vendor_reason(cls, fields: Any) -> Any:
        return _openai_finish_reason(fields)


class ChatCompletionChunk(WireModel):
    """One ``data:`` frame of a streamed completion."""

    id: str
    # Azure OpenAI opens a stream with a frame of prompt_filter_results whose id, object and
    # model are empty and whose choices are empty: that frame alone may have object "".
    object: Literal["chat.completion.chunk", ""]
    created: int
    model: str
    system_fingerprint: str | None = None
    choices: list[ChunkChoice]
    usage: Usage | None = None

    @model_validator(mode="after")
    def _empty_object_only_before_the_answer(self) -> ChatCompletionChunk:
        if self.object == "" and self.choices:
            raise ValueError(
                "object must be 'chat.completion.chunk' (only a frame without choices, such as "
                "Azure's prompt-filter frame, may leave it empty)"
            )
        return self

    @property
    def is_annotation(self) -> bool:
        """A frame that annotates the stream (Azure's prompt filter) but is no part of it."""
        return self.object == "" and not self.id


# --- errors -------------------------------------------------------------------------------


class ErrorDetail(WireModel):
    message: str
    type: str | None = None
    param: str | None = None
    # OpenAI sends a string; vLLM and llama.cpp send the HTTP status as an integer.
    code: str | int | None = None


class ErrorResponse(WireModel):
    """The body of every API error: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorDetail
