"""The pull's way into the ingest queue: records packed into SQS messages of at most the queue's size,
grouped into SendMessageBatch requests, and sent until SQS has accepted every one (functions.pull).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import RetryableError

#: SendMessageBatch takes at most 10 entries.
SQS_MAX_BATCH_ENTRIES = 10

# SQS accepts only these characters in a body (https://www.w3.org/TR/REC-xml/#charsets); JSON escapes
# control characters already, so what remains to escape are U+FFFE and U+FFFF.
_NOT_SQS_SAFE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class IngestQueueError(Exception):
    """SQS refused a message for a reason resending cannot fix (a bug or a misconfigured queue)."""


def sqs_safe(text: str) -> str:
    """``text`` (JSON) with the characters SQS rejects written as JSON escapes (same value once parsed)."""
    return _NOT_SQS_SAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def pack_messages(
    parts: Sequence[str], prefix: str, suffix: str, max_bytes: int
) -> tuple[list[str], list[int]]:
    """Join JSON ``parts`` into bodies ``prefix + ",".join(group) + suffix`` of at most ``max_bytes``
    (UTF-8), in order; returns the bodies and the indexes of parts too large for any message."""
    overhead = len(prefix.encode()) + len(suffix.encode())
    bodies: list[str] = []
    oversize: list[int] = []
    group: list[str] = []
    size = overhead
    for index, part in enumerate(parts):
        length = len(part.encode())
        if overhead + length > max_bytes:
            oversize.append(index)
            continue
        extra = length + (1 if group else 0)  # the comma
        if size + extra > max_bytes:
            bodies.append(prefix + ",".join(group) + suffix)
            group, size, extra = [], overhead, length
        group.append(part)
        size += extra
    if group:
        bodies.append(prefix + ",".join(group) + suffix)
    return bodies, oversize


def batch_messages(
    bodies: Sequence[str], max_bytes: int, max_entries: int = SQS_MAX_BATCH_ENTRIES
) -> list[list[str]]:
    """Group bodies into SendMessageBatch requests: at most ``max_entries`` and ``max_bytes`` in all."""
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        length = len(body.encode())
        if current and (len(current) == max_entries or size + length > max_bytes):
            batches.append(current)
            current, size = [], 0
        current.append(body)
        size += length
    if current:
        batches.append(current)
    return batches


@dataclass
class SendReport:
    messages: int = 0
    batches: int = 0
    resent: int = 0


class IngestSender:
    """Sends record messages to the ingest queue and returns only when SQS has accepted all of them."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        *,
        max_bytes: int,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self._sleep = sleep

    def send(self, bodies: Sequence[str]) -> SendReport:
        report = SendReport()
        for batch in batch_messages(bodies, self.max_bytes):
            pending = {f"m{i}": body for i, body in enumerate(batch)}
            for attempt in range(self.max_attempts):
                response = self._sqs.send_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": key, "MessageBody": body} for key, body in pending.items()],
                )
                report.batches += 1
                failed = response.get("Failed") or []
                for entry in failed:
                    if entry.get("SenderFault"):
                        raise IngestQueueError(
                            f"SQS refused an ingest message ({entry.get('Code')}: {entry.get('Message')}); "
                            "check the queue's MaximumMessageSize and INGEST_MESSAGE_MAX_BYTES"
                        )
                report.messages += len(pending) - len(failed)
                pending = {entry["Id"]: pending[entry["Id"]] for entry in failed}
                if not pending:
                    break
                # Failures that are not the sender's fault (throttling, SQS internal errors) succeed
                # when sent again; back off with jitter first.
                report.resent += len(pending)
                self._sleep(min(2.0, 0.05 * 2**attempt) * random.random())
            else:
                raise RetryableError(
                    f"SQS kept failing {len(pending)} ingest messages after {self.max_attempts} attempts; "
                    "the cursor was not moved, so the next run sends them again"
                )
        return report
