"""Entry point for gunicorn: `gunicorn wsgi:app`."""

from opdigital import create_app

app = create_app()
