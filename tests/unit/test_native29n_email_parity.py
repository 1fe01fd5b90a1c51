"""The normalising worker's email addresses read by native/src/norm_email.rs are the Python path's.

``profilesync_native.normalise_email`` decides in compiled code only the ASCII addresses that
``core.normalise.normalise_email``'s one regex decides, and calls the Python function for
everything else. The Python function is the oracle: on any text (any Unicode, non-BMP, combining
and RTL marks, NUL, fullwidth, 500-fold text), on ASCII built from an address's characters and
Python's whitespace (including the separators 0x1C-0x1F, which ``str.strip`` removes), on
addresses with ``+tags``, dots, IDN domains, quoted local parts and ``--`` in the domain, and on
values that are not text, both give the same string or raise the same error.

Mutations this catches (each built and run): leaving out the ``--`` check (``ann@ab--c.de``, which
idna refuses); a local part of 65 characters taken; a last label of digits taken
(``ann@example.123``). (Stripping without 0x1C-0x1F writes the same bytes: such an address is then
no match and goes to Python, so that mutation changes only which path runs.)
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.normalise._record as record_module
import profilesync.resolve_native as resolve_native
from core.normalise import normalise_email, use_email_normaliser
from tests.native_support import NATIVE, needs_native

pytestmark = needs_native

_ADDRESS_ASCII = "abcAZ019.-+_@!#$%&'*/=?^`{|}~\"() \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7f"

real_world = st.sampled_from(
    [
        "ann@example.com",
        " Ann.Lee+news@Example.COM\t",
        "ann..lee@example.com",
        ".ann@example.com",
        "ann.@example.com",
        '"ann lee"@example.com',
        "ann@bücher.de",
        "ann@xn--bcher-kva.de",
        "ann@b--c.de",
        "ann@ab--c.de",
        "ann@xn--zz.de",
        "ann@-example.com",
        "ann@example-.com",
        "ann@example.123",
        "ann@example.c0m",
        "ann@10.0.0.1",
        "ann@[10.0.0.1]",
        "ann@localhost",
        "a" * 64 + "@example.com",
        "a" * 65 + "@example.com",
        "ann@" + "b" * 63 + ".com",
        "ann@" + "b" * 64 + ".com",
        "ann@" + ("b" * 60 + ".") * 4 + "com",
        "ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "ann\u200f@example.com",
        "ann\ud800@example.com",  # a lone surrogate: not UTF-8, the Python function says why
        "ann\u0301@example.com",
        "ann@exa\u200bmple.com",
        "rāma@example.com",
        "ann\x00@example.com",
        "ann@@example.com",
        "ann@example.com\x1c",
        "\x1fann@example.com",
        "ann@example.com\x85",
        "İnci@example.com",
        "x" * 300,
        "",
        "   ",
    ]
)
values: st.SearchStrategy[Any] = (
    real_world
    | st.text(alphabet=_ADDRESS_ASCII, max_size=40)
    | st.builds(
        lambda local, domain, tld: f"{local}@{domain}.{tld}",
        st.text(alphabet="abcAB09.-+_", min_size=0, max_size=70),
        st.text(alphabet="abcAB09.-", min_size=0, max_size=70),
        st.text(alphabet="abcZ09-", min_size=0, max_size=5),
    )
    | st.text()
    | st.text(alphabet=st.characters(min_codepoint=0x10000), max_size=5).map(lambda t: f"a{t}@example.com")
    | st.text(max_size=3).map(lambda t: t * 500)
    | st.none()
    | st.integers()
    | st.lists(st.text(max_size=3), max_size=2)
)


def _outcome(normalise: Any, value: Any) -> tuple[str, str]:
    try:
        return "value", normalise(value)
    except Exception as error:  # (the error is what is compared)
        return type(error).__name__, str(error)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=values)
@example(value="ann@example.com\x1c")
@example(value="ann@ab--c.de")
def test_an_address_reads_as_the_python_path_reads_it(value: Any) -> None:
    """GIVEN any value WHEN read by the compiled function and by ``normalise_email``
    THEN the same address, or the same error."""
    assert NATIVE is not None
    assert _outcome(NATIVE.normalise_email, value) == _outcome(normalise_email, value)


def test_the_worker_chooses_the_compiled_reader_and_none_restores_the_python_one(
    monkeypatch: Any,
) -> None:
    """GIVEN the extension on or off WHEN the worker asks THEN native's function or None; and
    ``use_email_normaliser`` sets what ``normalise_record`` reads a record's addresses with."""
    assert NATIVE is not None
    monkeypatch.setattr(resolve_native, "_MODULE", NATIVE)
    try:
        use_email_normaliser(resolve_native.worker_email_normaliser())
        assert record_module.normalise_email is NATIVE.normalise_email
    finally:
        use_email_normaliser(None)
    assert record_module.normalise_email is normalise_email
    monkeypatch.setattr(resolve_native, "_MODULE", None)
    assert resolve_native.worker_email_normaliser() is None
