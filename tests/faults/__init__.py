"""Fault injection on real servers: killed workers, Redis and PostgreSQL restarts."""
