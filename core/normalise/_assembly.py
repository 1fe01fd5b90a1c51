"""Which function the normalisers assemble their models with.

``core.schema.assemble_model`` by default. A caller may choose another that builds exactly the
same objects (the same ``__dict__`` object, the class's shared set of fields, no extra or private
values): the normalising worker of ``profilesync resolve`` chooses the optional compiled one
(``profilesync.resolve_native.worker_assembler``), which does it without a Python frame per model.
The functions that assemble read the chosen one from their own module's globals, so the choice
costs nothing a call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.schema import assemble_model

from . import _money, _record

__all__ = ["use_assembler"]


def use_assembler(assemble: Callable[[type[Any], dict[str, Any]], Any] | None) -> None:
    """Assemble the normalisers' models with ``assemble`` from now on (None: core.schema's own)."""
    chosen = assemble_model if assemble is None else assemble
    for module in (_money, _record):  # (their global, read at each call)
        module.__dict__["assemble_model"] = chosen
