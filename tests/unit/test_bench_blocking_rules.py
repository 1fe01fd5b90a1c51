"""bench.blocking_rules: a rule that alone finds a true link shows it when left out; a redundant one
does not."""

from __future__ import annotations

from dataclasses import replace

from bench.blocking_rules import Evidence, rule_table
from core.linkage import default_model, linkage_record
from core.linkage.blocking import RULES

TRAITS = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-03-07", "postal_code": "LS1 4AP"}


def _evidence() -> Evidence:
    records = [linkage_record("crm:1", TRAITS), linkage_record("shop:1", {**TRAITS, "city": "Leeds"})]
    return Evidence("two", records, default_model(), {("crm:1", "shop:1")}, [])


def test_leaving_out_the_only_rule_that_finds_a_pair_loses_it_and_a_copy_of_it_does_not() -> None:
    """GIVEN two records of Ann that the names rule pairs WHEN the table is made over the names rule
    alone THEN leaving it out loses the pair (F1 0); over the names rule and a copy of it, leaving
    either out loses nothing."""
    names = next(rule for rule in RULES if rule.prefix == "nn")
    alone = rule_table(_evidence(), [names])
    assert "every rule: R 1.0000 F1 1.0000" in alone[0]
    assert "R 0.0000 F1 0.0000 (-1.0000)" in alone[1]
    twice = rule_table(_evidence(), [names, replace(names, name="names_again", prefix="n2")])
    assert all("F1 1.0000 (+0.0000)" in line for line in twice[1:])
