"""tests/conftest.py remembers botocore's per-handler checks for the process: the answers stay
botocore's own, a handler without ``**kwargs`` is still refused, and a custom alias table is not shared."""

from __future__ import annotations

import inspect
from typing import Any

import botocore.handlers
import botocore.hooks
import botocore.session
import pytest


def test_every_handler_of_a_session_gets_botocore_s_own_answer() -> None:
    # GIVEN the handlers a new botocore session registers
    session = botocore.session.Session()
    handlers = [h for hs in session._events._emitter._handlers.prefix_search("") for h in hs]
    handlers += [h for _, h, *_ in botocore.handlers.BUILTIN_HANDLERS]
    assert len(handlers) > 50
    # WHEN the remembered check answers, twice THEN it answers what inspect says, as botocore asks it
    for handler in handlers:
        expected = inspect.getfullargspec(handler)[2]  # botocore.compat.accepts_kwargs
        assert botocore.hooks.accepts_kwargs(handler) == expected
        assert botocore.hooks.accepts_kwargs(handler) == expected


def test_a_handler_without_kwargs_is_still_refused() -> None:
    # GIVEN a handler that takes no **kwargs, asked about once with and once without them
    def takes_kwargs(**_: Any) -> None: ...

    def no_kwargs(request: Any) -> None: ...

    emitter = botocore.hooks.HierarchicalEmitter()
    emitter.register("before-send", takes_kwargs)
    # WHEN it is registered THEN botocore refuses it, as without the shared check
    with pytest.raises(ValueError, match="must accept keyword arguments"):
        emitter.register("before-send", no_kwargs)
    with pytest.raises(ValueError, match="must accept keyword arguments"):
        emitter.register("before-send", no_kwargs)


def test_sessions_share_their_event_names_and_a_custom_alias_table_does_not() -> None:
    # GIVEN two sessions' aliasers (botocore's own alias table) and one with a table of its own
    one = botocore.session.Session()._events
    two = botocore.session.Session()._events
    own = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter(), {"x": "y"})
    # WHEN names are aliased THEN the sessions share the answers, the custom table keeps its own
    assert one._alias_event_name("before-call.sdb.Query") == "before-call.simpledb.Query"
    assert one._alias_name_cache is two._alias_name_cache
    assert own._alias_name_cache is not one._alias_name_cache
    assert own._alias_event_name("a.x.b") == "a.y.b"
    assert one._alias_event_name("a.x.b") == "a.x.b"


def test_a_client_shares_its_session_s_event_names() -> None:
    # GIVEN a session and a client of it (its aliaser is a copy, with a copy of botocore's table)
    session = botocore.session.Session()
    client = session.create_client("dynamodb", region_name="us-east-1")
    copied = botocore.hooks.EventAliaser(botocore.hooks.HierarchicalEmitter(), {"x": "y"}).__copy__()
    # WHEN names are aliased THEN the client shares the session's answers, a copied custom table not
    assert client.meta.events._alias_name_cache is session._events._alias_name_cache
    assert client.meta.events._alias_event_name("before-call.sdb.Query") == "before-call.simpledb.Query"
    assert copied._alias_name_cache is not session._events._alias_name_cache
    assert copied._alias_event_name("a.x.b") == "a.y.b"
    assert client.meta.events._alias_event_name("a.x.b") == "a.x.b"
