"""Where the app finds its templates, static files, migrations and instance folder.

The repository keeps `templates/`, `static/` and `migrations/` beside the package, and the
build puts them inside it (`opdigital/templates`, ...; pyproject.toml, `package-dir`). So an
installed wheel has them under the package, and a source checkout (`make run`, the editable
install of `make install`) has them one level up. Everything that needs one of them asks here,
so the app works the same from either, whatever the working directory.

No Flask here: the settings module uses it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The checkout this package sits in, if it sits in one (nothing to read there when installed).
SOURCE_ROOT = PACKAGE_DIR.parent
RESOURCES = ("templates", "static", "migrations")


def resource_dir(name: str) -> Path:
    """The directory `name` (one of RESOURCES): installed package data, else the checkout's."""
    if name not in RESOURCES:
        raise ValueError(f"{name!r} is not one of {RESOURCES}")
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else SOURCE_ROOT / name


def is_source_checkout() -> bool:
    """True when the package runs from the repository (the data sits beside it)."""
    return not (PACKAGE_DIR / "templates").is_dir() and (SOURCE_ROOT / "templates").is_dir()


def instance_dir() -> Path:
    """Local state (the development database, a default signing key path).

    A checkout keeps it in its own `instance/`, as `make run` always has; an installed package
    uses Flask's place for installed apps, `<sys.prefix>/var/opdigital-instance`, never
    site-packages. Production sets its paths explicitly (config/opdigital.env.example).
    """
    if is_source_checkout():
        return SOURCE_ROOT / "instance"
    return Path(sys.prefix) / "var" / "opdigital-instance"
