"""The identity review function's requests (functions.identity_review.ReviewRequest): junk of any shape
is refused with a message, and whatever is accepted is a request the function can serve as given."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from functions.identity_review import ReviewRequest

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from(["action", "limit", "pair", "requested_by", "reason", "request_id", "email"])
ACTIONS = st.sampled_from(["list", "accept", "reject", "erase", "", "ACCEPT"])
PAIRS = st.one_of(st.from_regex(r"[0-9a-f]{32}", fullmatch=True), st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(
    event=st.dictionaries(FIELDS, JSON, max_size=5),
    action=st.none() | ACTIONS,
    pair=st.none() | PAIRS,
    who=st.none() | st.text(max_size=300),
)
def test_junk_is_refused_and_what_is_accepted_can_be_served(
    event: dict[str, Any], action: str | None, pair: str | None, who: str | None
) -> None:
    given_fields = {"action": action, "pair": pair, "requested_by": who}
    event.update({name: value for name, value in given_fields.items() if value is not None})
    refused: list[Any] = []
    try:
        request = ReviewRequest.model_validate(event)
    except ValidationError as error:
        refused = error.errors(include_input=False)
    if refused:
        # THEN the refusal names what is wrong (the function answers it as {"ok": false, "error": ...})
        assert all(e["msg"] for e in refused)
        return
    assert request.action in ("list", "accept", "reject")
    assert 1 <= request.limit <= 1000
    assert len(request.reason) <= 500
    if request.action == "list":
        assert request.pair is None
    else:
        assert request.pair is not None
        assert re.fullmatch(r"[0-9a-fA-F]{32}", request.pair)
        assert request.requested_by
