"""profilesync connectors: pull customers from each tool's API and push enriched profiles back.

Every connector builds on the shared HTTP kit in ``connectors._http`` (auth, rate limits, retries,
pagination, secrets), so throttling and error handling behave the same for every vendor.
"""
