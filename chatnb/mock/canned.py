"""The mock's own answers: a small built-in set of Markdown answers, one per question.

The reply ``"answer"`` (:data:`~chatnb.mock.replies.ANSWER`) answers each question with the
answer on its topic (a word of the question names it), else with the one its hash picks: the
same question always gets the same answer. Each reads like a model's: a heading, a paragraph,
a list and some code, so a demo shows what an answer looks like rather than filler words.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["ANSWERS", "canned_answer"]

_STREAMING = """## Streaming an answer

Send the request with `stream=True` and show each piece as it arrives: the reader sees the \
answer start at once instead of waiting for all of it.

- **Append, don't re-render**: send only the new text, and re-render only the open block.
- **Keep what arrived**: if the stream fails or you press Stop, the partial answer stays.
- **Count as you go**: tokens, tokens/s and time tell you the answer is still moving.

```python
from chatnb import Chatbot

bot = Chatbot("gpt-4o-mini")
bot.ask("Explain streaming in one paragraph.")  # streams into the cell
```
"""

_CONTEXT = """## Context windows

A model reads the whole conversation on every request, and the **context window** caps how \
many tokens that may be: the system prompt, every earlier turn, the tools, and room for the \
answer.

1. Count the prompt with the model's own tokenizer.
2. Keep room for the answer (its maximum output, within reason).
3. Leave out the oldest turns first; never the system prompt.

```python
from chatnb import count_tokens

count_tokens([{"role": "user", "content": "Hello!"}], model="gpt-4o")  # as billed
```
"""

_COST = """## Keeping costs down

Every answer is billed by its tokens: the prompt you send and the answer you get back.

| lever | effect |
|---|---|
| a smaller model | often 10-20x cheaper per token |
| a shorter history | fewer prompt tokens on every turn |
| caching re-runs | a replayed answer costs nothing |

```python
bot = Chatbot("gpt-4o-mini", cache="runs.sqlite")  # re-running the notebook is free
bot.usage                                           # tokens and estimated cost so far
```
"""

_ERRORS = """## When a request fails

Most failures are temporary: a rate limit, a busy server, a dropped connection. Retry those \
with backoff; fix the others.

- **429 rate limit**: wait as long as `Retry-After` says, then retry.
- **401 authentication**: the key is missing or wrong; retrying will not help.
- **400 bad request**: read the message, it names the field at fault.

```python
import openai

client = openai.OpenAI(max_retries=5, timeout=60)  # retries 429s and 5xx with backoff
```
"""

_TOOLS = """## Calling tools

A tool is a function the model may ask you to run: it sends the name and JSON arguments, you \
run it, and send back the result for the model to use in its answer.

1. Describe the function: a name, a docstring, typed parameters.
2. Run each call the model makes, and answer it with the result.
3. Let the model write its answer from the results.

```python
def get_weather(city: str) -> dict:
    \"\"\"The current weather in a city.\"\"\"
    return {"city": city, "sky": "clear"}

bot = Chatbot("gpt-4o-mini", tools=[get_weather])
```
"""

_STRUCTURED = """## Structured answers

Ask for JSON that matches a schema, and the model's answer can be validated and used as data \
instead of parsed out of prose.

- **Define the shape** with a pydantic model.
- **Validate** the answer against it: a wrong field is an error, not a surprise later.

```python
from pydantic import BaseModel

class City(BaseModel):
    name: str
    population: int

bot.ask("The largest city in Japan.", response_format=City).parsed
```
"""

_PROMPTING = """## Getting better answers

A clear prompt does most of the work: say who the answer is for, what shape it should take, \
and give an example when the format matters.

- **Be specific**: "three bullet points for a beginner" beats "explain".
- **Set the stage** in the system prompt: tone, length, what to avoid.
- **Compare variants** on the same inputs before you pick one.

```python
bot = Chatbot("gpt-4o-mini", system="Answer in three short bullet points.")
bot.ask("Why is the sky blue?")
```
"""

#: The built-in answers, by topic; the words that pick each (a word starting with one).
ANSWERS: dict[str, tuple[tuple[str, ...], str]] = {
    "streaming": (("stream",), _STREAMING),
    "context": (("context", "token", "window", "history", "memory"), _CONTEXT),
    "cost": (("cost", "price", "cheap", "money", "budget", "cach"), _COST),
    "errors": (("error", "fail", "retr", "rate", "limit", "timeout"), _ERRORS),
    "tools": (("tool", "function", "weather"), _TOOLS),
    "structured": (("json", "schema", "structured", "pydantic", "format"), _STRUCTURED),
    "prompting": (("prompt",), _PROMPTING),
}


def canned_answer(question: str) -> str:
    """The built-in answer to ``question``: the first topic one of its words names, else the
    one its hash picks (the same question always gets the same answer)."""
    words = re.findall(r"[a-z]+", question.lower())
    for starts, answer in ANSWERS.values():
        if any(word.startswith(start) for word in words for start in starts):
            return answer
    answers = [answer for _, answer in ANSWERS.values()]
    digest = hashlib.sha256(question.encode("utf-8", "surrogatepass")).digest()
    return answers[int.from_bytes(digest[:4], "big") % len(answers)]
