"""attack31p: the worker's one compiled call a record (native/src/norm_record*.rs) brings no spelling of an
erased person back (a promise that holds on main).

``profilesync resolve`` normalises in its worker with ``profilesync_native.normalise_record`` when the
extension is built, and drops a record of an erased person by the identifiers and refused values of
that outcome (``SuppressionCheck.split``, in the resolving process). Her lines as people and tools
write them: her Gmail address with dots, a ``+tag``, googlemail, capitals, full-width letters or at
sign, a display name, ``mailto:``, a trailing dot, blanks around it; her phone nationally,
internationally with ``+44`` or ``0044``, with ``(0)``, dashes, full-width digits, a label; each as the
jsonl connector reads the line (``line_outcome``), in a GB deployment. For each, the compiled call's
outcome pickles to the Python function's bytes, and both are dropped after her erasure (her address,
its mailbox, her phone suppressed) while a stranger's line is kept.

Passes on main. Catches: a compiled outcome that differs from the Python function's in any byte (a
refused value left out of ``dropped``, an identifier written another way), and a check that does not
look her mailbox up (checked by taking the mailbox entry out of ``SUPPRESSED``: her googlemail, +tag and
dotted spellings are then kept, 4 tests fail).
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions
from core.schema import SourceRecord
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from tests.native_support import needs_native
from tests.unit.test_native30w_record_parity import OPTIONS, _both

pytestmark = needs_native

GB = NormaliseOptions(now=OPTIONS.now, default_region="GB")
SUPPRESSED = ("email#ann.lee@gmail.com", "mailbox#annlee@gmail.com", "phone#+442079460018")
HOUSEHOLD = "+1 201 200 2223"

EMAILS = [
    "Ann.Lee@Gmail.com",
    "a.n.n.l.e.e@gmail.com",
    "annlee+shop@gmail.com",
    "AnnLee@googlemail.com",
    "ANN.LEE@GMAIL.COM",
    "ａｎｎ.ｌｅｅ@gmail.com",
    "ann.lee＠gmail.com",
    "Ann Lee <ann.lee@gmail.com>",
    "mailto:ann.lee@gmail.com",
    " ann.lee@gmail.com\t",
    "ann.lee@gmail.com.",
    "ann.lee+@gmail.com",
]
PHONES = [
    "020 7946 0018",
    "+44 20 7946 0018",
    "0044 20 7946 0018",
    "+44 (0)20 7946 0018",
    "+44-20-7946-0018",
    "02079460018",
    "+44 20 7946 0018 (mobile)",
    "２０７９４６００１８",
]


def _check() -> SuppressionCheck:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, "attack31p-native")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(k), k.partition("#")[0], "req-1", at) for k in SUPPRESSED])  # type: ignore[arg-type]
    return check


def _outcomes(line: dict[str, Any]) -> tuple[Any, Any]:
    """The Python function's outcome and the compiled call's, after asserting they are the same bytes."""
    text = json.dumps(
        {"source": "crm", "id": "1", "updated_at": "2026-01-05T10:00:00Z", **line}, ensure_ascii=False
    )
    draft = line_outcome(1, text, len(text), "crm")
    expected, got, _ = _both(draft, GB)
    assert got == expected
    return pickle.loads(expected), pickle.loads(got)


def _dropped(check: SuppressionCheck, outcome: Any) -> bool:
    assert isinstance(outcome, SourceRecord), outcome
    _, dropped = check.split([outcome])
    return bool(dropped)


@pytest.mark.parametrize("email", EMAILS)
def test_her_address_in_any_spelling_is_dropped_both_ways(email: str) -> None:
    check = _check()
    # beside a household's phone: her record must not join the household's customer
    python, compiled = _outcomes({"email": email, "phone": HOUSEHOLD})
    assert _dropped(check, python)
    assert _dropped(check, compiled)


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("email", [None, "other@example.org"], ids=["alone", "beside-an-address"])
def test_her_phone_in_any_spelling_is_dropped_both_ways(phone: str, email: str | None) -> None:
    check = _check()
    python, compiled = _outcomes({"phone": phone, "country": "GB", **({"email": email} if email else {})})
    if not isinstance(python, SourceRecord):  # a label alone: quarantined both ways (the bytes equal)
        assert phone.endswith("(mobile)")
        assert email is None
        return
    assert _dropped(check, python)
    assert _dropped(check, compiled)


def test_control_a_stranger_is_kept_both_ways() -> None:
    check = _check()
    python, compiled = _outcomes({"email": "Bo.Lee@Gmail.com", "phone": HOUSEHOLD})
    assert not _dropped(check, python)
    assert not _dropped(check, compiled)
