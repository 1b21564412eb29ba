"""The pure core: ballot rules (what a valid ballot is) and counting rules (who wins).

Nothing here imports Flask or SQLAlchemy: the functions take plain values, so the same code runs
in the web app, in the tally, and in an auditor's verifier.
"""
