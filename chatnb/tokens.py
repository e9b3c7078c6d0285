"""Token accounting: encodings, prompt token counts, and the models' context windows.

* :func:`encoding_for` maps a model name to its tokenizer with tiktoken's own mapping;
  names tiktoken does not know fall back to ``o200k_base`` (one warning per name).
* :func:`count_tokens` counts the prompt tokens of a list of messages as the API bills them,
  following OpenAI's published rules ("How to count tokens with tiktoken", OpenAI cookbook).
* :func:`model_limits` gives a model family's context window and maximum output.

With no vocabulary available (offline, no ``chatnb[offline]``), counting goes on with
:class:`ApproximateTokenizer` after one warning; it never raises and never hangs.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ArgumentError, warn_once
from .images import image_size, image_tokens
from .schema import ChatMessage, Tool
from .vocab import ensure_vocabulary

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "DEFAULT_ENCODING",
    "ApproximateTokenizer",
    "ByteBound",
    "CountingRules",
    "DeferredTokenizer",
    "ModelLimits",
    "TiktokenTokenizer",
    "Tokenizer",
    "answer_begun",
    "checked_encoding",
    "count_tokens",
    "cut_to_tokens",
    "deferred_encoding_for",
    "encoding_for",
    "encoding_name_for",
    "get_tokenizer",
    "known_encoding_name",
    "known_limits",
    "message_tokens",
    "model_limits",
    "preload",
    "rules_for",
    "tools_tokens",
]

DEFAULT_ENCODING = "o200k_base"
#: Every reply is primed with ``<|start|>assistant<|message|>``.
REPLY_PRIMING_TOKENS = 3


# --- tokenizers ---------------------------------------------------------------------------


class Tokenizer(Protocol):
    """What chatnb needs of a tokenizer."""

    @property
    def name(self) -> str: ...

    @property
    def exact(self) -> bool: ...

    def __hash__(self) -> int: ...

    def count(self, text: str) -> int: ...

    def pieces(self, text: str) -> list[str]:
        """``text`` cut at token boundaries (never inside a character)."""
        ...


class TiktokenTokenizer:
    """A real tiktoken encoding."""

    exact = True

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self.encoding = encoding
        self.name = encoding.name

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))

    def pieces(self, text: str) -> list[str]:
        pieces: list[str] = []
        pending = b""
        for token_bytes in self.encoding.decode_tokens_bytes(self.encoding.encode_ordinary(text)):
            pending += token_bytes
            try:
                pieces.append(pending.decode("utf-8"))
            except UnicodeDecodeError:
                continue  # a character split across tokens: wait for its other half
            pending = b""
        if pending:
            pieces.append(pending.decode("utf-8", errors="replace"))
        return pieces

    def __repr__(self) -> str:
        return f"TiktokenTokenizer({self.name!r})"


_APPROX_PIECE = re.compile(r" ?[^\W\d_]+| ?\d{1,3}| ?[^\w\s]+|\s+", re.UNICODE)


class ApproximateTokenizer:
    """The documented offline fallback: one token per word, number group or punctuation
    run, plus one for every 4 bytes past the first 8 of a long piece. On English and Italian
    prose, Korean and Python source it counts 2-9% more than o200k_base: it errs on the side
    of over-counting, so a history trimmed with it still fits.
    """

    exact = False

    def __init__(self, name: str = "approximate") -> None:
        self.name = name

    def pieces(self, text: str) -> list[str]:
        return _APPROX_PIECE.findall(text) if text else []

    def count(self, text: str) -> int:
        total = 0
        for piece in self.pieces(text):
            size = len(piece.encode("utf-8"))
            total += 1 + max(0, math.ceil((size - 8) / 4))
        return total

    def __repr__(self) -> str:
        return f"ApproximateTokenizer({self.name!r})"


class ByteBound:
    """Not a tokenizer but a bound on every one chatnb uses: a byte-level BPE token (tiktoken)
    is at least one UTF-8 byte, and so is each piece :class:`ApproximateTokenizer` counts.
    Counting a prompt with it needs no vocabulary, so a prompt whose bound fits a budget is
    known to fit before the real tokenizer has loaded."""

    exact = False
    name = "bytes"

    def count(self, text: str) -> int:
        return len(text.encode("utf-8", errors="surrogatepass"))

    def pieces(self, text: str) -> list[str]:
        return list(text)

    def __repr__(self) -> str:
        return "ByteBound()"


class _Tokenizers:
    """Each encoding's tokenizer, loaded once (tiktoken takes about a second for o200k_base).

    Loads are serialised by a lock, so a count that needs a tokenizer still loading in the
    background (:func:`preload`) waits for that load instead of starting a second one.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, Tokenizer] = {}
        self._lock = threading.Lock()

    def __call__(self, encoding_name: str) -> Tokenizer:
        """The tokenizer of an encoding, loaded once; approximate (with a warning) if offline."""
        loaded = self._loaded.get(encoding_name)
        if loaded is None:
            with self._lock:
                loaded = self._loaded.get(encoding_name) or _load(encoding_name)
                self._loaded[encoding_name] = loaded
        return loaded

    def preload(self, encoding_name: str) -> None:
        """Load the exact tokenizer in the caller's thread, quietly: an encoding that cannot
        load exactly is left for the first count, which warns where the caller sees it."""
        if encoding_name in self._loaded:
            return
        with self._lock:
            if encoding_name in self._loaded:
                return
            try:
                exact = _exact(encoding_name)
            except ValueError:
                return  # an unknown name: the first count raises it where the caller sees it
            if exact is not None:
                self._loaded[encoding_name] = exact

    def cache_clear(self) -> None:
        with self._lock:
            self._loaded.clear()


def _exact(encoding_name: str) -> TiktokenTokenizer | None:
    """The real tokenizer, or ``None`` when its vocabulary cannot be had."""
    import tiktoken

    if ensure_vocabulary(encoding_name) is None:
        return None
    try:
        return TiktokenTokenizer(tiktoken.get_encoding(encoding_name))
    except ValueError:
        raise  # an unknown encoding name is the caller's mistake, not the network's
    except Exception:
        return None


def _load(encoding_name: str) -> Tokenizer:
    exact = _exact(encoding_name)
    if exact is not None:
        return exact
    warn_once(
        f"vocab:{encoding_name}",
        f"chatnb could not load the {encoding_name} vocabulary (no network, and no local "
        "copy). Token counts are approximate (up to about 10% high) until it is available: "
        'run `pip install "chatnb[offline]"`, or put the .tiktoken file in $CHATNB_VOCAB_DIR.',
    )
    return ApproximateTokenizer(f"approximate:{encoding_name}")


#: The tokenizer of an encoding, loaded once; approximate (with a warning) if offline.
get_tokenizer = _Tokenizers()


class _Answers:
    """How many answers have begun arriving in this process.

    A background load holds the GIL for much of its ~0.3 s (tiktoken parses the vocabulary
    in Python, then builds its tables in Rust without releasing it), so loading while the
    first ask of a new Chatbot sends its request and draws its first token would delay them
    by as much. The load waits for that first token (or :data:`LOAD_GRACE_S`, whichever is
    first): the request goes out and the answer starts showing, and the load runs while the
    rest streams. A count that needs the tokenizer never waits for this: it loads at once.
    """

    def __init__(self) -> None:
        self._begun = 0
        self._changed = threading.Condition()

    def begun(self) -> None:
        with self._changed:
            self._begun += 1
            self._changed.notify_all()

    def wait_next(self, timeout: float) -> None:
        """Until the next answer begins, ``timeout`` seconds at most."""
        with self._changed:
            seen = self._begun
            self._changed.wait_for(lambda: self._begun != seen, timeout)


_answers = _Answers()
#: How long a background load waits for an ask's first token before it starts anyway: longer
#: than a first ask takes to send its request, shorter than a person takes to type one.
LOAD_GRACE_S = 0.5


def answer_begun() -> None:
    """An answer's first token arrived: a background load held back for it may start."""
    _answers.begun()


def _load_in_background(encoding_name: str) -> None:
    _answers.wait_next(LOAD_GRACE_S)
    get_tokenizer.preload(encoding_name)


def checked_encoding(name: str) -> str:
    """``name``, if tiktoken has that encoding; an :class:`~chatnb.errors.ArgumentError` in
    words if not (tiktoken's own message lists its plugins and version)."""
    import tiktoken

    known = tiktoken.list_encoding_names()
    if name not in known:
        raise ArgumentError(
            f"encoding={name!r}: there is no such tokenizer; the encodings are "
            f"{', '.join(sorted(known))}."
        )
    return name


def preload(encoding_name: str) -> None:
    """Start loading an encoding's tokenizer in a background thread and return at once, so
    that making a Chatbot does not wait for it; the first count waits for what is left (or
    loads it at once, if the background load has not started yet)."""
    if encoding_name not in get_tokenizer._loaded:
        loader = threading.Thread(
            target=_load_in_background, args=(encoding_name,), name="chatnb-tokenizer"
        )
        loader.daemon = True  # never holds up the interpreter's exit
        loader.start()


class DeferredTokenizer:
    """An encoding's tokenizer, loading in the background from the moment this is made; the
    first count (or ``name``, ``exact``) waits for the load to finish."""

    def __init__(self, encoding_name: str) -> None:
        import tiktoken

        if encoding_name not in tiktoken.list_encoding_names():
            get_tokenizer(encoding_name)  # an unknown name raises here, where it was given
        self.encoding_name = encoding_name
        preload(encoding_name)

    @property
    def loaded(self) -> Tokenizer:
        return get_tokenizer(self.encoding_name)

    @property
    def ready(self) -> bool:
        """Whether a count would start at once (``False`` while the background load runs)."""
        return self.encoding_name in get_tokenizer._loaded

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def exact(self) -> bool:
        return self.loaded.exact

    def __hash__(self) -> int:
        return hash(self.loaded)

    def __eq__(self, other: object) -> bool:
        other = other.loaded if isinstance(other, DeferredTokenizer) else other
        return self.loaded == other

    def count(self, text: str) -> int:
        return self.loaded.count(text)

    def pieces(self, text: str) -> list[str]:
        return self.loaded.pieces(text)

    def __repr__(self) -> str:
        return f"DeferredTokenizer({self.encoding_name!r})"


def known_encoding_name(model: str) -> str | None:
    """tiktoken's encoding name for ``model``, or ``None`` when tiktoken does not know it."""
    from tiktoken.model import encoding_name_for_model

    try:
        return encoding_name_for_model(_base_model_name(model))
    except KeyError:
        return None


def encoding_name_for(model: str) -> str:
    """tiktoken's encoding name for ``model``; ``o200k_base`` (one warning) if unknown."""
    name = known_encoding_name(model)
    if name is None:
        warn_once(
            f"encoding:{model}",
            f"chatnb does not know which tokenizer {model!r} uses; counting with "
            f"{DEFAULT_ENCODING}. Pass encoding=... to name the right one.",
        )
        return DEFAULT_ENCODING
    return name


def encoding_for(model: str, encoding: str | None = None) -> Tokenizer:
    """The tokenizer for ``model``, or for the explicitly named ``encoding``.

    Args:
        model: A model name (``"gpt-4o"``); an unknown one is counted with ``o200k_base``,
            with a warning.
        encoding: The encoding to use instead (``"o200k_base"``, ``"cl100k_base"``)."""
    return get_tokenizer(encoding or encoding_name_for(model))


def deferred_encoding_for(model: str, encoding: str | None = None) -> DeferredTokenizer:
    """:func:`encoding_for`, loading in the background: returns at once."""
    return DeferredTokenizer(encoding or encoding_name_for(model))


def _base_model_name(model: str) -> str:
    """``ft:gpt-4o-mini:org::id`` -> ``gpt-4o-mini``; ``openai/gpt-oss-20b`` -> ``gpt-oss-20b``."""
    if model.startswith("ft:"):
        model = model[3:].split(":", 1)[0]
    return model.rsplit("/", 1)[-1]


# --- counting messages --------------------------------------------------------------------


@dataclass(frozen=True)
class CountingRules:
    """OpenAI's published per-message overheads for one model family."""

    tokens_per_message: int = 3
    tokens_per_name: int = 1
    # Tool definitions (cookbook, "Counting tokens for chat completions with tool calls").
    func_init: int = 7
    prop_init: int = 3
    prop_key: int = 3
    enum_init: int = -3
    enum_item: int = 3
    func_end: int = 12
    #: The family whose image prices apply (see :mod:`chatnb.images`).
    image_family: str | None = None


def rules_for(model: str) -> CountingRules:
    base = _base_model_name(model)
    if base == "gpt-3.5-turbo-0301":
        return CountingRules(tokens_per_message=4, tokens_per_name=-1, func_init=10)
    if known_encoding_name(model) == "cl100k_base":  # gpt-3.5-turbo and gpt-4
        return CountingRules(func_init=10)
    if base.startswith("gpt-4o-mini"):
        return CountingRules(image_family="gpt-4o-mini")
    return CountingRules()


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return "".join(str(part.get("text", "")) for part in content if part.get("type") == "text")


def _images_tokens(content: str | list[dict[str, Any]] | None, rules: CountingRules) -> int:
    """What the images of a message's content cost (OpenAI's rule, :mod:`chatnb.images`)."""
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        image = part.get("image_url") if part.get("type") == "image_url" else None
        if isinstance(image, dict):
            url, detail = str(image.get("url", "")), str(image.get("detail", "auto"))
            total += image_tokens(image_size(url), detail, rules.image_family)
    return total


def message_tokens(message: ChatMessage, tokenizer: Tokenizer, rules: CountingRules) -> int:
    """Tokens one message adds to a prompt, its overhead included."""
    total = rules.tokens_per_message + tokenizer.count(message.role)
    total += tokenizer.count(_text_of(message.content))
    total += _images_tokens(message.content, rules)
    if message.name:
        total += tokenizer.count(message.name) + rules.tokens_per_name
    for call in message.tool_calls or ():
        # No published rule for replayed tool calls: count what is sent, plus the framing.
        total += rules.tokens_per_message
        total += tokenizer.count(call.function.name) + tokenizer.count(call.function.arguments)
    if message.tool_call_id:
        total += tokenizer.count(message.tool_call_id)
    return total


#: A token is rarely longer than this many characters: how much of a long text is read to cut
#: it (so cutting 10 MB to a few thousand tokens reads a few thousand tokens' worth).
_LONGEST_TOKEN_CHARS = 16


def cut_to_tokens(text: str, tokens: int, tokenizer: Tokenizer) -> str | None:
    """``text`` cut at a token boundary to at most ``tokens`` tokens, or ``None`` when it fits
    whole. A token is at least one UTF-8 byte, so a short text is not even counted, and only
    the beginning of a long one is read (linear in what is kept, not in the text)."""
    if len(text.encode("utf-8", errors="surrogatepass")) <= tokens:
        return None
    head = text[: max(0, tokens) * _LONGEST_TOKEN_CHARS]
    if len(head) == len(text) and tokenizer.count(text) <= tokens:
        return None
    return "".join(tokenizer.pieces(head)[: max(0, tokens)])


def tools_tokens(tools: Iterable[Tool], tokenizer: Tokenizer, rules: CountingRules) -> int:
    """Tokens that tool definitions add to a prompt (OpenAI cookbook's rule)."""
    total = 0
    tools = list(tools)
    for tool in tools:
        function = tool.function
        total += rules.func_init
        description = (function.description or "").removesuffix(".")
        total += tokenizer.count(f"{function.name}:{description}")
        properties: Mapping[str, Any] = (function.parameters or {}).get("properties") or {}
        if properties:
            total += rules.prop_init
            for key, spec in properties.items():
                total += rules.prop_key
                if "enum" in spec:
                    total += rules.enum_init
                    for item in spec["enum"]:
                        total += rules.enum_item + tokenizer.count(str(item))
                kind = spec.get("type", "")
                kind = kind if isinstance(kind, str) else json.dumps(kind)
                description = str(spec.get("description", "")).removesuffix(".")
                total += tokenizer.count(f"{key}:{kind}:{description}")
    if tools:
        total += rules.func_end
    return total


def count_tokens(
    messages: Iterable[ChatMessage | Mapping[str, Any]],
    model: str = "gpt-4o",
    tools: Iterable[Tool | Mapping[str, Any]] | None = None,
    *,
    encoding: str | None = None,
) -> int:
    """Prompt tokens of ``messages`` (and ``tools``) as the API bills them for ``model``.

    Args:
        messages: Chat messages (dicts or :class:`~chatnb.schema.ChatMessage`).
        model: The model whose tokenizer and message overhead are counted.
        tools: Tool definitions sent with the messages (they cost prompt tokens too).
        encoding: The tokenizer's encoding, for a model chatnb does not know."""
    tokenizer = encoding_for(model, encoding)
    rules = rules_for(model)
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        parsed = (
            message if isinstance(message, ChatMessage) else ChatMessage.model_validate(message)
        )
        total += message_tokens(parsed, tokenizer, rules)
    if tools:
        parsed_tools = [t if isinstance(t, Tool) else Tool.model_validate(t) for t in tools]
        total += tools_tokens(parsed_tools, tokenizer, rules)
    return total


# --- context windows ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelLimits:
    context_window: int
    max_output_tokens: int
    known: bool = True

    def prompt_budget(self, reserved_output: int | None = None) -> int:
        """Prompt tokens allowed when ``reserved_output`` tokens are kept for the answer.

        By default the model's maximum output is kept, but never more than a quarter of the
        window: models whose output may fill the whole window (gpt-4, gpt-oss) would
        otherwise leave no room for the prompt.
        """
        if reserved_output is None:
            reserved_output = min(self.max_output_tokens, self.context_window // 4)
        return max(0, self.context_window - reserved_output)


# Source: OpenAI's model pages (platform.openai.com/docs/models/<model>), read 2025-2026:
# context window and maximum output tokens of each family. Versioned and fine-tuned names
# resolve to their family by the longest matching prefix.
MODEL_LIMITS: dict[str, ModelLimits] = {
    "gpt-3.5-turbo": ModelLimits(16_385, 4_096),
    "gpt-35-turbo": ModelLimits(16_385, 4_096),  # Azure deployment name
    "gpt-4": ModelLimits(8_192, 8_192),
    "gpt-4-32k": ModelLimits(32_768, 8_192),
    "gpt-4-turbo": ModelLimits(128_000, 4_096),
    "gpt-4-1106-preview": ModelLimits(128_000, 4_096),
    "gpt-4-0125-preview": ModelLimits(128_000, 4_096),
    "gpt-4o": ModelLimits(128_000, 16_384),
    "gpt-4o-mini": ModelLimits(128_000, 16_384),
    "chatgpt-4o-latest": ModelLimits(128_000, 16_384),
    "gpt-4.1": ModelLimits(1_047_576, 32_768),
    "gpt-4.1-mini": ModelLimits(1_047_576, 32_768),
    "gpt-4.1-nano": ModelLimits(1_047_576, 32_768),
    "o1": ModelLimits(200_000, 100_000),
    "o1-mini": ModelLimits(128_000, 65_536),
    "o1-preview": ModelLimits(128_000, 32_768),
    "o3": ModelLimits(200_000, 100_000),
    "o3-mini": ModelLimits(200_000, 100_000),
    "o4-mini": ModelLimits(200_000, 100_000),
    "gpt-5": ModelLimits(400_000, 128_000),
    "gpt-5-mini": ModelLimits(400_000, 128_000),
    "gpt-5-nano": ModelLimits(400_000, 128_000),
    "gpt-oss-120b": ModelLimits(131_072, 131_072),
    "gpt-oss-20b": ModelLimits(131_072, 131_072),
}
#: What an unknown model gets: small enough to fit any current chat model.
UNKNOWN_MODEL_LIMITS = ModelLimits(8_192, 1_024, known=False)


def model_family(model: str, families: Iterable[str]) -> str | None:
    """The longest of ``families`` that ``model`` belongs to (``gpt-4o-2024-08-06`` and
    ``ft:gpt-4o:org::id`` are in ``gpt-4o``), or ``None``."""
    base = _base_model_name(model)
    best = None
    for family in families:
        if (base == family or base.startswith(family + "-")) and (
            best is None or len(family) > len(best)
        ):
            best = family
    return best


def known_limits(model: str) -> ModelLimits | None:
    """The table's limits for ``model``'s family, or ``None`` if the table does not know it."""
    family = model_family(model, MODEL_LIMITS)
    return MODEL_LIMITS[family] if family else None


def model_limits(
    model: str, *, context_window: int | None = None, max_output_tokens: int | None = None
) -> ModelLimits:
    """The context window and maximum output of ``model``; either number can be overridden.

    An unknown model without both overrides gets :data:`UNKNOWN_MODEL_LIMITS` and a warning.

    Args:
        model: A model name (``"gpt-4o"``).
        context_window: The context window in tokens, instead of the known one.
        max_output_tokens: The longest answer in tokens, instead of the known one.
    """
    table = known_limits(model)
    if table is None and (context_window is None or max_output_tokens is None):
        warn_once(
            f"limits:{model}",
            f"chatnb does not know the context window of {model!r}; assuming "
            f"{UNKNOWN_MODEL_LIMITS.context_window:,} tokens with "
            f"{UNKNOWN_MODEL_LIMITS.max_output_tokens:,} for the answer. Pass context_window= "
            "and max_output_tokens= to set them.",
        )
    base = table or UNKNOWN_MODEL_LIMITS
    return ModelLimits(
        context_window if context_window is not None else base.context_window,
        max_output_tokens if max_output_tokens is not None else base.max_output_tokens,
        known=table is not None or (context_window is not None and max_output_tokens is not None),
    )
