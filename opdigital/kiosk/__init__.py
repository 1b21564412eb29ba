"""Kiosk mode: a voting point's shared device, enrolled by a coordinator (docs/voting-day.md)."""
