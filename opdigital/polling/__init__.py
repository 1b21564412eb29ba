"""Voting day at a public voting point: poll workers open and close it, see its turnout,
identify voters from a document and record who voted on paper (docs/voting-day.md)."""
