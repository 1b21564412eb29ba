"""The ballot board in the database: sealed entries, the head, sealing pending ballots."""
