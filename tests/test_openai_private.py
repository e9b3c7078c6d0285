"""openai's private parts that chatnb reads are read in one module, each works with the
installed openai (CI runs this with openai 3.x and 2.x), and a missing one says so in words."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

import openai
import pytest
from pydantic import BaseModel, TypeAdapter

from chatnb import openai_private
from chatnb.openai_private import OpenAIInternalsError

PACKAGE = Path(openai_private.__file__).parent
# openai's private modules and attributes (a leading underscore after "openai" or a client).
PRIVATE = re.compile(
    r"openai\.(?:lib\.)?_\w+|\b_base_client\b|\._client\b|\._custom_(?:headers|query)\b"
)


def test_no_other_module_reads_openai_private_parts() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{n}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "openai_private.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE.search(line)
    ]
    assert found == []


def test_each_part_works_with_the_installed_openai() -> None:
    library = openai_private.library()
    assert isinstance(library, ModuleType) and hasattr(library, "AsyncClient")
    client = openai.OpenAI(
        api_key="sk-x", default_headers={"X-Team": "a"}, default_query={"tenant": "t"}
    )
    assert isinstance(openai_private.http_client(client), library.Client)
    assert openai_private.custom_headers(client)["X-Team"] == "a"
    assert openai_private.custom_query(client) == {"tenant": "t"}
    assert openai_private.is_default_http_client(openai_private.http_client(client))
    assert not openai_private.is_default_http_client(library.Client())

    class City(BaseModel):
        name: str

    schema = openai_private.strict_json_schema(TypeAdapter(City))
    assert schema["additionalProperties"] is False and schema["required"] == ["name"]
    form = openai_private.response_format_of(City)
    assert form["type"] == "json_schema" and form["json_schema"]["strict"] is True


def test_a_part_a_future_openai_moved_is_named_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from openai import _base_client

    for name in ("SyncHttpxClientWrapper", "AsyncHttpxClientWrapper"):
        monkeypatch.delattr(_base_client, name)
    with pytest.raises(OpenAIInternalsError, match=r"installed openai \S+ does not have"):
        openai_private.is_default_http_client(object())
    with pytest.raises(OpenAIInternalsError, match=r"client\._client"):
        openai_private.http_client(object())
