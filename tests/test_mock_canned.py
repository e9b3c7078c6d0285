"""The mock reads like a model: built-in answers on the question's topic, and structured
values that look like what their fields ask for."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from chatnb import Chatbot
from chatnb.mock.canned import ANSWERS, canned_answer
from chatnb.mock.instances import instance


def test_a_question_gets_the_answer_on_its_topic_and_always_the_same() -> None:
    answer = canned_answer("How should I stream an LLM's answer into a Jupyter notebook?")
    assert answer.startswith("## Streaming an answer")
    assert canned_answer("What is a context window?").startswith("## Context windows")
    odd = "Tell me something about giraffes."
    assert canned_answer(odd) == canned_answer(odd) in [a for _, a in ANSWERS.values()]


def test_each_answer_reads_like_a_models_markdown() -> None:
    for _, answer in ANSWERS.values():
        assert re.match(r"## \w", answer)  # a heading
        assert re.search(r"^(- |1\. |\| )", answer, re.MULTILINE)  # a list or a table
        assert "\n```python\n" in answer and answer.rstrip().endswith("```")  # some code


def test_the_answer_reply_streams_through_a_chatbot_and_still_calls_tools() -> None:
    bot = Chatbot.mock("answer", display=False)
    assert bot.ask("Why did my request fail?") == canned_answer("Why did my request fail?")

    def get_weather(city: str) -> dict[str, str]:
        """The current weather in a city."""
        return {"city": city, "sky": "clear"}

    answered = Chatbot.mock("answer", display=False, tools=[get_weather])
    answered.ask("What is the weather in Paris?")
    calls = [m for m in answered.history if m.tool_calls]
    assert calls and calls[0].tool_calls[0].function.name == "get_weather"  # type: ignore[index]


class Landmark(BaseModel):
    name: str
    year_built: int


class City(BaseModel):
    name: str
    country: str
    population: int
    landmarks: list[Landmark]


class Person(BaseModel):
    first_name: str
    lastName: str
    email: str
    age: int = Field(ge=0, le=30)
    website: str
    born: date
    mood: Literal["happy", "sad"]


def test_structured_values_look_like_their_fields() -> None:
    city = Chatbot.mock(display=False).ask("A city.", response_format=City).parsed
    assert city == City(
        name="Lisbon",
        country="Portugal",
        population=545_000,
        landmarks=[Landmark(name="Belém Tower", year_built=1519)],
    )
    person = Person.model_validate(instance(Person.model_json_schema()))
    assert (person.first_name, person.lastName) == ("Ada", "Lovelace")
    assert person.email == "ada.lovelace@example.com" and person.website.startswith("https://")
    assert 0 <= person.age <= 30 and person.mood == "happy"  # bounds kept, enums: the first


def test_a_name_without_an_owner_is_a_persons_and_unknown_fields_keep_their_name() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "q": {"type": "string"}}}
    assert instance(schema) == {"name": "Ada Lovelace", "q": "q"}
