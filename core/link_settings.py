"""The ``identity`` section of the configuration document as ingest settings: which model, which
thresholds, on or off.

Loaded once per process (a cold start): the model file is read and checked the first time a
section names it, and the same ``LinkageSettings`` serve every batch after.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.config import IdentitySection
    from core.link_scope import LinkageSettings

__all__ = ["linkage_settings"]


def linkage_settings(section: IdentitySection, base: Path | None = None) -> LinkageSettings | None:
    """The settings ingest takes for ``section`` (None for ``mode: exact``); a relative model path
    is read from ``base`` (the document's folder). A bad model file raises ``InputError``."""
    if section.mode == "exact":
        return None
    model = None
    if section.model is not None:
        path = Path(section.model)
        model = str(path if path.is_absolute() or base is None else base / path)
    return _settings(model, section.link, section.review)


@lru_cache(maxsize=8)
def _settings(model_path: str | None, link: float | None, review: float | None) -> LinkageSettings:
    from core.link_scope import LinkageSettings
    from core.linkage import Thresholds, default_model, load_model

    model = load_model(model_path) if model_path is not None else default_model()
    if link is not None or review is not None:
        thresholds = Thresholds(
            link=link if link is not None else model.thresholds.link,
            review=review if review is not None else min(model.thresholds.review, link or 1.0),
        )
        # Validated afresh (not model_copy): the model's weight table is built for what it holds.
        model = type(model).model_validate({**model.model_dump(), "thresholds": thresholds.model_dump()})
    return LinkageSettings(model=model, model_name=Path(model_path).name if model_path else "default")
