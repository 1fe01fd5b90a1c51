"""The embedded store's path never imports the DynamoDB adapter (about 36 ms of its start-up).

``profilesync resolve`` on a state directory (SQLite) runs in a fresh interpreter: this test
process has long since imported everything, so only a new one shows what a run imports. A module
of ``core.storage.dynamodb*`` in its ``sys.modules`` afterwards (but the shared transaction limits)
means something on the embedded path imports the adapter at start-up again
(``core.storage.sqlite_sync`` did, for one constant).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.growing_customer import write_customer
from tests.unit.test_core_purity import run_python  # a fresh interpreter, the checkout on its path

_RUN = """
import json, sys
from profilesync.cli import main
try:
    main(["resolve", sys.argv[1], "--out", sys.argv[2], "--quiet", "--state-dir", sys.argv[3]])
except SystemExit as done:
    assert not done.code, done.code
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("core.storage.dynamodb", "boto")))))
"""


def test_resolve_on_the_embedded_store_imports_no_dynamodb_adapter(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_customer(source, orders=3)
    argv = [str(source), str(tmp_path / "out"), str(tmp_path / "state")]
    done = run_python(f"import sys; sys.argv[1:] = {argv!r}\n{_RUN}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").exists()
    # core.storage.dynamodb_transactions is the limits of one transaction, which every store applies
    # alike (core.errors and core.ports only); the adapter and its reads and writes are the rest.
    assert json.loads(done.stdout.splitlines()[-1]) == ["core.storage.dynamodb_transactions"]
