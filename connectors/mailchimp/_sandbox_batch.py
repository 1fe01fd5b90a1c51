"""The Mailchimp sandbox's batch subscribe, ``POST /lists/{id}`` (at most 500 members, ``update_existing``,
per-member errors), and the merge-field values every write checks (numbers kept as numbers).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_seed as seeding
from ._cursor import format_time
from ._mapping import subscriber_hash
from ._sandbox_wire import INVALID

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox

MAX_BATCH: Final = 500
BATCH_STATUSES: Final = frozenset({"subscribed", "unsubscribed", "cleaned", "pending", "transactional"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _as_number(value: str | float) -> int | float | str:
    """A number merge field's value as Mailchimp answers it: 3, 12.5, or "" when empty."""
    if value == "" or isinstance(value, int | float):
        return value
    number = float(value)
    return int(number) if number.is_integer() and "." not in str(value) else number


# --- batch subscribe ---------------------------------------------------------------------------
def merge_errors(sb: MailchimpSandbox, merge: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """The merge values to store, or the first (tag, message) that Mailchimp would refuse."""
    if merge is None:
        return {}, None
    if not isinstance(merge, dict):
        return {}, ("merge_fields", "Merge fields must be an object")
    types = {f["tag"]: f["type"] for f in sb.merge_fields}
    clean: dict[str, Any] = {}
    for tag, value in merge.items():
        kind = types.get(tag)
        if kind is None:
            continue  # unknown tags are ignored
        if kind == "number":
            if isinstance(value, bool) or not (
                isinstance(value, int | float)
                or (isinstance(value, str) and (value == "" or _NUMBER.match(value)))
            ):
                return {}, (tag, "Please enter a number")
            # Mailchimp keeps a number field's value as a number and answers it as one.
            clean[tag] = _as_number(value)
            continue
        if kind == "date":
            if not (isinstance(value, str) and (value == "" or _DATE.match(value))):
                return {}, (tag, "Please enter the date in the format YYYY-MM-DD")
        elif kind == "address":
            if not (value == "" or isinstance(value, dict)):
                return {}, (tag, "Please enter a complete address")
        elif not isinstance(value, str | int | float):
            return {}, (tag, "Please enter a value")
        clean[tag] = value
    return clean, None


def subscribe(sb: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return sb.problem(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.")

    if not isinstance(body, dict) or not isinstance(body.get("members"), list):
        return sb._invalid(
            INVALID, [{"field": "members", "message": "Required fields were not provided: members"}]
        )
    items: list[Any] = body["members"]
    if len(items) > MAX_BATCH:
        return sb._invalid(
            INVALID, [{"field": "members", "message": f"A maximum of {MAX_BATCH} members is allowed"}]
        )
    update_existing = body.get("update_existing") is True
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []

    def fail(
        email: str, message: str, code: str = "ERROR_GENERIC", field: str | None = None, hint: str = ""
    ) -> None:
        entry: dict[str, Any] = {"email_address": email, "error": message, "error_code": code}
        if field:
            entry.update(field=field, field_message=hint)
        errors.append(entry)

    with sb.lock:
        now = sb.clock.now()
        for item in items:
            if not isinstance(item, dict):
                fail("", "Each member must be an object")
                continue
            email = str(item.get("email_address") or "").strip()
            status = item.get("status")
            if not sb.is_valid_address(email):
                fail(email, f"{email} looks fake or invalid, please enter a real email address.")
                continue
            if status not in BATCH_STATUSES:
                fail(
                    email,
                    "Invalid Resource",
                    field="status",
                    hint=f"Status must be one of {sorted(BATCH_STATUSES)}",
                )
                continue
            merge, bad = merge_errors(sb, item.get("merge_fields"))
            if bad is not None:
                fail(email, "Your merge fields were invalid.", field=bad[0], hint=bad[1])
                continue
            member_id = subscriber_hash(email)
            existing = sb.members.get(member_id)
            if existing is None:
                if sb.was_deleted(member_id):
                    fail(
                        email,
                        f"{email} was permanently deleted and cannot be re-imported. The contact must "
                        "re-subscribe to get back on the list.",
                    )
                    continue
                member = seeding.new_member(
                    sb,
                    email,
                    str(status),
                    merge,
                    now,
                    timestamp_opt=format_time(now) if status == "subscribed" else "",
                )
                sb.members[member_id] = member
                sb._index = None
                created.append(sb._view(member))
                continue
            if not update_existing:
                fail(
                    email,
                    f"{email} is already a list member, do you want to update? please provide "
                    "update_existing:true in the request body",
                    code="ERROR_CONTACT_EXISTS",
                )
                continue
            if status == "subscribed" and existing["status"] in ("unsubscribed", "cleaned"):
                fail(
                    email,
                    f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
                    "and cannot be subscribed.",
                )
                continue
            changed = existing["status"] != status or any(
                existing["merge_fields"].get(tag, "") != value for tag, value in merge.items()
            )
            if changed:
                if status == "subscribed" and existing["status"] != "subscribed":
                    existing["timestamp_opt"] = format_time(now)
                existing["status"] = status
                existing["merge_fields"].update(merge)
                existing["last_changed"] = format_time(now)
                sb._index = None
            updated.append(sb._view(existing))
    sb._spend(len(items))
    return json_response(
        200,
        {
            "new_members": created,
            "updated_members": updated,
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
            "_links": [],
        },
    )
