"""What the handlers share, built once per cold start: settings, AWS clients, stores, connectors.

Everything is built on first use, not at import: importing a handler costs no boto3 import and no
network call, and a handler only pays for the clients it touches (boto3 alone is ~0.2 s of a cold
start; see bench/cold_start.py). The objects then live as long as the execution environment, so
warm invocations reuse the HTTP connections of the AWS clients and of the connectors.

Configuration comes from environment variables that template.yaml sets (a test asserts that every
variable read here is set there):

| variable                     | used by     | meaning                                                      |
| ---------------------------- | ----------- | ------------------------------------------------------------ |
| TABLE_NAME                   | all         | the profile table                                            |
| PROFILESYNC_CONFIG           | all         | the configuration document (bundled; relative to the code)  |
| INGEST_QUEUE_URL             | pull        | where pulled records go                                      |
| PULL_TIME_MARGIN_SECONDS     | pull        | stop and hand over when less time than this remains          |
| PULL_LEASE_SECONDS           | pull        | how long a pull's lease lasts without renewal                |
| PULL_MAX_CONTINUATIONS       | pull        | how many fresh invocations one run may chain                 |
| INGEST_MESSAGE_MAX_BYTES     | pull        | SQS message (and batch) size limit                           |
| INGEST_DEAD_LETTER_QUEUE_URL | privacy     | the ingest DLQ, searched by erasures and exports             |
| PROFILESYNC_TRACING          | all         | ``lambda`` (active tracing only) or ``sdk`` (Powertools)     |
| PROFILESYNC_SECRETS_PREFIX   | all         | Secrets Manager prefix of connector credentials              |
| POWERTOOLS_*                 | all         | service name, metrics namespace, log level                   |

The connector instances come from the configuration document (core/config.py), bundled with the
code by ``sam build`` and named by ``PROFILESYNC_CONFIG``. Tests may give the ``connectors`` section
inline instead, as JSON in ``CONNECTORS`` (never both). Tests and the local runtime install their own
``Wiring`` (with moto's clients) through ``use``. The settings and the reading of the environment
are functions._settings (importable from here).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from core.errors import ConnectorConfigError
from core.log_privacy import keep_personal_data_out_of_library_logs
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from functions._settings import SQS_MAX_MESSAGE_BYTES as SQS_MAX_MESSAGE_BYTES
from functions._settings import DeferredConfig as DeferredConfig
from functions._settings import Settings, WiringError
from functions._settings import config_from_environment as config_from_environment
from functions._settings import parse_connectors as parse_connectors

if TYPE_CHECKING:
    # Imported where used: merge and the dispatcher build no connector, only pull holds leases.
    from core.connector import Connector, ConnectorPlugin, ConnectorSpec
    from core.normalise import NormaliseOptions
    from core.privacy import PrivacyStores
    from core.schema import Identifier
    from core.storage.dynamodb_lease import DynamoDBLeaseStore
    from core.storage.dynamodb_privacy import DynamoDBErasureStore
    from core.suppression import SuppressionCheck

#: The secret (``<PROFILESYNC_SECRETS_PREFIX>audit-salt`` in Secrets Manager) keying the hashes of
#: audit records and suppression entries.
AUDIT_SALT_SECRET = "audit-salt"

F = TypeVar("F", bound=Callable[..., Any])

# httpx and botocore log URLs and bodies that name people once the root logger lets them through.
keep_personal_data_out_of_library_logs()


def __getattr__(name: str) -> Any:
    # ``ConnectorEntry`` is the former name of ``core.config.ConnectorInstance``; resolved on use, so
    # that importing a handler does not build the configuration models (they load with the document).
    if name == "ConnectorEntry":
        from core.config import ConnectorInstance

        return ConnectorInstance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _boto3_client(service: str) -> Any:
    # Imported here: boto3 is the largest import of a cold start, and only first use should pay it.
    if "botocore.session" not in sys.modules and "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        # The first client loads botocore and its session's models, which live as long as the
        # execution environment: the collector need not walk them while they load (core.runtime).
        from core.runtime import gc_paused

        with gc_paused():
            return _new_boto3_client(service)
    return _new_boto3_client(service)


def _new_boto3_client(service: str) -> Any:
    from botocore.config import Config

    from core.storage.aws_clients import aws_client

    # AWS_ENDPOINT_URL (botocore >= 1.31) points every client at a local endpoint when set.
    return aws_client(
        service,
        config=Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=5, read_timeout=30),
    )


def _registry_plugin(name: str) -> ConnectorPlugin:
    from profilesync import registry

    return registry.get(name)


class Wiring:
    """The clients, stores and connectors of one execution environment. Clients may be injected."""

    def __init__(
        self,
        settings: Settings,
        *,
        dynamodb: Any = None,
        sqs: Any = None,
        lambda_client: Any = None,
        plugins: Callable[[str], ConnectorPlugin] | None = None,
        secrets_env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {
            k: v
            for k, v in (("dynamodb", dynamodb), ("sqs", sqs), ("lambda", lambda_client))
            if v is not None
        }
        self._plugins = plugins or _registry_plugin
        self._plugin_of: dict[str, ConnectorPlugin] = {}
        self._secrets_env = secrets_env
        self._connectors: dict[str, Connector] = {}
        self._suppression: dict[bool, SuppressionCheck] = {}

    def client(self, service: str) -> Any:
        """The boto3 client of ``service``, created on first use."""
        if service not in self._clients:
            self._clients[service] = _boto3_client(service)
        return self._clients[service]

    @cached_property
    def profiles(self) -> DynamoDBProfileStore:
        # Identifier items are keyed by the keyed hash with the audit salt (core.storage.ident_keys);
        # a new stack's table, empty and unmarked, gets the layout marker with the salt's check from
        # the first function that reads an owner and may write it (core.storage.ident_mark).
        return DynamoDBProfileStore(
            self.client("dynamodb"),
            self.settings.table_name,
            salt=lambda: self.audit_salt,
            mark_empty_table=True,
        )

    @cached_property
    def sync_state(self) -> DynamoDBSyncStateStore:
        return DynamoDBSyncStateStore(self.client("dynamodb"), self.settings.table_name)

    @cached_property
    def leases(self) -> DynamoDBLeaseStore:
        from core.storage.dynamodb_lease import DynamoDBLeaseStore

        return DynamoDBLeaseStore(self.client("dynamodb"), self.settings.table_name)

    @cached_property
    def erasure(self) -> DynamoDBErasureStore:
        # Imported here: core.privacy brings the normalisers, which merge and push never need.
        from core.storage.dynamodb_privacy import DynamoDBErasureStore

        return DynamoDBErasureStore(
            self.client("dynamodb"), self.settings.table_name, salt=lambda: self.audit_salt
        )

    @cached_property
    def audit_salt(self) -> str:
        """The salt of audit and suppression hashes (the ``audit-salt`` secret), read once."""
        from connectors.secrets import resolve_secret

        return resolve_secret(AUDIT_SALT_SECRET)

    def suppression(self, *, consistent: bool = True) -> SuppressionCheck:
        """The check of erased people's records (core.suppression). Merge reads strongly consistent
        entries, and so does push (one read shared by its destinations and batches, reused while the
        erasure epoch stays: core.push_suppression); pull, which merge backs up, reads eventually
        consistent ones (half the read units)."""
        if consistent not in self._suppression:
            from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
            from core.suppression import SuppressionCheck

            store = DynamoDBSuppressionStore(
                self.client("dynamodb"), self.settings.table_name, consistent=consistent
            )
            # Only merge stores records: it alone writes their refused values' index entries
            # (core.privacy_refused_index; REFUSED# in its role), pull and push only check.
            self._suppression[consistent] = SuppressionCheck(store, self.audit_salt, index_refused=consistent)
        return self._suppression[consistent]

    def forget_if_erased(self) -> bool:
        """Empty this environment's caches of personal values if an erasure ran since its last batch
        (core.erasure_epoch: one GetItem); whether they were emptied. Needs no salt: the epoch is
        read from its one item (core.storage.dynamodb_epoch)."""
        from core.erasure_epoch import forget_if_erased
        from core.storage.dynamodb_epoch import DynamoDBErasureEpoch

        return forget_if_erased(DynamoDBErasureEpoch(self.client("dynamodb"), self.settings.table_name))

    def privacy_stores(self) -> PrivacyStores:
        """Everything a privacy request reads and writes (core.privacy.PrivacyStores)."""
        from core.privacy import PrivacyStores
        from core.storage.sqs_dead_letters import SQSDeadLetterQueue

        dlq = self.settings.ingest_dead_letter_queue_url
        return PrivacyStores(
            profiles=self.profiles,
            erasure=self.erasure,
            sync_state=self.sync_state,
            suppression=self.suppression().store,
            dead_letters=SQSDeadLetterQueue(self.client("sqs"), dlq) if dlq else None,
            quarantine_of=sorted(self.settings.connectors),
            reads=self.read_audit,
        )

    @property
    def read_audit(self) -> Any:
        """The read audit (``READ#`` items), for the export's "who looked at this person"."""
        from core.storage.dynamodb_reads import DynamoDBReadAudit

        return DynamoDBReadAudit(self.client("dynamodb"), self.settings.table_name)

    @property
    def ingest_queue_url(self) -> str:
        url = self.settings.ingest_queue_url
        if not url:
            raise WiringError("INGEST_QUEUE_URL is not set: the pull function sends records there")
        return url

    def plugin(self, name: str) -> ConnectorPlugin:
        """The connector ``name``, looked up once per execution environment: the registry reads every
        installed distribution's entry points on each lookup, and push looks up each destination's
        connector on every invocation."""
        if name not in self._plugin_of:
            self._plugin_of[name] = self._plugins(name)
        return self._plugin_of[name]

    def connector(self, name: str) -> Connector:
        """The connector instance ``name`` of the configuration, built once (credentials resolved then)."""
        if name not in self._connectors:
            from connectors.instances import build_instance, instance_settings

            instance = self.settings.document.instance(name)
            vendor = instance.vendor or name
            plugin = self.plugin(vendor)
            budget = plugin.spec.shared_budget
            if instance.rate_budget is not None:
                if budget is None:
                    raise ConnectorConfigError(
                        f"connector {vendor!r} has no shared rate budget, so the rate_budget of instance "
                        f"{name!r} cannot be applied; remove it"
                    )
                budget = instance.rate_budget
            limiters: tuple[Any, ...] = ()
            if budget is not None:
                # Pull and push Lambdas for one vendor account spend from one bucket in the table, so
                # together they stay under the vendor's limit instead of each assuming all of it. The
                # account is the vendor, base URL and options: two instances of one store share it.
                import hashlib
                import json

                from core.storage.dynamodb_budget import DynamoDBTokenBucket

                account = json.dumps([instance.base_url, sorted(instance.options.items())], default=str)
                digest = hashlib.blake2b(account.encode(), digest_size=8).hexdigest()
                limiters = (
                    DynamoDBTokenBucket(
                        self.client("dynamodb"),
                        self.settings.table_name,
                        f"{vendor}:{digest}",
                        rate_per_second=budget[0],
                        burst=budget[1],
                    ),
                )
            settings = instance_settings(name, instance, plugin, env=self._secrets_env, limiters=limiters)
            if instance.push_mode is not None:
                settings = dataclasses.replace(settings, push_mode=instance.push_mode)
            self._connectors[name] = build_instance(name, plugin, settings)
        return self._connectors[name]

    def push_mode(self, name: str) -> str | None:
        """The push mode the configuration sets for instance ``name`` (None: the connector's default)."""
        entry = self.settings.connectors.get(name)
        return entry.push_mode if entry is not None else None

    def normalise_options(self, name: str) -> NormaliseOptions:
        """How instance ``name``'s records are normalised: its phone region (``region`` of the
        instance, else ``defaults.region`` of the configuration document)."""
        from core.normalise import NormaliseOptions

        return NormaliseOptions(default_region=self.settings.document.region(name))

    def destinations(self) -> list[str]:
        """The configured connectors that push: ``push`` not switched off, and able to push."""
        return [
            name
            for name, entry in sorted(self.settings.connectors.items())
            if entry.push and "push" in self.plugin(entry.vendor or name).spec.capabilities
        ]

    def stored_ids(self, identifier: Identifier) -> dict[str, Callable[[str, str], str]]:
        """The ``stored_id`` hook of the connector instance a privacy request's record id names
        (core.privacy_request's ``stored_ids_for``), by the instance's name; empty when it declares
        none, no instance is named so, or the request names an email or phone."""
        from core.privacy_request import stored_ids_for

        return stored_ids_for(identifier, self._instance_spec)

    def _instance_spec(self, tool: str) -> ConnectorSpec | None:
        entry = self.settings.connectors.get(tool)
        return None if entry is None else self.plugin(entry.vendor or tool).spec

    def erase_targets(self) -> list[str]:
        """The configured connectors an erase request goes to."""
        return [name for name, entry in sorted(self.settings.connectors.items()) if entry.erase]

    def close(self) -> None:
        for connector in self._connectors.values():
            connector.close()
        self._connectors.clear()


_current: Wiring | None = None


def wiring() -> Wiring:
    """The ``Wiring`` of this execution environment, built from the environment on first use."""
    global _current
    if _current is None:
        _current = Wiring(Settings.from_environment())
    return _current


def use(replacement: Wiring | None) -> None:
    """Install a ``Wiring`` (tests, the local runtime), or None to rebuild from the environment."""
    global _current
    if _current is not None and _current is not replacement:
        _current.close()
    _current = replacement


def metrics_namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ProfileSync")


def traced(handler: F) -> F:
    """Wrap ``handler`` in Powertools' Tracer when ``PROFILESYNC_TRACING=sdk``; otherwise return it.

    Powertools' Tracer imports aws_xray_sdk, ~0.4 s of every cold start (measured by
    bench/cold_start.py), even when tracing is disabled. The template turns on Lambda's active
    tracing instead, which records each invocation and its init phase for free; the SDK, which adds a
    subsegment per AWS call, is opt-in (the stack's DetailedTracing parameter).

    What a trace keeps no erasure reaches (X-Ray holds it 30 days), so it holds no personal data: the
    handler's response and exception are not captured (the privacy export's answer is her profile;
    a validation error quotes the value it refused; the logs carry the error, redacted), and only
    botocore is patched: the X-Ray SDK records an HTTP call's URL path, which names her at HubSpot
    (``/crm/v3/objects/contacts/<her address>``), while its botocore records keep the operation,
    the table or queue, and no item.
    """
    if os.environ.get("PROFILESYNC_TRACING", "lambda") != "sdk":
        return handler
    from aws_lambda_powertools import Tracer

    tracer = Tracer(patch_modules=("botocore",))
    return cast(F, tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False))


__all__ = [
    "AUDIT_SALT_SECRET",
    "SQS_MAX_MESSAGE_BYTES",
    "DeferredConfig",
    "Settings",
    "Wiring",
    "WiringError",
    "config_from_environment",
    "metrics_namespace",
    "parse_connectors",
    "traced",
    "use",
    "wiring",
]
