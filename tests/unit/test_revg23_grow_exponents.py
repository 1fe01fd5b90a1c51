"""revG23: core.grow_profile's promise is the rebuild's profile byte for byte (its JSON and its hash),
but tests/unit/test_grow_profile.py compares models with ``==``, under which ``Decimal("10.00")``
equals ``Decimal("10")``: the exponent of a total, which the stored JSON and the content hash
carry, is not compared there (its property stays green with ``_keeps_exponent``'s minor-units
condition removed; only the explicit example test goes red). Here a case is compared as JSON."""

from __future__ import annotations

from tests.unit.test_grow_profile import _child, _grow, _rebuilt


def test_taking_out_an_amount_beside_coarser_ones_keeps_the_rebuilds_exponent() -> None:
    # Red before grow24 (a strict xfail): the grown total was 10.00. Now grown_profile relies on the
    # minor units only when told every stored amount has them (the add-only mark, core.grow_mark).
    # GIVEN 5 and 5 (coarser than GBP's two places) around 1.00, WHEN 1.00 is cancelled
    stored = [_child("shop", 1, 1, "5"), _child("shop", 2, 2, "1.00"), _child("shop", 3, 3, "5")]
    batch = [_child("shop", 2, 3, "1.00", status="cancelled")]
    grown = _grow(stored, batch)
    # THEN the total is the rebuild's, 10, as JSON too (or the rebuild is asked for)
    assert grown is None or grown.model_dump_json() == _rebuilt(stored, batch).model_dump_json()  # type: ignore[attr-defined]
