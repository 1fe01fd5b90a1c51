"""profilesync entry points: the CLI, the embedded AWS used locally, and the template reader.

Imports point one way: ``profilesync`` -> ``functions`` -> ``connectors`` -> ``core``.
"""

__version__ = "0.1.0"
