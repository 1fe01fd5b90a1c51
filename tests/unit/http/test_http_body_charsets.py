"""A vendor's answer read as the text it meant: declared charsets, stray Latin-1 bytes in UTF-8, byte
order marks, UTF-16; only a body that still does not parse is a failure (connectors/_http/_body.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest
from http_fakes import ScriptedApi

from connectors._http import ConnectorHttpClient
from connectors._http._body import json_body

MakeClient = Callable[..., ConnectorHttpClient]

NAME = "José Müller-Øst"


def _answer(content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"Content-Type": content_type})


def _body(name_bytes: bytes) -> bytes:
    return b'{"results": [{"id": "7", "first_name": "' + name_bytes + b'"}]}'


@pytest.mark.parametrize(
    ("charset", "codec"),
    [("ISO-8859-1", "latin-1"), ("windows-1252", "cp1252"), ("latin1", "latin-1"), ("UTF-16", "utf-16")],
)
def test_an_answer_is_read_in_the_charset_it_declares(charset: str, codec: str) -> None:
    answer = _answer(
        json.dumps({"name": NAME}, ensure_ascii=False).encode(codec), f"application/json; charset={charset}"
    )
    assert json_body(answer) == {"name": NAME}


def test_stray_latin1_bytes_in_a_utf8_answer_read_as_windows_1252_and_logged_without_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a UTF-8 answer in which one name was written in Latin-1 (and one in Windows-1252: the
    # typographic apostrophe 0x92), beside a name in proper UTF-8
    content = b'{"a": "' + "José".encode("latin-1") + b'", "b": "O\x92Neil", "c": "' + "Zoë".encode() + b'"}'
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        body = json_body(_answer(content))
    # THEN each is read as meant
    assert body == {"a": "José", "b": "O\u2019Neil", "c": "Zoë"}
    # AND a line says so, without her name
    (line,) = [r for r in caplog.records if "not UTF-8" in r.getMessage()]
    assert "Jos" not in line.getMessage()
    assert "Neil" not in line.getMessage()


def test_a_byte_windows_1252_leaves_undefined_reads_as_the_replacement_character() -> None:
    assert json_body(_answer(_body(b"Ann\x81e"))) == {"results": [{"id": "7", "first_name": "Ann\ufffde"}]}


def test_a_declared_charset_that_is_wrong_about_the_bytes_falls_back_to_utf8() -> None:
    # GIVEN bytes in UTF-8 under a declared ASCII charset (a proxy's header, not the body's truth)
    answer = _answer(_body(NAME.encode()), "application/json; charset=us-ascii")
    assert json_body(answer)["results"][0]["first_name"] == NAME


def test_an_unknown_charset_reads_the_body_as_utf8() -> None:
    answer = _answer(_body(NAME.encode()), "application/json; charset=x-no-such-charset")
    assert json_body(answer)["results"][0]["first_name"] == NAME


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""])
def test_utf8_with_or_without_a_byte_order_mark_is_read(bom: bytes) -> None:
    assert json_body(_answer(bom + _body(NAME.encode())))["results"][0]["first_name"] == NAME


@pytest.mark.parametrize(
    "content",
    [
        _body(b"Jos\xe9")[:-5],  # a stray byte and cut short: still no JSON
        b'{"results": [{"id": "1"}, {"id',
        b"<html>Bad gateway</html>",
    ],
)
def test_a_body_that_still_does_not_parse_raises_value_error(content: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        json_body(_answer(content))


def test_a_client_reads_a_page_with_a_stray_byte_at_once_and_still_retries_a_cut_one(
    make_client: MakeClient,
) -> None:
    # GIVEN a page with one Latin-1 byte, then a page cut short, then a whole one
    api = ScriptedApi(
        _answer(_body(b"Jos\xe9")),
        httpx.Response(200, content=b'{"results": [{"id": "1"}, {"id'),
        httpx.Response(200, json={"results": []}),
    )
    client = make_client(api)
    # WHEN both are read THEN the first is read at once, with her name as meant
    assert client.get_json("/things") == {"results": [{"id": "7", "first_name": "José"}]}
    assert len(api.requests) == 1
    # AND the cut one is retried, not returned
    assert client.get_json("/things") == {"results": []}
    assert len(api.requests) == 3
