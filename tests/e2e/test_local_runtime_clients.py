"""The local runtime's clients: new ones for each runtime, from data botocore reads once per process.

A runtime stands for one deployment: its clients are its own, as a new Lambda execution environment's
are. botocore's service models and endpoint data never change, so a second runtime in the same process
(a test file's next case, the demo's next run) must not read them from disk again.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.loaders import JSONFileLoader

from profilesync.demo import make_sandboxes
from profilesync.local import LocalRuntime


@pytest.fixture
def files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    original = JSONFileLoader.load_file

    def load_file(self: JSONFileLoader, file_path: str) -> Any:
        read.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", load_file)
    return read


def test_a_second_runtime_makes_new_clients_without_reading_botocore_data_again(
    files_read: list[str],
) -> None:
    sandboxes = make_sandboxes(5, 3)
    # GIVEN a runtime built and used in this process (its clients' models are loaded)
    with LocalRuntime(sandboxes) as first:
        first.pull("hubspot")
        first.settle()
        clients = (first.dynamodb, first.sqs, first.streams)
    files_read.clear()
    # WHEN another runtime is built and runs the same path
    with LocalRuntime(sandboxes) as second:
        second.pull("hubspot")
        second.settle()
        # THEN it has clients of its own, and botocore read no data file for them
        assert all(
            new is not old
            for new, old in zip((second.dynamodb, second.sqs, second.streams), clients, strict=True)
        )
        assert second.dynamodb.meta.region_name == "us-east-1"
        assert list(second.wiring.profiles.iter_profiles())
    assert files_read == []
