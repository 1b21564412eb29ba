"""The auditable tally's pure core: the ballot board's hash chain, the signed tally package,
the result it states, the signing keys, and the verifier that checks all of it.

Nothing here imports Flask, SQLAlchemy or the database: only the standard library,
`cryptography` and the pure `opdigital.counting`, so that an auditor can run
`python -m opdigital.ledger.verify FILE.zip` with just those installed. The database side
(board table, sealing, commands, web pages) lives elsewhere and calls these functions.
The format is documented in docs/tally-format.md.
"""
