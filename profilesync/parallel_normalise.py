"""Read and normalise a JSON-lines file in a worker process while the caller ingests: two cores at work.

``profilesync resolve`` spends about a quarter of its time before a record reaches the store:
reading its line, parsing the JSON, mapping it to a draft and normalising it (phone numbers, names,
money, times), and hashing the normalised record. None of that depends on the store, so a worker
process does it for the whole file, in file order, while the main process resolves and merges what
the worker has already sent; the DuckDB peer of ``bench/resolve_scaling.py`` uses every core too.

    for outcome in NormalisingWorker(path, options):   # SourceRecord or Quarantined, in line order
        ...

* Same results: the worker runs ``connectors.jsonl.read_jsonl`` and ``core.normalise.normalise_record``,
  the very functions the main process would run, and sends their outcomes in the order of the file;
  each record arrives with its ``record_hash`` (``core.merge``) and its JSON (``core.record_json``,
  the snapshot the SQLite store writes) worked out, which ingest reads next.
  tests/unit/test_parallel_normalise.py compares a resolve with the worker to one without, byte for
  byte. (With batches and native/'s extension, a plain record's line is read from its bytes and
  normalised in one compiled call instead, to the same outcome: profilesync.parallel_lines.)
  With ``batch_size`` it reads the file as ``connectors.jsonl.batched.read_jsonl_batched`` does
  (batches that keep each person's lines together, a ``BatchEnd`` after each), again as the caller
  would. Its first pass over the file (the batches' plan) is the one time the caller has nothing
  to do but wait: the caller's thread reads the second half's linking values meanwhile
  (``connectors.jsonl.batched.link_part``) and sends them to the worker, which links them after its
  own half's, as one pass would (the same plan; the caller does it or, failing, the worker).
* Bounded memory: records go in chunks of ``chunk_size``, pickled by the worker (about 850 bytes a
  record with its JSON, a quarter of the models' memory), through a queue of at most ``ahead``
  chunks, and with ``batch_size`` a batch more (the worker normalises the next batch while the
  caller ingests this one: about 17 MB at 20,000 records); when the main process falls behind, the
  worker waits.
* Nothing hangs, nothing is left running: an error the worker meets (the file stops being UTF-8 half
  way) is raised in the caller as it would have been there; a worker that dies (killed, out of memory)
  raises ``NormaliseWorkerError``; leaving the loop early, or an error in the caller, stops the worker;
  a caller killed outright (SIGKILL, or SIGTERM, which runs no clean-up) leaves a worker that ends by
  itself within a second, when it next finds the queue full and its parent gone.

The worker is forked where that is safe (Linux, and no other thread in the process, whose locks a
fork would copy held) and spawned otherwise (macOS, Windows, or a test runner with threads), which
costs the imports again (about a second) but nothing else. ``worker_wanted`` says whether a worker
can help: it needs a second core to run on, and a regular file it can open by itself.
"""

from __future__ import annotations

import copyreg
import io
import multiprocessing
import os
import pickle
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from connectors.jsonl.batched import BatchEnd
from core.errors import ProfileSyncError
from core.normalise import NormaliseOptions
from core.schema import _ALL_FIELDS, Quarantined, SourceRecord, _Frozen, _reassemble
from profilesync import parallel_plan
from profilesync.parallel_plan import POLL_SECONDS as _POLL_SECONDS
from profilesync.parallel_plan import CallerGoneError as _CallerGoneError
from profilesync.resolve_native import handover_reassemble

__all__ = ["MIN_BYTES", "NormaliseWorkerError", "NormalisingWorker", "usable_cores", "worker_wanted"]

#: Records per message: large enough that the per-message cost (a pipe write, a wake-up) is nothing
#: next to the records', small enough that the first ones reach the store at once.
CHUNK_SIZE: Final = 500
#: Chunks the worker may run ahead of the caller: about 4,000 records, a few MB.
AHEAD: Final = 8
#: Files smaller than this (about 3,000 records) are normalised in the caller: a worker saves about
#: 40 µs a record and costs a fork (milliseconds), or a spawn where forking is unsafe (a second).
MIN_BYTES: Final = 1 << 20

_CHUNK: Final = "chunk"
_END: Final = "end"
_ERROR: Final = "error"


class NormaliseWorkerError(ProfileSyncError):
    """The worker process normalising the input stopped before the end of the file."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def worker_wanted(path: Path) -> bool:
    """Whether normalising ``path`` in a worker is worth it: a regular file (a pipe cannot be read
    twice, and the caller has read its first line already) of at least ``MIN_BYTES``, on a machine
    with a second core. On one core the worker would only add the cost of sending the records
    across; for a small file, the cost of starting it."""
    return usable_cores() >= 2 and path.is_file() and path.stat().st_size >= MIN_BYTES


class NormalisingWorker:
    """Iterate over the normalised outcomes of a JSON-lines file, normalised in a worker process.

    A context manager as well: leaving the ``with`` block stops the worker if it is still running
    (iterating to the end, or closing the iterator, does so too).
    """

    def __init__(
        self,
        path: Path | str,
        options: NormaliseOptions | None = None,
        *,
        chunk_size: int = CHUNK_SIZE,
        ahead: int = AHEAD,
        batch_size: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        """Read the file in batches of lines that keep each person's together, each followed by a
        ``BatchEnd`` (connectors.jsonl.batched); None: in file order."""
        self.options = options or NormaliseOptions()
        self.chunk_size = chunk_size
        self.ahead = ahead if batch_size is None else ahead + -(-batch_size // chunk_size)
        """Chunks the worker may run ahead of the caller: ``ahead``, and with ``batch_size`` a whole
        batch more, so that it normalises the next batch while the caller ingests this one (the
        caller reads nothing while it ingests: a queue of 4,000 records let the worker work through
        a fifth of each batch of 20,000, and the caller then waited for the rest)."""
        self.process: Any = None  # multiprocessing's process object, once started
        self._messages: Any = None

    def __enter__(self) -> NormalisingWorker:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the worker now (iterating starts it otherwise): before the caller opens files or
        connections of its own, which a forked worker would inherit (unused, but open)."""
        if self.process is not None:
            return
        context = _context()
        # A forked child flushes the buffers it inherits when it ends: empty them first, so that
        # nothing this process printed is printed twice.
        sys.stdout.flush()
        sys.stderr.flush()
        self._messages = context.Queue(maxsize=self.ahead)
        half = parallel_plan.second_half(self.path) if self.batch_size is not None else None
        receiving: Any = None
        sending: Any = None
        if half is not None:
            receiving, sending = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_produce,
            args=(
                str(self.path),
                self.options,
                self._messages,
                self.chunk_size,
                self.batch_size,
                None if half is None else (half, receiving),
            ),
            name="profilesync-normalise",
            daemon=True,  # never outlives the caller, whatever happens to it
        )
        self.process.start()
        if half is not None:
            receiving.close()  # the worker's end
            # The batches' plan reads the whole file before the worker sends a record: the
            # second half's linking values are read here meanwhile, by a thread (this process
            # has nothing else to do until the first records come), and sent to the worker.
            threading.Thread(
                target=parallel_plan.send_part,
                args=(sending, self.path, half),
                name="profilesync-plan",
                daemon=True,
            ).start()

    def __iter__(self) -> Iterator[SourceRecord | Quarantined | BatchEnd]:
        self.start()
        messages = self._messages
        try:
            while True:
                kind, payload = self._next_message(messages)
                if kind == _CHUNK:
                    yield from pickle.loads(payload)
                elif kind == _END:
                    return
                else:
                    raise payload
        finally:
            self.stop()
            messages.close()

    def _next_message(self, messages: Any) -> tuple[str, Any]:
        while True:
            try:
                message: tuple[str, Any] = messages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if self.process.is_alive():
                    continue
                try:  # it may have sent its last message just before it ended
                    message = messages.get(timeout=_POLL_SECONDS)
                except queue.Empty:
                    pass
                else:
                    return message
                raise NormaliseWorkerError(
                    f"the worker process normalising {self.path} stopped (exit code "
                    f"{self.process.exitcode}) before the end of the file: killed, or out of memory? "
                    "Run the command again (it is safe to repeat)"
                ) from None
            return message

    def stop(self) -> None:
        """Stop the worker (if it still runs) and wait for it."""
        process = self.process
        if process is None:
            return
        if process.is_alive():
            process.terminate()
        process.join(timeout=10)
        if process.is_alive():  # ignored SIGTERM: it must not outlive the run
            process.kill()
            process.join()


def _context() -> Any:  # a ForkContext or a SpawnContext (typeshed's BaseContext has no Process)
    """``fork`` on Linux when this process runs no other thread (a fork copies the memory, not the
    threads: a lock another thread held would stay held in the child), else ``spawn``."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _produce(
    path: str,
    options: NormaliseOptions,
    messages: Any,
    chunk_size: int,
    batch_size: int | None = None,
    second_half: tuple[int, Any] | None = None,
) -> None:
    """The worker: read, normalise and hash every line of ``path``; send the outcomes in order (in
    file order, or batch after batch with ``batch_size``). ``second_half``: where the caller reads
    the second half of the batches' first pass from, and the pipe it sends its part through."""
    # Imported here: a spawned worker imports only what it runs.
    from core.normalise import normalise_record, use_assembler, use_email_normaliser, use_order_reader
    from core.runtime import tune_gc_for_bulk_work
    from profilesync.parallel_lines import outcomes
    from profilesync.resolve_native import (
        worker_assembler,
        worker_email_normaliser,
        worker_json_and_hash,
        worker_order_reader,
        worker_record_normaliser,
    )

    # Compiled where native/'s extension is installed (profilesync.resolve_native): the same memos,
    # and the same models assembled (this process's own choice: it ends with the file).
    record_json_and_hash = worker_json_and_hash()
    use_assembler(worker_assembler())
    use_email_normaliser(worker_email_normaliser())
    use_order_reader(worker_order_reader())
    # One compiled call a record for the common record (the Python function for the rest), and
    # with batches, one from the line's bytes for a plain record's line (profilesync.parallel_lines).
    normalise = worker_record_normaliser() or normalise_record

    tune_gc_for_bulk_work()  # what it inherited or imported is frozen, as in the main process
    chunk: list[SourceRecord | Quarantined | BatchEnd] = []
    split = None
    if second_half is not None:
        half, receiving = second_half
        split = (half, lambda: parallel_plan.received_part(receiving, path, half))
    try:
        for outcome in outcomes(path, options, normalise, batch_size, split):
            # The exact type first: isinstance with a model class goes through its metaclass's
            # check (about 0.3 µs each).
            if type(outcome) is SourceRecord or isinstance(outcome, SourceRecord):
                # Kept with the record: its hash, which the caller's ingest needs next, and its
                # JSON, which the embedded store writes (one serialisation for both).
                record_json_and_hash(outcome)
            chunk.append(outcome)
            if len(chunk) >= chunk_size:
                _send(messages, (_CHUNK, _pickled(chunk)))
                chunk = []
        if chunk:
            _send(messages, (_CHUNK, _pickled(chunk)))
    except _CallerGoneError:
        return
    except BaseException as error:  # sent to the caller, which raises it where it is read
        with suppress(_CallerGoneError):
            _send(messages, (_ERROR, _sendable(error)))
        return
    with suppress(_CallerGoneError):
        _send(messages, (_END, None))


def _pickled(chunk: list[SourceRecord | Quarantined | BatchEnd]) -> bytes:
    """A chunk as the bytes it crosses the pipe as, pickled here rather than by the queue's feeder
    thread: the chunks waiting in the queue (a batch's worth) are kept as these bytes, about a
    quarter of the memory of the models they hold.

    The bytes of ``pickle.dumps(chunk)``, made by a pickler that finds the schema's models in its
    dispatch table (``_reduce_model``) instead of asking each for ``__reduce_ex__``, which goes
    through pydantic's attribute look-up before it reaches ``_Frozen.__reduce__``: 9.0 -> 7.7 µs a
    record. The caller reads them back as before, at the same cost."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(chunk)
    return buffer.getvalue()


def _reducer(reassemble: Any) -> Any:
    """``model.__reduce__()`` (``core.schema._Frozen``), its common case without the method call and
    naming ``reassemble``: ``core.schema_base._reassemble``, or native/'s, which the resolving
    process then reads the models back through."""

    def reduce_model(model: _Frozen) -> str | tuple[Any, ...]:
        cls = type(model)
        if (
            model.__pydantic_fields_set__ is _ALL_FIELDS.get(cls)
            and model.__pydantic_private__ is None
            and model.__pydantic_extra__ is None
        ):
            return (reassemble, (cls, model.__dict__, None))
        return model.__reduce__()

    return reduce_model


#: The Python path's reducer (its pickles name ``core.schema_base._reassemble``).
_reduce_model = _reducer(_reassemble)


_DISPATCH: dict[Any, dict[type, Any]] = {}


def _dispatch_table() -> dict[type, Any]:
    """``copyreg``'s dispatch table with a reducer for every schema model class that pickles
    through ``_Frozen.__reduce__`` (a pickler looks its table up by the exact class), made on first
    use, when every model class the records hold has been defined. Where native/'s extension is
    installed and on (profilesync.resolve_native), the reducer's pickles name its ``reassemble``
    (the same models read back without a Python frame each), else ``core.schema_base._reassemble``."""
    reassemble = handover_reassemble()
    table = _DISPATCH.get(reassemble)
    if table is None:
        reducer = _reduce_model if reassemble is None else _reducer(reassemble)
        table = dict(copyreg.dispatch_table)
        classes = [_Frozen]
        while classes:
            cls = classes.pop()
            if cls.__reduce__ is _Frozen.__reduce__:  # not a class that pickles its own way
                table[cls] = reducer
            classes.extend(cls.__subclasses__())
        _DISPATCH[reassemble] = table
    return table


def _send(messages: Any, message: tuple[str, Any]) -> None:
    """Put ``message`` on the queue, waiting while it is full, as long as the caller is there to
    read it: a caller killed by a signal runs no clean-up, and its worker, blocked on a full queue,
    would otherwise wait for ever."""
    caller = multiprocessing.parent_process()
    while True:
        try:
            messages.put(message, timeout=_POLL_SECONDS)
            return
        except queue.Full:
            if caller is not None and not caller.is_alive():
                raise _CallerGoneError from None


def _sendable(error: BaseException) -> BaseException:
    """``error`` if it survives pickling unchanged in type, else a NormaliseWorkerError saying it."""
    try:
        if type(pickle.loads(pickle.dumps(error))) is type(error):
            return error
    except Exception:  # any failure to pickle means: describe it instead
        pass
    return NormaliseWorkerError(f"normalising failed in the worker process: {type(error).__name__}: {error}")
