"""revF23: the email normaliser's Unicode folding is not idempotent.

fix14's ``_fold_unicode`` (core/normalise/_email.py) put the address in NFKC, then removed the
default-ignorable characters and the joiners CONTEXTJ refuses. A removed character between two
combining marks leaves them out of canonical order (``_email_slow`` reorders them in NFC), and a
joiner kept after a virama then stands after another mark: normalising the stored identifier again
removes it, so the key a record is stored under is not the key its own address gives on the next
read (a second customer, an erasure by the stored spelling finding nothing). Every key is the fixed
point of the normaliser.
"""

from __future__ import annotations

import pytest

from core.normalise import normalise_email


@pytest.mark.parametrize(
    "written",
    [
        "\u0130\u115f\u094d\u00ad\u200c\u0628@example.com",
        "c\u200c\u0130\u3164\u094d\u200d@example.com",
        "\u0647\u0644\u0130\u200d\u094d\u200d@b\u00fccher.de",
        "\u094d\u0301\u034f\u094d\u200d\uff41@example.com",
    ],
)
def test_a_normalised_address_normalises_to_itself(written: str) -> None:
    once = normalise_email(written)
    assert normalise_email(once) == once
