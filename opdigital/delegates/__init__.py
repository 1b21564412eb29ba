"""Delegates: the roll of delegates, substitutes and Comforça members, and delegate codes."""
