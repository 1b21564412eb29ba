"""gunicorn's settings for OP Digital: `gunicorn -c config/gunicorn.conf.py`.

It serves the installed package (`wsgi_app` below), from any directory; in a checkout,
`gunicorn -c config/gunicorn.conf.py wsgi:app` serves the same app through wsgi.py (an app
named on the command line wins over `wsgi_app`).

The app runs behind the reverse proxy of config/nginx/ (docs/deploy.md), which hands gunicorn
only complete requests: sync workers, each serving one request at a time, are safe only so.
Anything here can be overridden on the command line (`--workers 8`, `--bind ...`) or in
GUNICORN_CMD_ARGS.
"""

import multiprocessing
import os

# The app: gunicorn calls the factory once per worker. The settings come from the environment
# (config/opdigital.env.example).
wsgi_app = "opdigital:create_app()"

# Only the proxy may reach gunicorn (a client reaching it directly could forge
# X-Forwarded-For, and would meet workers that wait for slow bodies): loopback, a unix socket
# (`--bind unix:/run/opdigital/gunicorn.sock`) or a private address behind a firewall.
bind = "127.0.0.1:8000"

# Sync workers gave the best p99 in the cast benchmark; about two per core. WEB_CONCURRENCY
# is gunicorn's usual variable for the count.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count())

# A worker silent for this long is killed and replaced. A cast takes milliseconds and the
# database connect timeout is 3 s; nginx waits longer than this (proxy_read_timeout).
timeout = 30
# On a restart or deploy, requests in flight get this long to finish.
graceful_timeout = 30

# No access log here: nginx keeps one.
accesslog = None
