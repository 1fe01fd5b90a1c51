"""profilesync core: the canonical schema, normalisation, identity resolution and merge.

The modules here are pure (no boto3, no httpx); adapters live in ``core.storage`` and in ``connectors``.
"""
