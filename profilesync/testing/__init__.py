"""Test kits for connector authors: the shared contract suite (``contract``) and the vendor-spec
validators (``specs``). Import them from tests; nothing here runs in Lambda."""
