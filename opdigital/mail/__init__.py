"""Outgoing mail: a queue in the database (the outbox), sent by a background command."""
