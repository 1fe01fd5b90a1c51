"""revG24: core.grow_mark caches a rules fingerprint by the identity of the ``MergeRules`` object,
but ``MergeRules.per_trait`` was the caller's own mapping (a dict, or a ``MappingProxyType`` over
one): the rules changed in place kept their id, and so the fingerprint of the rules as they were.
The add-only path then planned batches under the new rules against winners picked under the old
(the mark is there to refuse exactly that)."""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

from core.grow_mark import rules_fingerprint
from core.merge import MergeRules, SurvivorshipRule


def test_rules_changed_in_place_are_fingerprinted_as_they_stand() -> None:
    # GIVEN rules over the caller's own mapping, fingerprinted once
    per_trait = {"channel": SurvivorshipRule()}
    rules = MergeRules(per_trait=MappingProxyType(per_trait))
    before = rules_fingerprint(rules)
    # WHEN the caller changes its mapping (a reloaded setting, rules changed back)
    per_trait["channel"] = SurvivorshipRule("first_seen")
    # THEN the fingerprint is that of the rules as they pick winners now
    picking = rules.rule_for("channel")
    assert rules_fingerprint(rules) == rules_fingerprint(MergeRules(per_trait={"channel": picking}))
    assert (rules_fingerprint(rules) == before) == (picking == SurvivorshipRule())


def test_a_plain_dict_is_taken_as_a_copy() -> None:
    per_trait = {"channel": SurvivorshipRule("first_seen")}
    rules = MergeRules(per_trait=per_trait)
    per_trait.clear()
    assert rules.rule_for("channel") == SurvivorshipRule("first_seen")
    assert rules == MergeRules(per_trait=MappingProxyType({"channel": SurvivorshipRule("first_seen")}))


def test_equal_thresholds_written_apart_give_one_fingerprint() -> None:
    # rules_fingerprint's promise, "equal rules, equal fingerprints": 1000, 1000.00 and 1E+3 are
    # one threshold (the rules compare equal, the segments they give are the same), and were three
    # fingerprints (each a full plan of every growing customer when a config spelled it otherwise)
    spellings = [MergeRules(vip_lifetime_value=Decimal(v)) for v in ("1000", "1000.00", "1E+3")]
    assert all(r == spellings[0] for r in spellings)
    assert {rules_fingerprint(r) for r in spellings} == {
        rules_fingerprint(MergeRules(vip_lifetime_value={"*": Decimal("1000")}))
    }
