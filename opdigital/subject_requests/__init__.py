"""Data-subject requests (LGPD art. 18): the public form, the code, the encarregado's queue."""
