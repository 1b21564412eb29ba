"""End-to-end tests in headless Chromium (Debian's package) against a real gunicorn server."""
