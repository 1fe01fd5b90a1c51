"""The reads of one erasure's scope (core.person_scope.find_scope), each asked of the store once.

Finding a person reads the store and writes nothing. A person far past her address's guardrail has
dozens of split-off customers (core.scope_splinters), and the scope of each asks the same questions
again: who owns her values, which customers the holder markers under them name, where each of those
customers leads. On DynamoDB each question is a Query or a BatchGetItem round trip. ``ScopeReads``
wraps a store for one ``find_scope``: the keyed reads (``get_owners``, ``get_owners_and_tombstones``,
``get_profiles``, ``get_customers``, ``holders``, ``customer_items``) answer a key they were asked
before from what they returned then, and ask the store only for the others; everything else goes to
the store as it is. An erasure that loses a race reads its scope again with a new ``find_scope``,
so a new memo: nothing read before a write is taken for the state after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

#: The reads taking a sequence of keys and answering a dict with the keys found.
_BATCHED = frozenset({"get_owners", "get_owners_and_tombstones", "get_profiles", "get_customers", "holders"})
#: The reads taking one key.
_SINGLE = frozenset({"customer_items"})
_ABSENT = object()


class ScopeReads:
    """``store`` with its keyed reads memoised (see the module docstring)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._memo: dict[str, dict[Any, Any]] = {}
        self.asked = 0
        """Read calls passed to the store (for tests and benches)."""

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)  # AttributeError when the store has no such read
        if name in _BATCHED:
            return self._batched(name, real)
        if name in _SINGLE:
            return self._single(name, real)
        return real

    def _batched(self, name: str, real: Callable[[Sequence[str]], dict[str, Any]]) -> Any:
        memo = self._memo.setdefault(name, {})

        def read(keys: Sequence[str]) -> dict[str, Any]:
            wanted = list(dict.fromkeys(keys))
            missing = [k for k in wanted if k not in memo]
            if missing:
                self.asked += 1
                found = real(missing)
                for key in missing:
                    memo[key] = found.get(key, _ABSENT)
            return {k: memo[k] for k in wanted if memo[k] is not _ABSENT}

        return read

    def _single(self, name: str, real: Callable[[str], Any]) -> Any:
        memo = self._memo.setdefault(name, {})

        def read(key: str) -> Any:
            if key not in memo:
                self.asked += 1
                memo[key] = real(key)
            return memo[key]

        return read


__all__ = ["ScopeReads"]
