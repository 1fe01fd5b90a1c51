"""The governed single view: who may read which part of a profile, what every change did, and how
good each source's data is. Pure; the DynamoDB and in-memory adapters live in core.storage.

| module      | what it holds                                                                      |
| ----------- | ---------------------------------------------------------------------------------- |
| policy      | the role policy document, roles matched by IAM ARN pattern or tag                  |
| masking     | ``a***@example.com``, ``***0018``: what a role that may only know a value exists sees |
| view        | ``render``: the one place a role's grant filters an answer                          |
| reading     | lookups (normalised as ingest does), the ``ProfileReader`` port, the read audit     |
| history     | the history event and the ``HistoryStore`` port (append, page, inherit on merge)    |
| changes     | the events ingest, merges and splits write, in the change's own transaction         |
| unmerge     | ``split_from_event``: undo a merge from its history event                           |
| person_record | the export's history and "who read this person in the last 90 days"              |
| explain     | the identity graph of one customer, with the reason of each join                    |
| answer      | ``answer_read``: one audited read, from lookup to filtered document                 |
| quality     | data quality per source and run, and the quarantine-share jump between runs         |

Modules are imported by name (``from core.governance.policy import RolePolicy``): the pull function
needs only ``quality``, and the profile API's cold start should not pay for what it does not use.
"""
