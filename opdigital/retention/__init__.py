"""Retention: what personal data is kept, for how long, and the rules that delete it when its
purpose ends (docs/data-model.md, "Retention")."""
