"""moto's ``requests`` interceptors built once per process instead of at every ``mock_aws()`` start.

Each start of ``mock_aws()`` (every DynamoDB test, hypothesis example and kill point enters one)
registers a ``CallbackResponse`` with the ``responses`` library for each of 7 HTTP methods and 184
service URL patterns, plus a "not implemented" catch-all per method: 1,295 objects whose
constructors (URL checks, deprecation checks) were nearly all of a mock's start, ~30 ms of CPU
under a profiler. What they hold is a function of moto's static URL table and its callbacks, so they
are built once; each start registers the same objects in the same order with their call lists
emptied, as new ones would be, and each stop resets the registry as before (moto's ``reset``).

A start that finds anything already registered (``mock_aws(reset=False)`` nested in a kept
registry) or another registry than moto's own is left to moto's code. tests/conftest.py applies it
once per process; tests/unit/test_moto_start_shared.py holds the registry to moto's own.
"""

from __future__ import annotations

from typing import Any

_built: dict[tuple[Any, ...], list[Any]] = {}


def _interceptors(methods: tuple[str, ...], patterns: tuple[Any, ...]) -> list[Any]:
    """The responses moto's ``_enable_patching`` adds, in its order (each method: its patterns,
    then the catch-all), built on the first call for this URL table."""
    key = (methods, patterns)
    found = _built.get(key)
    if found is None:
        import re

        from moto.core.custom_responses_mock import CallbackResponse, not_implemented_callback
        from moto.core.models import botocore_stubber

        found = []
        catch_all = re.compile(r"https?://.+\.amazonaws.com/.*")
        for method in methods:
            for pattern in patterns:
                found.append(
                    CallbackResponse(
                        method=method, url=pattern, callback=botocore_stubber.process_prepared_request
                    )
                )
            found.append(CallbackResponse(method=method, url=catch_all, callback=not_implemented_callback))
        _built.clear()
        _built[key] = found
    return found


def build_interceptors_once() -> None:
    """``MockAWS._enable_patching`` registers the responses built once (see the module docstring)."""
    import moto.core.models as models
    from moto.backend_index import backend_url_patterns
    from moto.core.responses_custom_registry import CustomRegistry

    original = models.MockAWS._enable_patching
    if getattr(original, "__wrapped__", None) is not None:
        return

    def enable_patching(self: Any, reset: bool = True) -> None:
        if reset:
            self.reset()
        registry = models.responses_mock._registry
        if type(registry) is not CustomRegistry or registry.registered:
            original(self, reset=False)  # moto's own code, from the registry as it is
            return
        models.botocore_stubber.enabled = True
        models.responses_mock.start()
        methods = tuple(models.RESPONSES_METHODS)
        patterns = tuple(pattern for _, pattern in backend_url_patterns)
        for response in _interceptors(methods, patterns):
            response.calls.reset()
            registry.add(response)

    setattr(enable_patching, "__wrapped__", original)  # noqa: B010
    models.MockAWS._enable_patching = enable_patching  # type: ignore[method-assign]


def draw_request_ids_at_once() -> None:
    """moto's request id for every response, its 52 letters and digits drawn in one call.

    ``gen_amzn_requestid_long`` calls ``random.choice`` once per character (52 calls, ~2% of a
    DynamoDB-on-moto test's CPU under a profiler); ``choices(pool, k=52)`` draws from the same pool
    with the same generator (moto's ``mock_random``, which ``moto_api`` seeds), and sets the header
    as moto does.
    """
    import string

    import moto.core.responses as responses
    import moto.utilities.aws_headers as aws_headers
    from moto.moto_api._internal import mock_random

    original = aws_headers.gen_amzn_requestid_long
    if getattr(original, "__wrapped__", None) is not None:
        return
    pool = string.ascii_letters + string.digits  # get_random_string(length=52)'s pool

    def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
        req_id = "".join(mock_random.choices(pool, k=52))
        if headerdict is not None and isinstance(headerdict, dict):
            headerdict.update({"x-amzn-requestid": req_id})
        return req_id

    setattr(gen_amzn_requestid_long, "__wrapped__", original)  # noqa: B010
    aws_headers.gen_amzn_requestid_long = gen_amzn_requestid_long
    responses.gen_amzn_requestid_long = gen_amzn_requestid_long  # type: ignore[attr-defined]


def stamp_request_ids_only_where_asked() -> None:
    """moto's XML request id written into a response body only when the body has a ``<RequestId>``.

    ``BaseResponse._enrich_response`` runs ``re.sub(r"(?<=<RequestId>).*(?=</RequestId>)", ...)``
    over every response body, JSON ones included: the lookbehind is tried at each character, so a
    DynamoDB answer that carries profiles of a few hundred KB cost milliseconds (13 of 149 profiled
    seconds of tests/integration/store_port/test_frozen_merge_repair.py's DynamoDB tests). A body
    without the literal ``<RequestId>`` has nothing to match, and ``re.sub`` returns it unchanged; a
    body that has one (moto's XML services), or one that is not a ``str`` (where moto's ``re.sub``
    raised and was ignored), is left to moto's code. tests/unit/test_moto_start_shared.py holds the
    answers to moto's own.
    """
    import moto.core.responses as responses
    from moto.core.responses import BaseResponse

    original = BaseResponse.__dict__["_enrich_response"].__func__
    if getattr(original, "__wrapped__", None) is not None:
        return

    def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, str) and "<RequestId>" not in body:
            if "status" in headers:
                headers["status"] = str(headers["status"])
            responses.gen_amzn_requestid_long(headers)  # type: ignore[attr-defined]  # as moto's: the header
            return headers, body
        return original(headers, body)  # type: ignore[no-any-return]

    setattr(_enrich_response, "__wrapped__", original)  # noqa: B010
    BaseResponse._enrich_response = staticmethod(_enrich_response)  # type: ignore[method-assign,assignment]


__all__ = ["build_interceptors_once", "draw_request_ids_at_once", "stamp_request_ids_only_where_asked"]
