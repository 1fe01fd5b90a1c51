"""The lease a ``profilesync sync`` run holds on its connector, as the pull function does in Lambda.

Two runs of one connector on one store (a cron job overlapping a manual run, two terminals, a CLI
run beside the deployed pull on the same table) would pull the same pages and push the same
profiles twice, and the later one would fail at its first cursor save. The run takes the
connector's lease first (``core.lease``: the same ``LEASE#<name>`` item the pull function takes),
renews it as pages and push batches go by, and releases it at the end; a second run is refused at
once with who holds it and until when.

A run that was killed cannot release its lease: it expires ``LEASE_SECONDS`` after its last
renewal. The lease's owner names the machine and process of the run, so a run on the same machine
takes over at once from a holder whose process is gone.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from core.errors import ConflictError
from core.lease import LeaseStore

#: How long the lease lasts without a renewal; a run renews it at most every tenth of that.
LEASE_SECONDS = 300.0
_OWNER_PREFIX = "cli"


def run_owner() -> str:
    """This run's lease owner: ``cli:<host>:<pid>:<random>``."""
    return f"{_OWNER_PREFIX}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def holding_lease(
    leases: LeaseStore | None,
    name: str,
    *,
    where: str = "this store",
    seconds: float = LEASE_SECONDS,
    owner: str | None = None,
) -> Iterator[Callable[[], None]]:
    """Hold ``name``'s lease for the block, which gets the function that renews it (call it as
    often as you like: it writes at most every ``seconds / 10``). Raises ``ConflictError`` when
    another run holds the lease, or when the lease was lost (it expired and another run took it)."""
    if leases is None:
        yield lambda: None
        return
    me = owner or run_owner()
    if leases.acquire(name, me, seconds) is None:
        held = leases.current(name)
        if held is not None and abandoned(held.owner):
            leases.release(name, held.owner)
        if leases.acquire(name, me, seconds) is None:
            held = leases.current(name)
            holder = held.owner if held else "another run"
            until = datetime.fromtimestamp(held.expires_at, UTC).strftime("%H:%M:%S UTC") if held else "soon"
            raise ConflictError(
                f"another sync of {name!r} is running on {where} (held by {holder} until {until}); "
                "let it finish, or run again once its lease has expired"
            )
    renewed = time.monotonic()

    def renew() -> None:
        nonlocal renewed
        if time.monotonic() - renewed < seconds / 10:
            return
        if not leases.renew(name, me, seconds):
            raise ConflictError(
                f"this sync of {name!r} lost its lease (it was not renewed for {seconds:.0f} s and "
                "another run took it); what it wrote is kept, and that run goes on from its cursor"
            )
        renewed = time.monotonic()

    try:
        yield renew
    finally:
        leases.release(name, me)


def abandoned(owner: str) -> bool:
    """Whether ``owner`` is a run of this CLI on this machine whose process is gone."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[0] != _OWNER_PREFIX or parts[1] != socket.gethostname():
        return False
    return parts[2].isdigit() and not process_alive(int(parts[2]))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (POSIX; elsewhere, assumed alive)."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's
        return True
    return True


__all__ = ["LEASE_SECONDS", "abandoned", "holding_lease", "process_alive", "run_owner"]
