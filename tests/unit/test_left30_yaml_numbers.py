"""left30: which plain YAML scalars core/documents.py reads as floats (revA29).

YAML 1.2's core schema leaves an exponent's sign out (``1.5e3`` is 1500.0); YAML 1.1, whose float
pattern core/documents.py kept, wanted it, so ``1.5e3`` stayed text while ``1.5e+3`` was a number.
And ``01.5`` read as 1.5 while ``0123`` stays text (a list id of digits keeps its spelling). Decided:
a float with a decimal point reads as YAML 1.2 reads it, whatever its exponent's sign; a leading zero
keeps the text written, for a float as for an integer; an exponent without a decimal point stays
text, as a hexadecimal id of digits and one ``e`` is no number (docs/configuration.md).
"""

from __future__ import annotations

import pytest

from core.config import parse_config
from core.documents import load_json, load_yaml


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("1.5e3", 1500.0),  # text before: YAML 1.1 wanted the exponent's sign
        ("1.5e+3", 1500.0),
        ("1.5E3", 1500.0),
        ("2.5e-3", 0.0025),
        ("-1.5e3", -1500.0),
        ("-.5", -0.5),  # text before: a sign before ``.5``
        ("+.5e1", 5.0),
        ("0.5", 0.5),
        ("1_000.5", 1000.5),
    ],
)
def test_a_float_with_a_decimal_point_reads_as_yaml_1_2_reads_it(written: str, number: float) -> None:
    # GIVEN a plain scalar written as a decimal float WHEN read THEN it is the number YAML 1.2 reads
    value = load_yaml(f"value: {written}\n")["value"]
    assert not isinstance(value, str)
    assert value == number


@pytest.mark.parametrize(
    "written",
    [
        "01.5",  # 1.5 before: a leading zero keeps the text, as ``0123`` does
        "00.5",
        "-01.5e3",
        "1e3",  # no decimal point: a hexadecimal id (``12345e6789``) is no number
        "12345e6789",
        "0123",
        "1:30",
    ],
)
def test_a_leading_zero_or_an_exponent_without_a_point_keeps_the_text_written(written: str) -> None:
    # GIVEN a plain scalar a number and an id of digits could both be WHEN read THEN it is its text
    assert load_yaml(f"value: {written}\n")["value"] == written


def test_a_threshold_written_with_or_without_its_exponents_sign_is_read_the_same() -> None:
    # GIVEN two documents giving a threshold as 1.5e3 and as 1.5e+3
    read = [
        parse_config(f"segments:\n  vip_lifetime_value:\n    EUR: {written}\n", "profilesync.yaml")
        for written in ("1.5e3", "1.5e+3")
    ]
    # WHEN read as configuration THEN both are one number, spelt alike (before: the text "1.5e3" made
    # Decimal('1.5E+3'), the float 1500.0 Decimal('1500.0')), as a JSON document reads both (whether
    # a float reads as a binary float or as its text: attack30's test_attack30_yaml_real_world.py)
    first, second = (c.segments.vip_lifetime_value["EUR"] for c in read)
    assert (repr(first), first) == (repr(second), 1500)
    assert load_json('{"v": 1.5e3}')["v"] == load_yaml("v: 1.5e3\n")["v"] == 1500.0
