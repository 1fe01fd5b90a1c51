"""A privacy request naming junk (hypothesis-generated text for an email or a phone) is refused with a
message that never repeats what was given: refusals are logged and returned."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import NormalisationError
from core.privacy import identifier_for

# Text with enough to recognise it (a repeated value is what must not leak), from every plane.
JUNK = st.text(min_size=6, max_size=40).filter(lambda t: len(t.strip()) >= 6)


@settings(max_examples=150, deadline=None)
@given(value=JUNK, as_email=st.booleans(), region=st.sampled_from(["US", "GB", "DE", "JP"]))
def test_a_refused_identifier_is_never_repeated_in_the_refusal(
    value: str, as_email: bool, region: str
) -> None:
    try:
        identifier = identifier_for(email=value) if as_email else identifier_for(phone=value, region=region)
    except (ValueError, NormalisationError) as error:
        message = str(error)
        assert value not in message
        assert value.strip() not in message
        assert message  # says what was wrong
        return
    # WHEN accepted, it is one normalised identifier of the kind asked for
    assert identifier.kind == ("email" if as_email else "phone")
    assert identifier.value


@settings(max_examples=150, deadline=None)
@given(value=JUNK | st.builds(lambda a, b: f"{a}:{b}", JUNK, JUNK))
def test_a_refused_record_id_is_never_repeated_and_an_accepted_one_is_three_parts(value: str) -> None:
    """``"source"`` (``--source``) junk: refused without repeating it, or one record id of three parts."""
    try:
        identifier = identifier_for(source=value)
    except ValueError as error:
        message = str(error)
        assert value.strip() not in message
        assert "<tool>:<object type>:<id>" in message
        return
    assert identifier.kind == "source"
    assert all(part.strip() for part in identifier.value.split(":", 2))
    assert identifier.value.count(":") >= 2
