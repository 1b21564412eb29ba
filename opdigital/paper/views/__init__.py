"""Pages of this feature (a blueprint package; see docs/architecture.md)."""
