"""Paper ballots at a voting point: printed sheets, the paper list, double entry and sealing
(docs/voting-day.md; docs/tally-format.md, "Paper ballots")."""
