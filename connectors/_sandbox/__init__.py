"""The kit every vendor sandbox is built from: fault injection, server-side limits, a clock, and serving.

A sandbox is a fake of one vendor API that answers ``httpx.Request`` objects. The same object runs
in-process (``sandbox.transport()`` gives an ``httpx.MockTransport`` for fast tests) and as a real HTTP
server (``serve(sandbox, port=P)``, used by ``profilesync sandbox NAME --port P``), so the vendor's own
SDK can be pointed at it. Each vendor's sandbox lives in its connector folder and subclasses
``VendorSandbox``, implementing four methods: ``authenticate``, ``limit``, ``throttled`` and ``route``.

The control surface (``record_keys``, ``touch``, ``add_records``, ``holds``) is what the shared contract
tests in ``profilesync.testing`` drive; see ``SandboxControl``.

The kit's parts, each importable from here: ``vendor`` (``VendorSandbox``, ``json_response``),
``faults`` (``Faults``, ``SandboxStats``), ``pacing`` (``SandboxClock``, ``SlidingWindow``),
``control`` (the control surface, ``holdings_text``, ``forgotten``) and ``server`` (``serve``).
"""

from connectors._sandbox.control import (
    DeletesRecords,
    PurgesRecords,
    SandboxControl,
    forgotten,
    holdings_text,
)
from connectors._sandbox.faults import Faults, SandboxStats
from connectors._sandbox.pacing import SandboxClock, SlidingWindow
from connectors._sandbox.server import SandboxServer, serve
from connectors._sandbox.vendor import VendorSandbox, json_response

__all__ = [
    "DeletesRecords",
    "Faults",
    "PurgesRecords",
    "SandboxClock",
    "SandboxControl",
    "SandboxServer",
    "SandboxStats",
    "SlidingWindow",
    "VendorSandbox",
    "forgotten",
    "holdings_text",
    "json_response",
    "serve",
]
