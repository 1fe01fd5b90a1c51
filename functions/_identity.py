"""The identity settings the functions resolve with: merge's, for the others that need them (a review
decision's re-resolution, the privacy export's explanation, the profile API's explain).

``IDENTITY_MODE`` (template.yaml's ``IdentityMode``) gates it: in exact mode nothing is imported, so
merge's module and the matcher stay out of the other functions' first request.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.pipeline import IngestSettings

__all__ = ["identity_settings"]


def identity_settings() -> IngestSettings | None:
    """Merge's ingest settings (``IDENTITY_MODE``, the document's identity section); None in exact mode."""
    if os.environ.get("IDENTITY_MODE", "exact").strip() != "probabilistic":
        return None
    from core.pipeline import IngestSettings
    from functions.merge import identity_linkage

    linkage = identity_linkage()
    return None if linkage is None else IngestSettings(linkage=linkage)
