"""The process's botocore session (core.storage.aws_clients): one session for every client, and a data
loader that checks one service's directory instead of listing every service botocore ships.

Directory listings are counted in a fresh interpreter: this test process has long since made its
session and loaded its models.
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.loaders import Loader, create_loader

from core.storage.aws_clients import KnownServices, aws_client, service_directory_loader
from tests.unit.functions.test_cold_start import run_fresh  # a fresh interpreter, Lambda's environment

COUNT_LISTINGS = """
import json, os, sys
listed = []
real_listdir = os.listdir
def listdir(path="."):
    listed.append(str(path))
    return real_listdir(path)
os.listdir = listdir
from core.storage.aws_clients import aws_client
aws_client("dynamodb"); aws_client("secretsmanager")
print(json.dumps(len(listed)))
"""


def test_making_clients_lists_only_their_own_services_directories() -> None:
    # GIVEN a fresh process WHEN it makes a DynamoDB and a Secrets Manager client
    listings = run_fresh(COUNT_LISTINGS)
    # THEN it listed a handful of directories (each service's versions), not all ~450 services'
    # twice, as botocore's own loader does (once for the model, once for the endpoint rules)
    stock = run_fresh(
        COUNT_LISTINGS.replace(
            "from core.storage.aws_clients import aws_client",
            "import botocore.session\naws_client = botocore.session.get_session().create_client",
        )
    )
    assert stock > 400, stock  # the yardstick: the stock loader walks botocore's whole data directory
    assert listings <= 12, listings


@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"])
def test_the_loader_knows_exactly_the_services_botocores_loader_knows(type_name: str) -> None:
    # GIVEN botocore's own loader and ours over the same search path
    stock: Loader = create_loader()
    ours = service_directory_loader(botocore.session.get_session())
    names = stock.list_available_services(type_name)
    known = ours.list_available_services(type_name)
    # WHEN asked about every service botocore ships, and about names no service has
    # THEN each answer is botocore's, and the full list is the same list, in the same order
    assert all(name in known for name in names)
    strangers = ["dynamo", "", "..", "../dynamodb", "dynamodb/2012-08-10", ".hidden", "DYNAMODB", "s3 "]
    assert not any(name in known for name in strangers)
    assert list(known) == names
    assert len(known) == len(names)
    assert known[0] == names[0]


def test_an_unknown_service_is_refused_as_botocore_refuses_it() -> None:
    # GIVEN our session WHEN a client of a service that does not exist is asked for
    with pytest.raises(UnknownServiceError) as refused:
        aws_client("dynamodbb")
    # THEN botocore's error names the service and lists the valid ones, as it always did
    message = str(refused.value)
    assert "Unknown service: 'dynamodbb'" in message
    assert "dynamodb, dynamodbstreams" in message


def test_known_services_lists_lazily_once() -> None:
    # GIVEN a loader whose full listing is counted
    calls: list[str] = []

    def list_all(type_name: str) -> list[str]:
        calls.append(type_name)
        return ["a", "b"]

    known = KnownServices(create_loader(), "service-2", list_all)
    # WHEN membership is asked THEN nothing is listed
    assert "dynamodb" in known
    assert calls == []
    # WHEN it is iterated, measured and indexed THEN the listing happened once
    assert (list(known), len(known), known[1], ", ".join(known)) == (["a", "b"], 2, "b", "a, b")
    assert calls == ["service-2"]


def test_the_data_path_setting_still_adds_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN AWS_DATA_PATH naming a directory with a service model of its own
    model_dir = tmp_path / "profilesyncfake" / "2024-01-01"
    model_dir.mkdir(parents=True)
    (model_dir / "service-2.json").write_text(
        json.dumps(
            {
                "version": "2.0",
                "metadata": {
                    "apiVersion": "2024-01-01",
                    "endpointPrefix": "profilesyncfake",
                    "protocol": "json",
                    "serviceId": "ProfilesyncFake",
                    "signatureVersion": "v4",
                    "targetPrefix": "Fake",
                    "jsonVersion": "1.0",
                },
                "operations": {},
                "shapes": {},
            }
        )
    )
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    # WHEN our loader is made for a session THEN it finds that model, as botocore's would
    loader = service_directory_loader(botocore.session.get_session())
    assert "profilesyncfake" in loader.list_available_services("service-2")
    assert (
        loader.load_service_model("profilesyncfake", "service-2")["metadata"]["serviceId"]
        == "ProfilesyncFake"
    )
