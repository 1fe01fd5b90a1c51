"""Probabilistic record linkage, pure: the same person found without a shared email or phone.

``linkage_record`` prepares a record's fields; ``blocking_keys`` files it for candidate search;
``score_pair`` and ``decide`` weigh a pair with a Fellegi-Sunter ``LinkageModel`` (``train_model``
fits one by EM, ``load_model`` reads one); ``conflict_evidence`` says what two records disagree on;
``link_records`` runs all of it over a set of records and returns the customers (connected
components) with the reason of every edge. See docs/identity.md.
"""

from core.linkage.blocking import (
    RULES,
    BlockingRule,
    Candidates,
    block_item_key,
    blocking_keys,
    candidate_pairs,
)
from core.linkage.comparisons import COMPARISONS, NULL, Comparison, comparison_named
from core.linkage.conflicts import Conflict, conflict_evidence, shared_identifier_conflicts, vetoing_conflicts
from core.linkage.email_keys import email_match_key, likely_typo_of
from core.linkage.fields import LinkageRecord, from_source_record, linkage_record
from core.linkage.linking import (
    DEFAULT_PEOPLE_LIMITS,
    Decision,
    Edge,
    LinkResult,
    Outcome,
    Refusal,
    decide,
    link_records,
)
from core.linkage.model import (
    MODEL_FORMAT,
    MODEL_VERSION,
    LinkageModel,
    Thresholds,
    default_model,
    load_model,
    parse_model,
    probability_from_weight,
)
from core.linkage.nicknames import are_nicknames
from core.linkage.scoring import FieldWeight, PairScore, comparison_vector, match_weight, score_pair
from core.linkage.training import train_model

__all__ = [
    "COMPARISONS",
    "DEFAULT_PEOPLE_LIMITS",
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "NULL",
    "RULES",
    "BlockingRule",
    "Candidates",
    "Comparison",
    "Conflict",
    "Decision",
    "Edge",
    "FieldWeight",
    "LinkResult",
    "LinkageModel",
    "LinkageRecord",
    "Outcome",
    "PairScore",
    "Refusal",
    "Thresholds",
    "are_nicknames",
    "block_item_key",
    "blocking_keys",
    "candidate_pairs",
    "comparison_named",
    "comparison_vector",
    "conflict_evidence",
    "decide",
    "default_model",
    "email_match_key",
    "from_source_record",
    "likely_typo_of",
    "link_records",
    "linkage_record",
    "load_model",
    "match_weight",
    "parse_model",
    "probability_from_weight",
    "score_pair",
    "shared_identifier_conflicts",
    "train_model",
    "vetoing_conflicts",
]
