"""OP Digital: the participatory-budget platform.

Flask is imported inside `create_app` so that pure packages (counting, ledger verifier) can be
used where Flask is not installed.
"""

from __future__ import annotations

from typing import Any


def create_app(config: str | type | None = None, **overrides: Any):
    """Build the Flask application: a list of small steps, no side effects."""
    from flask import Flask

    from opdigital.resources import instance_dir, resource_dir
    from opdigital.settings import load_config

    app = Flask(
        __name__,
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
        instance_path=str(instance_dir()),
    )
    app.config.from_object(config if isinstance(config, type) else load_config(config))
    app.config.update(overrides)

    from opdigital import factory

    for step in factory.STEPS:
        step(app)
    return app
