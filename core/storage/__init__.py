"""Adapters behind ``core.ports.ProfileStore``: DynamoDB for real, and an in-memory twin."""
