"""The record of processing (LGPD art. 37): what personal data the app keeps, why, on which
legal basis, for how long and with whom it is shared. `record.py` is the one source for the
privacy notice (`/privacidade`), its JSON (`/privacidade.json`) and `opdigital privacy export`.
"""
