"""The architecture contracts of pyproject.toml (import-linter), and our own cycle contract.

`make lint` and `make test` run `lint-imports`; this test runs the same check so that a plain
`pytest` catches a broken contract too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.support.import_contracts import ModuleCyclesContract, find_cycles

ROOT = Path(__file__).resolve().parent.parent


# In a process of its own: `lint-imports` reconfigures logging, which would silence the loggers
# that later tests read (SQLAlchemy's).
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def test_the_import_contracts_are_kept():
    done = subprocess.run(  # noqa: S603 - our own interpreter and linter
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the module_cycles contract on small made-up graphs --------------------------------------


def check(imports: list[tuple[str, str]]):
    graph = grimp.ImportGraph()
    graph.add_module("pkg")
    for importer, imported in imports:
        for module in (importer, imported):
            graph.add_module(module)
        graph.add_import(
            importer=importer, imported=imported, line_number=3, line_contents="import it"
        )
    contract = ModuleCyclesContract(
        name="no cycles",
        session_options={"root_packages": ["pkg"]},
        contract_options={"containers": ["pkg"]},
    )
    return contract, contract.check(graph, verbose=False)


def test_a_circle_of_module_imports_is_reported_with_its_modules_and_imports(capsys):
    contract, result = check([("pkg.a", "pkg.b"), ("pkg.b", "pkg.c"), ("pkg.c", "pkg.a")])
    assert not result.kept
    (cycle,) = result.metadata["cycles"]
    assert cycle["modules"] == ["pkg.a", "pkg.b", "pkg.c"]
    assert [(i["importer"], i["imported"], i["line_numbers"]) for i in cycle["imports"]] == [
        ("pkg.a", "pkg.b", [3]),
        ("pkg.b", "pkg.c", [3]),
        ("pkg.c", "pkg.a", [3]),
    ]
    contract.render_broken_contract(result)
    shown = capsys.readouterr().out
    assert "Import cycle among pkg.a, pkg.b, pkg.c" in shown
    assert "pkg.c -> pkg.a (l.3)" in shown


def test_a_package_importing_its_own_route_modules_is_not_a_cycle():
    # The blueprint pattern: `bp` in pkg/__init__.py, which imports its route modules at the
    # bottom; each route module imports `bp` from the package.
    _contract, result = check(
        [
            ("pkg.web", "pkg.web.routes"),
            ("pkg.web.routes", "pkg.web"),
            ("pkg.web", "pkg.web.errors"),
            ("pkg.web.errors", "pkg.web"),
            ("pkg.web.routes", "pkg.services"),
        ]
    )
    assert result.kept
    assert result.metadata["cycles"] == []


def test_an_import_inside_a_function_counts(tmp_path, monkeypatch):
    # It runs as soon as the function is called: hiding an import in a function hides no cycle.
    package = tmp_path / "made_up_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def later():\n    from made_up_pkg import b\n")
    (package / "b.py").write_text("from made_up_pkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("made_up_pkg", cache_dir=None)
    contract = ModuleCyclesContract(
        name="no cycles",
        session_options={"root_packages": ["made_up_pkg"]},
        contract_options={"containers": ["made_up_pkg"]},
    )
    (cycle,) = contract.check(graph, verbose=False).metadata["cycles"]
    assert cycle["modules"] == ["made_up_pkg.a", "made_up_pkg.b"]
    assert cycle["imports"][0] == {
        "importer": "made_up_pkg.a",
        "imported": "made_up_pkg.b",
        "line_numbers": [2],
    }


def test_route_modules_importing_each_other_are_a_cycle():
    assert find_cycles(
        [
            ("pkg.web", "pkg.web.a"),
            ("pkg.web", "pkg.web.b"),
            ("pkg.web.a", "pkg.web"),
            ("pkg.web.b", "pkg.web"),
            ("pkg.web.a", "pkg.web.b"),
            ("pkg.web.b", "pkg.web.a"),
        ]
    ) == [(["pkg.web.a", "pkg.web.b"], [("pkg.web.a", "pkg.web.b"), ("pkg.web.b", "pkg.web.a")])]


def test_a_circle_that_leaves_the_package_is_a_cycle():
    # The package's import of its own route module is allowed only inside the package.
    modules, imports = find_cycles(
        [("pkg.web", "pkg.web.routes"), ("pkg.web.routes", "pkg.other"), ("pkg.other", "pkg.web")]
    )[0]
    assert modules == ["pkg.other", "pkg.web", "pkg.web.routes"]
    assert ("pkg.web", "pkg.web.routes") in imports


def test_separate_cycles_are_reported_separately():
    found = find_cycles([("pkg.a", "pkg.b"), ("pkg.b", "pkg.a"), ("pkg.c", "pkg.d")] * 2)
    assert [modules for modules, _ in found] == [["pkg.a", "pkg.b"]]
    found = find_cycles(
        [("pkg.a", "pkg.b"), ("pkg.b", "pkg.a"), ("pkg.c", "pkg.d"), ("pkg.d", "pkg.c")]
    )
    assert [modules for modules, _ in found] == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
