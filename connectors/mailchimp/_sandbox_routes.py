"""The Mailchimp sandbox's routing: which part answers a request under ``/3.0/``, by its path and
method (the parts are listed in ``_sandbox``'s docstring). A path outside the one audience is 404, a
known path asked with another method 405, each as Mailchimp's problem document.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from . import _sandbox_audience as audience
from . import _sandbox_batch as batch
from . import _sandbox_list as listing
from . import _sandbox_members as members
from . import _sandbox_merge_fields as merge_fields

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox


def route(sb: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    """Answer one request by its path and method (after the kit's auth, limit and faults)."""
    sb._local.started = time.perf_counter()
    path = request.url.path
    if not path.startswith("/3.0/"):
        return sb._not_found()
    parts = [p for p in path[len("/3.0/") :].split("/") if p]
    if parts in (["ping"], ["lists"]):
        if request.method != "GET":
            return _method_not_allowed(sb)
        return audience.ping() if parts == ["ping"] else audience.get_lists(sb, request)
    if len(parts) < 2 or parts[0] != "lists":
        return sb._not_found()
    if parts[1] != sb.list_id:
        return sb._not_found()
    rest, method = parts[2:], request.method
    params = request.url.params
    routes: dict[tuple[str, ...], dict[str, Any]] = {
        (): {
            "GET": lambda: audience.get_list(sb, request),
            "POST": lambda: batch.subscribe(sb, request),
        },
        ("members",): {
            "GET": lambda: listing.list_members(sb, params),
            "POST": lambda: members.add(sb, request),
        },
        ("merge-fields",): {
            "GET": lambda: merge_fields.list_fields(sb, params),
            "POST": lambda: merge_fields.create(sb, request),
        },
    }
    if len(rest) == 2 and rest[0] == "members":
        routes[tuple(rest)] = {
            "GET": lambda: listing.get_member(sb, rest[1], params),
            "PUT": lambda: members.set_member(sb, request, rest[1]),
            "PATCH": lambda: members.update_member(sb, request, rest[1]),
            "DELETE": lambda: members.archive_member(sb, rest[1]),
        }
    if len(rest) == 4 and rest[0] == "members" and rest[2:] == ["actions", "delete-permanent"]:
        routes[tuple(rest)] = {"POST": lambda: members.delete_permanent(sb, rest[1])}
    handlers = routes.get(tuple(rest))
    if handlers is None:
        return sb._not_found()
    handler = handlers.get(method)
    if handler is None:
        return _method_not_allowed(sb)
    response: httpx.Response = handler()
    return response


def _method_not_allowed(sb: MailchimpSandbox) -> httpx.Response:
    return sb.problem(405, "Method Not Allowed", "The requested method and resource are not compatible.")
