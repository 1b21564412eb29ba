"""Voting by phone: a toll-free voice line (TwiML webhooks) and text messages (SMS or a
messaging app), both driving one dialogue (`dialogue.py`, pure) on the web's services.

docs/phone.md says how it works and how a city connects a provider's number to it.
"""
