"""fix29: the string literals of a line that is no JSON object are read for phone numbers one by one,
in their order, so that a long value before her number does not hide it (profilesync/erased_quarantine.py
``_phone_tokens``)."""

from __future__ import annotations

from profilesync.erased_quarantine import _phone_tokens


def test_a_long_value_before_her_number_does_not_shift_the_literals() -> None:
    # a note longer than the matcher reads, then her number: its closing quote opens no literal
    line = '{"note": "' + "x1 " * 200 + '", "phone": "+44 20 7946 0018", "first_name": "Ann",}'
    assert _phone_tokens(line) == ["+44 20 7946 0018"]


def test_escapes_are_decoded_and_literals_without_a_digit_are_not_read() -> None:
    line = '{"phone": "\\u002b44 20 7946 0018", "name": "Ann", "id": "7",'
    assert _phone_tokens(line) == ["+44 20 7946 0018", "7"]


def test_a_line_of_many_numbers_gives_the_matcher_a_bounded_count() -> None:
    line = ", ".join(f'"{n}"' for n in range(10_000))
    tokens = _phone_tokens(line)
    assert len(tokens) == 256
    assert tokens[:2] == ["0", "1"]
