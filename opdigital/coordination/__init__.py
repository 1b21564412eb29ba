"""Coordinator screens: cycles, calendar, budgets and proposal review for city staff."""
