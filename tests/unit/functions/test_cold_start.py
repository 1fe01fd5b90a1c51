"""What a cold start of each function builds, and how the garbage collector treats it.

Each check runs in a fresh interpreter (a cold start imports everything anew; this test process has
long since imported it all), with the environment Lambda gives a function: ``AWS_LAMBDA_FUNCTION_NAME``
set, and the variables template.yaml sets. The figures themselves are bench/cold_start.py's.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigurationError
from core.runtime import BULK_GC_THRESHOLDS, COLD_START_GC_THRESHOLDS, gc_paused, pause_gc, resume_gc
from functions._wiring import Settings, Wiring, parse_connectors
from profilesync import registry
from profilesync.template import load_template

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = sorted(
    resource["Properties"]["Handler"].rpartition(".")[0]
    for resource in load_template()["Resources"].values()
    if resource["Type"] == "AWS::Serverless::Function"
)
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "profilesync-test",
    "TABLE_NAME": "profilesync-test-profiles",
    "INGEST_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/profilesync-test-ingest",
    "CONNECTORS": '{"hubspot": {}}',
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "PROFILESYNC_TRACING": "lambda",
}


def run_fresh(code: str, *, lambda_env: bool = True) -> Any:
    """Run ``code`` in a fresh interpreter; it prints one JSON value last, which is returned."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    env.update(LAMBDA_ENV)
    if not lambda_env:
        del env["AWS_LAMBDA_FUNCTION_NAME"]
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


GC_PROBE = """
import gc, json, importlib
passes = gc.get_stats()[0]["collections"]
importlib.import_module({module!r})
print(json.dumps({{"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "young_passes": gc.get_stats()[0]["collections"] - passes}}))
"""


def test_the_handlers_are_found() -> None:
    # GIVEN template.yaml WHEN its handlers are listed THEN the five functions are there
    assert {"functions.pull", "functions.merge", "functions.push", "functions.dispatch"} <= set(HANDLERS)


@pytest.mark.parametrize("module", HANDLERS)
def test_in_lambda_a_handler_import_collects_rarely_and_resumes_the_collector(module: str) -> None:
    # GIVEN a fresh interpreter, once as Lambda runs it and once as a test or the CLI would
    in_lambda = run_fresh(GC_PROBE.format(module=module))
    elsewhere = run_fresh(GC_PROBE.format(module=module), lambda_env=False)
    # WHEN the handler module has been imported
    # THEN in Lambda its imports went through a handful of young collections instead of hundreds,
    assert in_lambda["young_passes"] * 10 < elsewhere["young_passes"], (in_lambda, elsewhere)
    # what they built is frozen (no later pass walks it), and the collector runs again: with the
    # bulk thresholds in merge (it only ingests), with CPython's defaults everywhere else
    assert in_lambda["frozen"] > 10_000
    expected = BULK_GC_THRESHOLDS if module == "functions.merge" else tuple(elsewhere["threshold"])
    assert tuple(in_lambda["threshold"]) == expected
    assert tuple(in_lambda["threshold"]) != COLD_START_GC_THRESHOLDS
    # AND outside Lambda the process's collector is left as it was
    assert elsewhere["frozen"] == 0
    assert tuple(elsewhere["threshold"]) == (700, 10, 10)


def test_in_lambda_the_first_aws_client_is_built_with_the_collector_paused() -> None:
    # GIVEN a Lambda cold start past its imports
    code = """
import gc, json
import functions.dispatch
from functions._wiring import wiring
before = {"passes": gc.get_stats()[0]["collections"], "frozen": gc.get_freeze_count()}
wiring().client("dynamodb")
print(json.dumps({"passes": gc.get_stats()[0]["collections"] - before["passes"],
                  "frozen": gc.get_freeze_count() - before["frozen"], "threshold": gc.get_threshold()}))
"""
    # WHEN the first client is built (boto3 and botocore's models load)
    first = run_fresh(code)
    # THEN hardly any collection ran, botocore's models were frozen, and the thresholds are back
    assert first["passes"] <= 3, first
    assert first["frozen"] > 10_000
    assert tuple(first["threshold"]) == (700, 10, 10)


def test_pause_and_resume_freeze_what_was_built_and_restore_the_thresholds() -> None:
    # GIVEN custom thresholds
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    gc.set_threshold(5_000, 20, 30)
    try:
        # WHEN a pause is followed by a resume
        pause_gc()
        assert gc.get_threshold() == COLD_START_GC_THRESHOLDS
        kept = [[i] for i in range(1_000)]  # tracked containers that outlive the pause
        resume_gc()
        # THEN the thresholds are back and what was alive is frozen
        assert gc.get_threshold() == (5_000, 20, 30)
        assert gc.get_freeze_count() >= frozen + len(kept)
        # AND a resume for bulk work raises the thresholds instead
        pause_gc()
        resume_gc(bulk=True)
        assert gc.get_threshold() == BULK_GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_gc_paused_restores_the_thresholds_even_when_the_block_fails() -> None:
    # GIVEN the current thresholds
    before = gc.get_threshold()
    inside: list[tuple[int, int, int]] = []

    def build_client() -> None:
        with gc_paused():
            inside.append(gc.get_threshold())
            raise RuntimeError("the client could not be built")

    try:
        # WHEN a paused block raises
        with pytest.raises(RuntimeError):
            build_client()
        # THEN it ran with the cold-start thresholds, and they are as they were after it
        assert inside == [COLD_START_GC_THRESHOLDS]
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


#: What each function's cold start (its import, ``wiring()`` and the stores it uses) must not load,
#: because that function never uses it: each was measured as milliseconds of a cold start.
NOT_LOADED = {
    "functions.merge": (
        "yaml",  # the configuration document: merge acts on no connector instance
        "core.config",
        "core.connector",
        "connectors._http",  # the audit salt comes from connectors.secrets, which needs no HTTP
        "connectors.instances",
        "httpx",
        "core.normalise",  # ingest messages carry records pull already normalised
        "phonenumbers",
        "pycountry",
        "core.lease",
        # Clients come from botocore (core.storage.aws_clients): boto3's resource layer is ~14 ms.
        "boto3",
        # Powertools' batch utility imports every parser model (pydantic) when pydantic was
        # imported before it: ~50 ms. The handler imports it first; this catches a reordering.
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
    "functions.dispatch": (
        "boto3",
        "httpx",
        "connectors",
        "core.pipeline",
        "core.ingest_plan",  # and the modules ingest is split into
        "core.split",
        "core.merge_steps",
        "core.normalise",
        "phonenumbers",
        "aws_lambda_powertools.utilities.batch",
        "asyncio",
        "aws_xray_sdk",
    ),
    "functions.pull": (
        "core.pipeline",
        "core.ingest_plan",  # and the modules ingest is split into
        "core.split",
        "core.merge_steps",
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
    "functions.push": (
        "core.normalise",
        "phonenumbers",
        "pycountry",
        "core.lease",
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
    "functions.identity_review": (
        "httpx",  # it reads and writes the table only
        "connectors._http",
        "yaml",  # the configuration document and the matcher come with a decision, not the start
        "core.linkage",
        "core.pipeline",
        "core.ingest_plan",  # and the modules ingest is split into
        "core.split",
        "core.merge_steps",
        "core.normalise",
        "phonenumbers",
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
    "functions.profiles": (
        "httpx",  # it reads the table only: no tool, no credentials
        "connectors",
        "core.normalise",
        "phonenumbers",
        "core.pipeline",
        "core.ingest_plan",  # and the modules ingest is split into
        "core.split",
        "core.merge_steps",
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
    "functions.privacy": (
        "aws_lambda_powertools.utilities.batch",
        "aws_lambda_powertools.utilities.parser",
        "aws_xray_sdk",
    ),
}


def test_every_handler_has_its_list_of_what_it_must_not_load() -> None:
    # GIVEN template.yaml's handlers THEN each has an entry here (a new function gets one too)
    assert set(NOT_LOADED) == set(HANDLERS)


@pytest.mark.parametrize("module", HANDLERS)
def test_a_cold_start_loads_nothing_its_function_never_uses(module: str, tmp_path: Path) -> None:
    # GIVEN a Lambda environment whose configuration document is YAML, as the bundle's is
    document = tmp_path / "profilesync.yaml"
    document.write_text("version: 1\nconnectors:\n  hubspot: {}\n", encoding="utf-8")
    code = f"""
import json, sys, os
os.environ.pop("CONNECTORS")
os.environ["PROFILESYNC_AUDIT_SALT"] = "test-salt"
os.environ["PROFILESYNC_CONFIG"] = {str(document)!r}
import {module}
from functions._wiring import wiring
w = wiring()
w.profiles, w.sync_state
if {module!r} not in ("functions.dispatch", "functions.profiles"):
    w.suppression()  # erased people's records are dropped with the audit salt's hashes
print(json.dumps(sorted(m for m in sys.modules)))
"""
    # WHEN the handler is imported and its wiring and stores are built
    loaded = set(run_fresh(code))
    # THEN none of what the function never uses was loaded
    unused = [name for name in NOT_LOADED[module] if name in loaded]
    assert unused == [], f"{module}'s cold start loads {unused}, which it never uses"


def test_the_configuration_document_is_read_on_first_use_and_once(tmp_path: Path) -> None:
    # GIVEN an environment naming a document that does not exist yet
    document = tmp_path / "profilesync.yaml"
    settings = Settings.from_environment({"TABLE_NAME": "t", "PROFILESYNC_CONFIG": str(document)})
    # WHEN nothing looks at the connectors THEN nothing was read (merge never looks)
    assert settings.table_name == "t"
    # WHEN the connectors are looked at THEN the document's error is the one it always was
    with pytest.raises(ConfigurationError, match="no such configuration document"):
        dict(settings.connectors)
    # GIVEN the document written WHEN looked at again THEN it is read, validated, and then kept
    document.write_text("version: 1\nconnectors:\n  hubspot: {}\n  shop:\n    vendor: shopify\n")
    assert sorted(settings.connectors) == ["hubspot", "shop"]
    assert settings.connectors["shop"].vendor == "shopify"
    assert len(settings.connectors) == 2
    document.write_text("version: 1\nconnectors: {}\n")
    assert sorted(settings.document.connectors) == ["hubspot", "shop"]
    # AND a relative path is relative to the code directory the environment names
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "staging.yaml").write_text("version: 1\nconnectors:\n  klaviyo: {}\n")
    relative = Settings.from_environment(
        {"TABLE_NAME": "t", "PROFILESYNC_CONFIG": "staging.yaml", "LAMBDA_TASK_ROOT": str(tmp_path / "code")}
    )
    assert list(relative.connectors) == ["klaviyo"]


def test_a_connector_is_looked_up_once_per_execution_environment() -> None:
    # GIVEN a wiring whose registry lookups are counted
    looked_up: list[str] = []

    def lookup(name: str) -> Any:
        looked_up.append(name)
        return registry.get(name)

    settings = Settings(table_name="t", connectors=parse_connectors('{"hubspot": {}, "mailchimp": {}}'))
    w = Wiring(settings, dynamodb=object(), plugins=lookup)
    # WHEN the destinations are listed on several invocations and a plugin is asked for again
    for _ in range(3):
        assert w.destinations() == ["hubspot", "mailchimp"]
    assert w.plugin("hubspot").spec.name == "hubspot"
    # THEN the registry was read once per connector
    assert sorted(looked_up) == ["hubspot", "mailchimp"]
