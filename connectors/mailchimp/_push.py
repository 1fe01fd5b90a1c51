"""Pushing to a Mailchimp audience: merge fields made once, members sent through batch subscribe; a
member that exists after all, or that Mailchimp will not re-subscribe, is looked up and sent again
with a status that keeps its own.

``MailchimpPush`` is mixed into ``MailchimpConnector`` (which sets its attributes).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from connectors._http import ConnectorRequestError, ConnectorUnavailableError
from core.connector import Payload, PushOutcome
from core.schema import Profile

from ._audience import PAGE_SIZE, MailchimpAudience
from ._mapping import MERGE_FIELDS, consent_from_status, plan_status, profile_to_payload, subscriber_hash

#: "Up to 500 members may be added or updated with each API call" (batch subscribe reference).
BATCH_SIZE: Final = 500


class MailchimpPush(MailchimpAudience):
    """``from_profile``, ``ensure_merge_fields`` and ``push`` of ``MailchimpConnector``."""

    _merge_lock: threading.Lock
    _merge_fields_ready: bool

    def from_profile(self, profile: Profile) -> Payload | None:
        """The member to send for a profile (see ``plan_status``), or None."""
        return profile_to_payload(profile)

    def ensure_merge_fields(self) -> list[str]:
        """Create the merge fields push needs that the audience lacks; once per instance. Returns the
        tags created."""
        with self._merge_lock:
            if self._merge_fields_ready:
                return []
            body = self._get(
                f"{self._list_path}/merge-fields",
                {"count": PAGE_SIZE, "fields": "merge_fields.tag,total_items"},
            )
            found = body.get("merge_fields")
            have = {f.get("tag") for f in found if isinstance(f, dict)} if isinstance(found, list) else set()
            created: list[str] = []
            for field in MERGE_FIELDS:
                if field.tag in have:
                    continue
                try:
                    self._client.post_json(
                        f"{self._list_path}/merge-fields",
                        json={
                            "tag": field.tag,
                            "name": field.name,
                            "type": field.type,
                            "required": False,
                            "public": False,
                        },
                    )
                except ConnectorRequestError as error:
                    # Another run created it between our read and our write.
                    if error.status == 400 and "already exists" in error.vendor_message:
                        continue
                    if error.status == 404:
                        raise self._list_missing(error) from None
                    raise
                created.append(field.tag)
            self._merge_fields_ready = True
            return created

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        """Send up to 500 members through batch subscribe; one outcome per payload, in order.

        Members planned with ``update_existing: false`` (people Mailchimp did not hold at the last
        pull) and the others go in one call each. Those that exist after all (ERROR_CONTACT_EXISTS)
        or that Mailchimp will not re-subscribe (compliance state) get their status looked up and are
        sent once more with a status that keeps it; every other per-member error is reported with
        Mailchimp's message and is not retryable (the data must change first); an address Mailchimp
        never takes is marked ``refused`` (``_refuses_address``).
        """
        if len(payloads) > BATCH_SIZE:
            raise ValueError(
                f"mailchimp: push takes at most {BATCH_SIZE} payloads per call, got {len(payloads)}"
            )
        if not payloads:
            return []
        self.ensure_merge_fields()
        outcomes: list[PushOutcome | None] = [None] * len(payloads)
        members = {i: dict(p.body["member"]) for i, p in enumerate(payloads)}
        recheck: list[int] = []
        for update_existing in (True, False):
            group = [
                i for i, p in enumerate(payloads) if bool(p.body.get("update_existing")) is update_existing
            ]
            if group:
                self._send(payloads, members, group, update_existing, outcomes, recheck)
        if recheck:
            self._recheck(payloads, members, recheck, outcomes)
        return [o if o is not None else self._unanswered(payloads[i]) for i, o in enumerate(outcomes)]

    @staticmethod
    def _unanswered(payload: Payload) -> PushOutcome:
        return PushOutcome(
            payload.customer_id, False, error="mailchimp: no answer for this member", retryable=True
        )

    def _send(
        self,
        payloads: Sequence[Payload],
        members: Mapping[int, dict[str, Any]],
        group: list[int],
        update_existing: bool,
        outcomes: list[PushOutcome | None],
        recheck: list[int] | None,
    ) -> None:
        try:
            # Upserting the same members twice leaves the same state, so retries are safe.
            body = self._client.post_json(
                self._list_path,
                json={"members": [members[i] for i in group], "update_existing": update_existing},
                idempotent=True,
            )
        except ConnectorUnavailableError as error:
            for i in group:
                outcomes[i] = PushOutcome(payloads[i].customer_id, False, error=str(error), retryable=True)
            return
        except ConnectorRequestError as error:
            if error.status == 404:
                raise self._list_missing(error) from None
            for i in group:
                outcomes[i] = PushOutcome(payloads[i].customer_id, False, error=str(error), retryable=False)
            return
        errors: dict[str, dict[str, Any]] = {}
        raw_errors = body.get("errors") if isinstance(body, dict) else None
        for entry in raw_errors if isinstance(raw_errors, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("email_address"), str):
                errors[entry["email_address"].strip().lower()] = entry
        for i in group:
            email = str(members[i].get("email_address", ""))
            entry = errors.get(email.strip().lower())
            if entry is None:
                outcomes[i] = PushOutcome(payloads[i].customer_id, True, remote_id=subscriber_hash(email))
            elif recheck is not None and _needs_status(entry, update_existing, members[i]):
                recheck.append(i)
            else:
                outcomes[i] = PushOutcome(
                    payloads[i].customer_id,
                    False,
                    error=_describe(entry),
                    retryable=False,
                    refused=_refuses_address(entry, email),
                )

    def _member_status(self, email: str) -> str | None:
        try:
            body = self._get(
                f"{self._list_path}/members/{subscriber_hash(email)}", {"fields": "status"}, list_scoped=False
            )
        except ConnectorRequestError as error:
            if error.status == 404:
                return None
            raise
        status = body.get("status")
        return status if isinstance(status, str) else None

    def _recheck(
        self,
        payloads: Sequence[Payload],
        members: Mapping[int, dict[str, Any]],
        indexes: list[int],
        outcomes: list[PushOutcome | None],
    ) -> None:
        with ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-status") as pool:
            statuses = list(
                pool.map(lambda i: self._member_status(str(members[i]["email_address"])), indexes)
            )
        resend: dict[int, dict[str, Any]] = {}
        for i, status in zip(indexes, statuses, strict=True):
            email = str(members[i]["email_address"])
            if status is None:
                outcomes[i] = PushOutcome(
                    payloads[i].customer_id,
                    False,
                    error="mailchimp: the member changed while being pushed (exists, then not found)",
                    retryable=True,
                )
                continue
            plan = plan_status(consent_from_status(str(members[i]["status"])), status)
            if plan is None:  # e.g. pending with no consent decision: nothing to tell Mailchimp
                outcomes[i] = PushOutcome(payloads[i].customer_id, True, remote_id=subscriber_hash(email))
                continue
            resend[i] = {**members[i], "status": plan.status}
        if resend:
            self._send(payloads, resend, list(resend), True, outcomes, None)


def _needs_status(entry: Mapping[str, Any], update_existing: bool, member: Mapping[str, Any]) -> bool:
    """Whether a per-member error means "look the status up and send again"."""
    if not update_existing:
        return entry.get("error_code") == "ERROR_CONTACT_EXISTS"
    message = str(entry.get("error", "")).lower()
    return member.get("status") == "subscribed" and "compliance state" in message


def _refuses_address(entry: Mapping[str, Any], email: str) -> bool:
    """Whether a per-member error refuses the address itself, for good: "... looks fake or invalid,
    please enter a real email address." for an address with UTF-8 in its prefix, which Mailchimp
    never takes (https://mailchimp.com/help/international-characters-in-mailchimp/). Other refusals
    of an address may pass later (a member permanently deleted may sign up again), or depend on the
    rest of the payload (merge fields): they stay failures, tried again."""
    return not email.partition("@")[0].isascii() and "looks fake or invalid" in str(entry.get("error", ""))


def _describe(entry: Mapping[str, Any]) -> str:
    message = str(entry.get("error") or "rejected").strip()
    field, field_message = entry.get("field"), entry.get("field_message")
    if isinstance(field, str) and field:
        message += f" ({field}: {field_message or 'invalid'})"
    code = entry.get("error_code")
    return f"mailchimp: {message}" + (f" [{code}]" if isinstance(code, str) and code else "")
