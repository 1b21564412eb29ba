"""Entry point for gunicorn in a checkout: `gunicorn wsgi:app`.

An installed package needs no such file: config/gunicorn.conf.py names the app itself,
`opdigital:create_app()`.
"""

from opdigital import create_app

app = create_app()
