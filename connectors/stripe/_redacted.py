"""Objects Stripe redacted: read as deletions of their records.

A redaction job (``POST /v1/privacy/redaction_jobs``, what the connector's own ``erase`` runs, and
what a merchant runs in the Dashboard for a person's deletion request) keeps each customer and charge
under its id, "The string [redacted] or a similar placeholder replaces fields that contain personal
data. The metadata field is also redacted. You can't update redacted objects or use them for any
purpose" (https://docs.stripe.com/privacy/redaction-integration). API versions from 2026-06-24.preview
add a ``redaction`` hash to the Customer (and the Charge), whose ``status`` is ``processing`` while the
job runs and ``redacted`` once done (https://docs.stripe.com/changelog/dahlia/2026-06-24/customer-
object-redaction-details); older versions, the one the connector reads among them, show only the
placeholders. Either says the person's data is gone from Stripe for good.

Why ``processing`` is final: a redaction job (https://docs.stripe.com/api/privacy/redaction-job/object)
is ``created``, ``validating``, then ``ready`` or ``failed``, and can be cancelled only then ("The job
is canceled. No objects are redacted."); once run, "This action is irreversible and cannot be canceled
once started" (https://docs.stripe.com/api/privacy/redaction-job/run), and its objects say
``processing`` until done. Any other status (``validated``, which 2026-06-24.dahlia adds for an object
that "passed validation but isn't redacted yet", https://docs.stripe.com/changelog/dahlia/2026-06-24/
redaction-status-enum-validated-status, or one added later) is no redaction: a cancelled or failed job
leaves the data at Stripe, so the record is kept here, and the erasure's check asks Stripe for it
(connectors/stripe/_erase.py; tests/unit/connectors/stripe/test_priv26_redaction_states.py).

The object's draft becomes a
tombstone of its record (dated as the draft was), retired from its customer like a ``customer.deleted``
(core.retirement). Read as a version, it had no usable identifier and was quarantined, and the stored
version, her real name and address, stayed in her profile for ever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from core.schema import RecordDraft

#: What Stripe writes in place of a redacted value.
PLACEHOLDER: Final = "[redacted]"
#: The ``redaction.status`` values of an object whose redaction has been run (irreversible: above).
REDACTION_RUN: Final = frozenset({"processing", "redacted"})
#: The fields that hold personal data on a customer or a charge (a charge's in ``billing_details``).
_PERSONAL: Final = ("email", "name", "phone", "receipt_email")


def is_redacted(obj: Any) -> bool:
    """Whether a Stripe customer or charge (or an event's copy of one) has been redacted: its
    ``redaction.status`` says so, or its personal fields hold Stripe's placeholder and no other value
    (a name a person wrote as ``[redacted]`` beside her real address is no redaction)."""
    if not isinstance(obj, Mapping):
        return False
    redaction = obj.get("redaction")
    if isinstance(redaction, Mapping) and redaction.get("status") in REDACTION_RUN:
        return True
    details = obj.get("billing_details")
    holders = (obj, details) if isinstance(details, Mapping) else (obj,)
    values = [holder.get(name) for holder in holders for name in _PERSONAL]
    # A job replaces every personal value: a real one beside the placeholder is a person's own text.
    return PLACEHOLDER in values and all(v in (None, "", PLACEHOLDER) for v in values)


def as_deletion(draft: RecordDraft, obj: Any) -> RecordDraft:
    """The draft of ``obj`` as it is, or, for a redacted object, a tombstone of its record dated as
    the draft was (a draft that names no record stays as it is: normalisation quarantines it)."""
    if draft.problem or draft.deleted or not draft.source_id or not is_redacted(obj):
        return draft
    return RecordDraft(
        source=draft.source,
        object_type=draft.object_type,
        source_id=draft.source_id,
        updated_at=draft.updated_at,
        deleted=True,
    )


__all__ = ["PLACEHOLDER", "REDACTION_RUN", "as_deletion", "is_redacted"]
