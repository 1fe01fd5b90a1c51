"""revF23: the quarantine's address scan cuts a token inside a word and keys another person's address.

fix14 made every non-ASCII punctuation or symbol end an address token (core/quarantine.py
``address_text``), so that ``“ann@x.com”`` and ``連絡先、ann@x.com`` are read. But a phone keyboard's
smart apostrophe inside a user name (``o’brien@x.com``, the very reason the address is refused) or a
Catalan middle dot (``col·lecta@x.cat``) is inside the token: cut there, the record is keyed by
``brien@x.com`` or ``lecta@x.cat``, another person's mailbox, so that person's erasure deletes the
refused record and their export lists it. Before fix14 such a value was keyed by nothing of anyone's.
"""

from __future__ import annotations

import pytest

from core.quarantine import refused_emails


@pytest.mark.parametrize(
    ("written", "wrong"),
    [
        ("o\u2019brien@example.com", "brien@example.com"),
        ("Kate O\u2019Brien <o\u2019brien@example.com>", "brien@example.com"),
        ("d\u2018angelo@example.com", "angelo@example.com"),
        ("col\u00b7lecta@example.cat", "lecta@example.cat"),
        ("mary\u2013jane@example.com", "jane@example.com"),
    ],
)
def test_a_punctuation_inside_a_user_name_never_keys_the_rest_of_it(written: str, wrong: str) -> None:
    assert wrong not in refused_emails(written)


def test_a_smart_apostrophe_in_a_user_name_keys_the_address_typed() -> None:
    # the keyboard wrote the apostrophe a user name holds (RFC 5322 atext): her mailbox
    assert refused_emails("o\u2019brien@example.com") == ["o'brien@example.com"]


@pytest.mark.parametrize(
    "written",
    [
        "\u201cann@example.com\u201d",
        "\u2018ann@example.com\u2019",
        "\u00abann@example.com\u00bb",
        "\u9023\u7d61\u5148\u3001ann@example.com\u3001\u3088\u308d\u3057\u304f",
        "mail \u2014 ann@example.com \u2026",
    ],
)
def test_quotes_and_cjk_punctuation_around_an_address_still_end_it(written: str) -> None:
    assert refused_emails(written) == ["ann@example.com"]
