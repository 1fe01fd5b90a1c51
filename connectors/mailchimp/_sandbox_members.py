"""The Mailchimp sandbox's single-member writes, as mailchimp-marketing's ``lists`` API calls them.

* ``POST /lists/{list_id}/members`` (``add_list_member``): a new member with ``email_address`` and
  ``status``; an address already on the list is 400 "Member Exists", a permanently deleted one 400
  "Forgotten Email Not Subscribed".
* ``PUT /lists/{list_id}/members/{subscriber_hash}`` (``set_list_member``): add or update; a new
  member takes ``status_if_new`` (required, with ``email_address``), an existing one ``status`` if
  given.
* ``PATCH /lists/{list_id}/members/{subscriber_hash}`` (``update_list_member``): update a member
  Mailchimp holds; 404 for anyone else, so a PATCH never adds anyone. A new ``email_address`` moves
  the member to it, as Mailchimp does (the spec's request body takes ``email_address``): a new ``id``
  (the MD5 of the new address) and ``unique_email_id``, the same ``contact_id``, ``last_changed``
  moved; the old id is then found nowhere. An address another member has is 400 "Member Exists", a
  permanently deleted one 400 "Forgotten Email Not Subscribed".

Every write checks statuses (``subscribed``, ``unsubscribed``, ``cleaned``, ``pending``,
``transactional``) and merge fields as batch subscribe does (numbers stored as numbers), refuses to
subscribe an unsubscribed or cleaned member (400 "Member In Compliance State"), and moves
``last_changed`` only when something changed. Sources: the endpoints' entries in
``specs/mailchimp-marketing-3.0.55.json.gz`` and https://mailchimp.com/developer/marketing/docs/errors/.

``DELETE .../members/{subscriber_hash}`` archives the member (204; it stays listed, status
"archived"); ``POST .../members/{subscriber_hash}/actions/delete-permanent`` deletes it for good (204,
then 404; its address cannot be re-imported).

Simplification: ``PUT`` does not change an address (it answers 400 saying so); ``PATCH`` does.

Every path takes the subscriber hash, the address, or the member's ``contact_id`` (the spec: "This
endpoint also accepts a list member's email address or contact_id").
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import forgotten, json_response

from . import _sandbox_batch as batch
from . import _sandbox_seed as seeding
from . import _sandbox_wire as wire
from ._cursor import format_time
from ._mapping import subscriber_hash

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox

STATUSES: Final = frozenset({"subscribed", "unsubscribed", "cleaned", "pending", "transactional"})
_OPTIONAL_TEXT: Final = ("language", "email_type")


class _RefusedError(Exception):
    """A write Mailchimp answers with an error document."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _body(sandbox: MailchimpSandbox, request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise _RefusedError(
            sandbox.problem(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.")
        ) from None
    if not isinstance(body, dict):
        raise _RefusedError(sandbox._invalid("The resource submitted could not be validated.", []))
    return body


def _status(sandbox: MailchimpSandbox, value: Any, field: str) -> str:
    if value not in STATUSES:
        raise _RefusedError(
            sandbox._invalid(
                "The resource submitted could not be validated. For field-specific details, see the "
                "'errors' array.",
                [{"field": field, "message": f"Status must be one of {sorted(STATUSES)}"}],
            )
        )
    return str(value)


def _merge(sandbox: MailchimpSandbox, raw: Any) -> dict[str, Any]:
    merge, bad = batch.merge_errors(sandbox, raw)
    if bad is not None:
        raise _RefusedError(
            sandbox._invalid("Your merge fields were invalid.", [{"field": bad[0], "message": bad[1]}])
        )
    return merge


def _email(sandbox: MailchimpSandbox, value: Any) -> str:
    email = str(value or "").strip()
    if not sandbox.is_valid_address(email):
        raise _RefusedError(
            sandbox._invalid(f"{email} looks fake or invalid, please enter a real email address.")
        )
    return email


def _new_address(
    sandbox: MailchimpSandbox, member: dict[str, Any], body: dict[str, Any], moves: bool
) -> str | None:
    """The address a write moves the member to, or None; refused when it cannot move there."""
    if "email_address" not in body or subscriber_hash(str(body["email_address"])) == member["id"]:
        return None
    if not moves:
        raise _RefusedError(
            sandbox._invalid("The sandbox changes a member's email address by PATCH only, not by PUT")
        )
    email = _email(sandbox, body["email_address"])
    if subscriber_hash(email) in sandbox.members:
        raise _RefusedError(sandbox.problem(400, "Member Exists", f"{email} is already a list member."))
    _refuse_forgotten(sandbox, email)
    return email


def _refuse_forgotten(sandbox: MailchimpSandbox, email: str) -> None:
    """Refuse an address that was permanently deleted: Mailchimp never takes it again by API."""
    if sandbox.was_deleted(subscriber_hash(email)):
        raise _RefusedError(
            sandbox.problem(
                400,
                "Forgotten Email Not Subscribed",
                f"{email} was permanently deleted and cannot be re-imported. The contact must re-subscribe "
                "to get back on the list.",
            )
        )


def _apply(
    sandbox: MailchimpSandbox,
    member: dict[str, Any],
    body: dict[str, Any],
    status: str | None,
    *,
    moves: bool = False,
) -> None:
    """Apply a PUT or PATCH (``moves``: it may change the address) to an existing member (call under
    ``sandbox.lock``). Everything is checked before anything changes."""
    email = _new_address(sandbox, member, body, moves)
    merge = _merge(sandbox, body.get("merge_fields"))
    if status == "subscribed" and member["status"] in ("unsubscribed", "cleaned"):
        raise _RefusedError(
            sandbox.problem(
                400,
                "Member In Compliance State",
                f"{member['email_address']} is in a compliance state due to unsubscribe, bounce, or "
                "compliance review and cannot be subscribed.",
            )
        )
    now = sandbox.clock.now()
    changed = False
    if email is not None:
        sandbox.move_member(member, email)
        changed = True
    if status is not None and status != member["status"]:
        if status == "subscribed":
            member["timestamp_opt"] = format_time(now)
        member["status"] = status
        changed = True
    for tag, value in merge.items():
        if member["merge_fields"].get(tag, "") != value:
            member["merge_fields"][tag] = value
            changed = True
    for name in _OPTIONAL_TEXT:
        if isinstance(body.get(name), str) and body[name] != member.get(name):
            member[name] = body[name]
            changed = True
    if isinstance(body.get("vip"), bool) and body["vip"] != member.get("vip"):
        member["vip"] = body["vip"]
        changed = True
    if changed:
        first, last = member["merge_fields"].get("FNAME", ""), member["merge_fields"].get("LNAME", "")
        member["full_name"] = " ".join(str(p) for p in (first, last) if p)
        member["last_changed"] = format_time(now)
        sandbox._index = None


def _create(sandbox: MailchimpSandbox, email: str, status: str, body: dict[str, Any]) -> dict[str, Any]:
    merge = _merge(sandbox, body.get("merge_fields"))
    member_id = subscriber_hash(email)
    _refuse_forgotten(sandbox, email)
    now = sandbox.clock.now()
    member = seeding.new_member(
        sandbox,
        email,
        status,
        merge,
        now,
        timestamp_opt=format_time(now) if status == "subscribed" else "",
        language=str(body.get("language") or ""),
    )
    sandbox.members[member_id] = member
    sandbox._index = None
    return member


def _answer(sandbox: MailchimpSandbox, member: dict[str, Any], request: httpx.Request) -> httpx.Response:
    return json_response(200, wire.shape(sandbox._view(member), request.url.params))


def add(sandbox: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    """``POST /lists/{list_id}/members``."""
    try:
        body = _body(sandbox, request)
        email = _email(sandbox, body.get("email_address"))
        status = _status(sandbox, body.get("status"), "status")
        with sandbox.lock:
            if subscriber_hash(email) in sandbox.members:
                raise _RefusedError(
                    sandbox.problem(
                        400,
                        "Member Exists",
                        f"{email} is already a list member. Use PUT to insert or update list members.",
                    )
                )
            member = _create(sandbox, email, status, body)
            return _answer(sandbox, member, request)
    except _RefusedError as refused:
        return refused.response


def set_member(sandbox: MailchimpSandbox, request: httpx.Request, key: str) -> httpx.Response:
    """``PUT /lists/{list_id}/members/{subscriber_hash}``: add or update."""
    try:
        body = _body(sandbox, request)
        email = _email(sandbox, body.get("email_address"))
        status = _status(sandbox, body["status"], "status") if "status" in body else None
        with sandbox.lock:
            member = sandbox.find_member(key)
            if member is not None:
                _apply(sandbox, member, body, status)
                return _answer(sandbox, member, request)
            if key.lower() not in (subscriber_hash(email), email.lower()):
                raise _RefusedError(
                    sandbox._invalid(
                        f"The subscriber hash {key} is not the MD5 of {email}'s lower-cased address."
                    )
                )
            if "status_if_new" not in body:
                raise _RefusedError(
                    sandbox._invalid(
                        "The resource submitted could not be validated. For field-specific details, see the "
                        "'errors' array.",
                        [
                            {
                                "field": "status_if_new",
                                "message": "Required fields were not provided: status_if_new",
                            }
                        ],
                    )
                )
            new_status = _status(sandbox, body["status_if_new"], "status_if_new")
            member = _create(sandbox, email, new_status, body)
            return _answer(sandbox, member, request)
    except _RefusedError as refused:
        return refused.response


def update_member(sandbox: MailchimpSandbox, request: httpx.Request, key: str) -> httpx.Response:
    """``PATCH /lists/{list_id}/members/{subscriber_hash}``: update a member Mailchimp holds."""
    try:
        body = _body(sandbox, request)
        status = _status(sandbox, body["status"], "status") if "status" in body else None
        with sandbox.lock:
            member = sandbox.find_member(key)
            if member is None:
                return sandbox._not_found()
            _apply(sandbox, member, body, status, moves=True)
            return _answer(sandbox, member, request)
    except _RefusedError as refused:
        return refused.response


def delete_permanent(sandbox: MailchimpSandbox, member_id: str) -> httpx.Response:
    with sandbox.lock:
        found = sandbox.find_member(member_id)
        member = sandbox.members.pop(found["id"], None) if found is not None else None
        sandbox._index = None
        if member is not None:
            # Mailchimp remembers that the address was deleted (it refuses a re-import); the
            # sandbox keeps a digest of the member id, not the id (which is the address's hash).
            sandbox.deleted.add(forgotten(member["id"]))
    if member is None:
        return sandbox._not_found()
    sandbox._spend(0)
    return httpx.Response(204)


def archive_member(sandbox: MailchimpSandbox, member_id: str) -> httpx.Response:
    """``DELETE .../members/{hash}``: archive the member (204); it stays listed, status "archived"."""
    with sandbox.lock:
        member = sandbox.find_member(member_id)
        if member is None or member["status"] == "archived":
            return sandbox._not_found()
        sandbox._archive(member, sandbox.clock.now())
    return httpx.Response(204)


__all__ = ["STATUSES", "add", "archive_member", "delete_permanent", "set_member", "update_member"]
