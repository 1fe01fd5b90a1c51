"""Typed errors of the governed single view. Every message says what was wrong and what to do."""

from __future__ import annotations

from core.errors import ProfileSyncError


class PolicyError(ProfileSyncError):
    """The role policy document is malformed; the message names the entry and the fix."""


class AccessDeniedError(ProfileSyncError):
    """The caller is in no role of the policy, or its role may not read what was asked."""


class BadLookupError(ProfileSyncError, ValueError):
    """A profile lookup (``email=``, ``phone=``, ``source=``, a page token) cannot be used as given.

    Its message never repeats the email or phone: it is logged and returned to the caller."""


class SplitRefusedError(ProfileSyncError, ValueError):
    """A split from a history event cannot be made: the id names no merge event, the event is not in
    its customer's history, or what it names is no longer there to split. The state is unchanged."""


__all__ = ["AccessDeniedError", "BadLookupError", "PolicyError", "SplitRefusedError"]
