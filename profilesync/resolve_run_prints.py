"""After a probabilistic ``resolve`` on the embedded default: the customers holding a record its
model links to a line the run dropped as an erased person's, erased from the run's store.

During the run, the lines it drops as hers are fingerprints for the rest of it (core.suppression_run),
so a later line linked to one is dropped too. A line of hers read in an *earlier* batch (a file is
batched by shared identifiers, connectors.jsonl.batched: her shop line under a private address need
not share her CRM line's batch) was stored before the run knew; so once every line is read, when the
run kept fingerprints, its store's records are weighed against them, and the customers of those the
model links are erased from it, whole, as an erasure takes a customer (their records counted in
``erased, dropped``). A run that dropped nothing with a model reads nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from core.identity import IdentityPolicy
    from core.linkage import LinkageRecord
    from core.storage.sqlite_database import SQLiteDatabase
    from core.suppression import SuppressionCheck
    from profilesync.resolve import ResolveReport

__all__ = ["take_out_linked"]

#: The run's records weighed against the fingerprints together.
_RECORDS_PER_PAGE: Final = 5000


def take_out_linked(
    check: SuppressionCheck | None, database: SQLiteDatabase, policy: IdentityPolicy, report: ResolveReport
) -> None:
    """Erase from the run's store (``database``, which nobody else writes) the customers holding a
    record linked to the fingerprints ``check`` kept during the run, counting their records."""
    from core.suppression_run import RunSuppressionCheck

    prints = check.run_prints if isinstance(check, RunSuppressionCheck) else None
    if prints is None:
        return
    from core.link_nodes import graph_node
    from core.schema import SourceRecord

    customer_of: dict[str, str] = {}
    linked: set[str] = set()
    page: list[tuple[str, LinkageRecord]] = []
    with database.reading() as conn:
        rows = conn.execute(
            "SELECT pk, data FROM items WHERE sk >= 'SOURCE#' AND sk < 'SOURCE$' AND data IS NOT NULL"
        )
        for pk, data in rows:  # a page at a time: a record linked to one found is fingerprinted too
            record = SourceRecord.model_validate_json(data)
            node = graph_node(record, policy)
            if node.person:
                customer_of[record.key] = pk
                page.append((record.key, node.record))
            if len(page) >= _RECORDS_PER_PAGE:
                linked |= prints.take_linked(page)
                page.clear()
    linked |= prints.take_linked(page)
    customers = sorted({customer_of[key] for key in linked})
    if not customers:
        return
    with database.writing() as conn:
        for pk in customers:
            (records,) = conn.execute(
                "SELECT COUNT(*) FROM items WHERE pk = ? AND sk >= 'SOURCE#' AND sk < 'SOURCE$'", (pk,)
            ).fetchone()
            report.erased_after += records
            conn.execute("DELETE FROM items WHERE pk = ?", (pk,))
            # the identifier items it owns, and its markers under identifiers others own
            conn.execute(
                "DELETE FROM items WHERE owner = ? AND (sk = 'IDENT' OR sk = ?)",
                (pk[len("CUSTOMER#") :], "HOLDER#" + pk[len("CUSTOMER#") :]),
            )
