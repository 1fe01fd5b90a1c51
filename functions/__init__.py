"""Lambda handlers: thin adapters from AWS events to the use cases in core/."""
