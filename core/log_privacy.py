"""Keep personal data out of the lines that libraries log.

Our own log lines never carry an identifier (core.redaction), but two libraries log what a request
carries, and their lines reach the function's log as soon as the root logger lets them through:
Lambda's advanced logging controls with an application log level of INFO or DEBUG, the local
runtime, ``profilesync --log-level INFO`` or ``--debug``:

* httpx logs every request's full URL at INFO (``HTTP Request: GET https://api.hubapi.com/crm/v3/
  objects/contacts/ann@example.com?idProperty=email``), and urllib3 (the vendors' SDKs) at DEBUG:
  erasure and push look people up by address, in the path (HubSpot) or in the query (Klaviyo's
  ``filter``, Stripe's ``email=``). The line stays, its URL redacted as ``redact_path`` does (the
  query dropped, every segment that may name someone replaced by ``{id}``).
* botocore logs each request's parameters and each response's body at DEBUG: the profiles and
  source records written and read, the SQS messages. Its level is held at INFO or the root's level,
  whichever is higher, where it logs no payload (a DEBUG session that needs botocore's wire log
  sets that logger's level itself, after this).
* Powertools' batch processor logs each failed record's exception at DEBUG, and a validation
  error quotes the value it refused (pydantic's ``input_value=...``, her phone number): held at INFO
  the same way (merge's own line about the failure leaves the input out).

``keep_personal_data_out_of_library_logs`` installs both; the handlers' shared wiring and the CLI
call it once the root logger is configured (the CLI on every run). Idempotent.
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlsplit

from core.redaction import redact_path, redact_personal

#: Loggers that write request URLs: each of their records has its URL and values redacted.
URL_LOGGERS: Final = ("httpx", "urllib3.connectionpool")
#: Loggers that write request and response bodies below INFO: held at INFO at least.
BODY_LOGGERS: Final = ("botocore", "boto3", "s3transfer", "aws_lambda_powertools.utilities.batch")


def redact_logged_value(value: object) -> object:
    """A log record argument without personal data: a URL keeps its scheme, host and route; other
    text has its addresses and phone-like numbers replaced; numbers stay as they are."""
    if isinstance(value, int | float) or value is None:
        return value
    text = str(value)
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        return f"{parts.scheme}://{parts.netloc}{redact_path(parts.path)}"
    if text.startswith("/"):
        return redact_path(text)
    return redact_personal(text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and arguments without personal data; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_logged_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_logged_value(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_personal(record.msg)
        return True


_FILTER: Final = RedactingFilter()


def keep_personal_data_out_of_library_logs() -> None:
    """Redact the URL loggers' records and hold the body loggers at INFO (see the module docstring)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    # Never below INFO, and never below the root's level either: a level set on the logger itself
    # would otherwise let its INFO lines through a root held at WARNING.
    floor = max(logging.INFO, logging.getLogger().getEffectiveLevel())
    for name in BODY_LOGGERS:
        logging.getLogger(name).setLevel(floor)


__all__ = [
    "BODY_LOGGERS",
    "URL_LOGGERS",
    "RedactingFilter",
    "keep_personal_data_out_of_library_logs",
    "redact_logged_value",
]
