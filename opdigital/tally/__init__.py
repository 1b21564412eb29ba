"""Closing a vote and tallying it: the signed tally package, stored and published."""
