"""The embedded store's path never imports the DynamoDB adapter (about 36 ms of its start-up).

``profilesync resolve`` on a state directory (SQLite) runs in a fresh interpreter: this test
process has long since imported everything, so only a new one shows what a run imports. A module
of ``core.storage.dynamodb*`` in its ``sys.modules`` afterwards (but the shared transaction limits)
means something on the embedded path imports the adapter at start-up again
(``core.storage.sqlite_sync`` did, for one constant).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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
    lines = [{"source": "shop", "id": "c1", "updated_at": "2026-08-24T10:33:02Z", "email": "a@example.org"}]
    lines += [
        {
            "source": "shop",
            "id": f"o{i}",
            "object_type": "order",
            "owner_id": "c1",
            "updated_at": "2026-08-24T10:33:02Z",
            "orders": [
                {"id": f"o{i}", "total": "1.50", "currency": "GBP", "ordered_at": "2026-08-01T00:00:00Z"}
            ],
        }
        for i in range(3)
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(source), str(tmp_path / "out"), str(tmp_path / "state")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out").exists()
    # core.storage.dynamodb_transactions is the limits of one transaction, which every store applies
    # alike (core.errors and core.ports only); the adapter and its reads and writes are the rest.
    assert json.loads(done.stdout.splitlines()[-1]) == ["core.storage.dynamodb_transactions"]
