"""The compiled extension (native/, ``make native``) for its parity tests: a module skips with the
reason when it is not built (CI says why the build failed; here the tests say they skip)."""

from __future__ import annotations

from types import ModuleType

import pytest

try:
    import profilesync_native

    NATIVE: ModuleType | None = profilesync_native
    WHY = ""
except ImportError as error:
    NATIVE = None
    WHY = f"profilesync_native is not built (make native): {error}"

#: ``pytestmark = needs_native`` in a module whose tests compare the extension with the Python path.
needs_native = pytest.mark.skipif(NATIVE is None, reason=WHY or "built")
