"""What the tests share, kept out of the test modules so that no test module imports another.

Nothing here is collected (no `test_*` names): builders of test data, steps that drive the app
like a browser or an API client would, page audits, checks against the OpenAPI document, and
real server processes. One module per area:

- `factories`: small builders that commit one row each (regions, users, cycles, proposals), and
  one staff account per role.
- `client`: the Flask test client used like a browser (English pages, CSRF tokens, signing in,
  posting forms, a burst of requests at once).
- `pages`: the accessibility audit of one HTML page (landmarks, one h1, labelled fields).
- `api`: responses checked against `opdigital/api/openapi.json`, and the API tests' world.
- `coordination`: the coordinator screens' world, sign-in and form data.
- `voting`: títulos, roll entries, an open cycle with a ballot (and two voters), API ballot calls.
- `voting_web`: the citizen's web ballot, step by step.
- `ledger`: a synthetic cycle, its board and signed tally package (no Flask, no database).
- `production`: the environment a production deployment sets.
- `live`: real gunicorn processes for tests that need more than one process; the console script.
- `import_contracts`: our import-linter contract type (import cycles), used by `lint-imports`.

Fixtures stay in `conftest.py` files; modules here hold plain functions and classes. This
package imports nothing at import time, so `ledger` stays usable where Flask is blocked.
"""
