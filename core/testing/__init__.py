"""Reusable test material: a seeded population of overlapping people, and (later) connector contracts."""
