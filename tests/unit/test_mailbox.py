"""core.mailbox: the mailbox key privacy uses is the matcher's email match key, loaded without the
matcher (the merge function's cold start in exact mode)."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.linkage import email_match_key
from core.linkage.email_keys import KNOWN_PROVIDER_DOMAINS
from core.mailbox import canonical_spelling, is_canonical, mailbox_key

LOCAL = st.text(alphabet="abcdefghij.+-_0123456789", min_size=1, max_size=20)
DOMAINS = st.sampled_from(sorted(KNOWN_PROVIDER_DOMAINS | {"example.com", "shop.example", "gmial.com"}))


@given(local=LOCAL, domain=DOMAINS)
def test_spellings_share_a_mailbox_exactly_when_the_matcher_folds_them(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    mailbox = mailbox_key(f"email#{address}")
    folded = email_match_key(address)
    if mailbox is None:
        # THEN a domain without a mailbox key is one whose addresses the matcher never folds
        assert email_match_key(f"a.b+c@{domain}") == f"a.b+c@{domain}"
    else:
        assert mailbox == f"mailbox#{folded}"
        assert canonical_spelling(mailbox) == f"email#{folded}"
        assert is_canonical(f"email#{address}", mailbox) == (folded == address)


def test_gmail_spellings_share_one_mailbox_and_other_domains_and_kinds_have_none() -> None:
    spellings = ["ann.smith@gmail.com", "annsmith@gmail.com", "a.nn.smith+shop@googlemail.com"]
    assert {mailbox_key(f"email#{s}") for s in spellings} == {"mailbox#annsmith@gmail.com"}
    assert mailbox_key("email#ann.smith@example.com") is None
    assert mailbox_key("phone#+15550100001") is None
    assert mailbox_key("source#crm:contact:1") is None


def test_checking_a_gmail_record_s_suppression_loads_none_of_the_matcher() -> None:
    # WHEN a fresh interpreter checks a record at Gmail against suppression, as merge does
    code = (
        "import sys\n"
        "from core.suppression import SuppressionCheck\n"
        "class Store:\n"
        "    def suppressed(self, hashes): return set()\n"
        "check = SuppressionCheck(Store(), 'salt')\n"
        "assert check.suppressed_keys(['email#ann.smith@gmail.com']) == set()\n"
        "assert check.guards(['email#ann.smith@gmail.com'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('core.linkage') or m == 'phonenumbers'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # THEN neither the matcher's package nor its heavy imports were loaded
    assert out.strip() == "[]"


def test_threads_asking_at_once_for_the_first_mailbox_key_all_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the matcher's email keys not loaded yet (a merge function's cold start), and a module
    # that takes a moment to run, as a real first import does
    import sys
    import threading
    import time

    from core import mailbox

    monkeypatch.delitem(sys.modules, "core.linkage.email_keys", raising=False)
    monkeypatch.delitem(sys.modules, mailbox._PRIVATE_NAME, raising=False)
    mailbox._match_key.cache_clear()
    slow = importlib.machinery.SourceFileLoader.exec_module

    def exec_slowly(self: Any, module: Any) -> None:
        time.sleep(0.05)
        slow(self, module)

    monkeypatch.setattr(importlib.machinery.SourceFileLoader, "exec_module", exec_slowly)
    # WHEN eight writers ask for a mailbox key at the same moment
    keys: list[str | None] = []
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            keys.append(mailbox.mailbox_key("email#ann.smith@gmail.com"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mailbox._match_key.cache_clear()
    # THEN every one gets the mailbox, none a half-loaded module
    assert errors == []
    assert keys == ["mailbox#annsmith@gmail.com"] * 8
