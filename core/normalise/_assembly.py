"""Which functions the normalisers assemble their models and read email addresses with.

``core.schema.assemble_model`` by default. A caller may choose another that builds exactly the
same objects (the same ``__dict__`` object, the class's shared set of fields, no extra or private
values): the normalising worker of ``profilesync resolve`` chooses the optional compiled one
(``profilesync.resolve_native.worker_assembler``), which does it without a Python frame per model.
The functions that assemble read the chosen one from their own module's globals, so the choice
costs nothing a call. The same for the record's email addresses (``use_email_normaliser``): the
compiled one gives ``normalise_email``'s own result for the ASCII addresses its fast path decides
and calls it for the rest; and for a record's orders (``use_order_reader``): the compiled one reads
an order of the common shape as ``_order`` does and gives ``_order_general`` every other one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from core.schema import assemble_model

from . import _money, _record
from ._email import normalise_email

__all__ = ["use_assembler", "use_email_normaliser", "use_order_reader"]

_PYTHON_ORDER: Final = _money._order


def use_assembler(assemble: Callable[[type[Any], dict[str, Any]], Any] | None) -> None:
    """Assemble the normalisers' models with ``assemble`` from now on (None: core.schema's own)."""
    chosen = assemble_model if assemble is None else assemble
    for module in (_money, _record):  # (their global, read at each call)
        module.__dict__["assemble_model"] = chosen


def use_email_normaliser(normalise: Callable[[Any], str] | None) -> None:
    """Read a record's email addresses with ``normalise`` from now on (None: ``normalise_email``)."""
    _record.__dict__["normalise_email"] = normalise_email if normalise is None else normalise


def use_order_reader(read: Callable[[Any], Any] | None) -> None:
    """Read a record's orders with ``read`` from now on (None: core.normalise._money's ``_order``)."""
    _money.__dict__["_order"] = _PYTHON_ORDER if read is None else read
