"""What the wheel holds and what a deployment sets, checked against the tree (quick).

tests/faults/test_installed_package.py builds the wheel and runs it; these catch the usual
drift earlier: a new package missing from pyproject.toml's explicit list, a new setting
missing from config/opdigital.env.example.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from opdigital import resources

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
ENV_EXAMPLE = ROOT / "config" / "opdigital.env.example"
# Read by the development settings only (`make run`), never in production.
DEVELOPMENT_ONLY = {"FLASK_DEBUG"}


def test_the_wheel_lists_every_package_and_the_data_directories():
    code = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "opdigital").rglob("__init__.py")
    }
    data = {f"opdigital.{name}" for name in resources.RESOURCES}
    assert set(PYPROJECT["packages"]) == code | data
    assert PYPROJECT["package-dir"] == {f"opdigital.{name}": name for name in resources.RESOURCES}
    for name in resources.RESOURCES:
        assert (ROOT / name).is_dir()
        assert PYPROJECT["package-data"][f"opdigital.{name}"] == ["**/*"]


def test_config_holds_deployment_files_not_code():
    assert not (ROOT / "config" / "__init__.py").exists()
    assert not any(name.startswith("config") for name in PYPROJECT["packages"])


def test_a_checkout_finds_its_own_directories():
    assert resources.is_source_checkout()
    for name in resources.RESOURCES:
        assert resources.resource_dir(name) == ROOT / name
    assert resources.instance_dir() == ROOT / "instance"


def test_the_example_environment_lists_every_setting():
    source = (ROOT / "opdigital" / "settings.py").read_text()
    read = set(re.findall(r'_env(?:_bool|_int)?\(\s*"([A-Z0-9_]+)"', source))
    assert {"SECRET_KEY", "DATABASE_URL", "BOARD_MIN_BATCH"} <= read  # the pattern still works
    listed = set(re.findall(r"^#?([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert read - DEVELOPMENT_ONLY <= listed, read - DEVELOPMENT_ONLY - listed
    assert listed - read <= {"WEB_CONCURRENCY"}, listed - read  # gunicorn's own
