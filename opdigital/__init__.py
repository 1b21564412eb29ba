"""OP Digital: the participatory-budget platform.

Flask is imported inside `create_app` so that pure packages (counting, ledger verifier) can be
used where Flask is not installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type | None = None, **overrides: Any):
    """Build the Flask application: a list of small steps, no side effects."""
    from flask import Flask

    from config import load_config

    app = Flask(
        __name__,
        template_folder=str(_ROOT / "templates"),
        static_folder=str(_ROOT / "static"),
        instance_path=str(_ROOT / "instance"),
    )
    app.config.from_object(config if isinstance(config, type) else load_config(config))
    app.config.update(overrides)

    from opdigital import factory

    for step in factory.STEPS:
        step(app)
    return app
