"""Our own import-linter contract type, registered in pyproject.toml's `[tool.importlinter]`.

`module_cycles`: no import cycle among the modules of a package. import-linter's built-in
`acyclic_siblings` adds up whole subpackages, so two packages whose modules import each other
without any module-level circle would count as a cycle there; here a cycle is a circle of
module imports, found on grimp's graph (imports inside functions included: they run too).

One shape is allowed: a package's `__init__` importing its own submodules, as Flask blueprints
do (microblog's pattern: `bp` is defined in the package, the route modules are imported at its
bottom and import `bp` from the package). Such an import is left out only when looking for
cycles that stay inside that package; a circle that leaves the package is still reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from importlinter import Contract, ContractCheck, fields, output

Import = tuple[str, str]  # (importer, imported)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _reachable(start: str, successors: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for module in successors[todo.pop()] - seen:
            seen.add(module)
            todo.append(module)
    return seen


def strong_components(imports: Iterable[Import]) -> set[frozenset[str]]:
    """The groups of modules that all reach each other (the graph is small: plain reachability)."""
    successors: dict[str, set[str]] = defaultdict(set)
    for importer, imported in imports:
        successors[importer].add(imported)
    reach = {module: _reachable(module, successors) for module in list(successors)}
    return {
        frozenset(other for other in reach[module] if module in reach.get(other, ()))
        for module in reach
        if module in reach[module]
    }


def _owning_package(modules: frozenset[str]) -> str | None:
    """The member that contains all the others (a package and its own submodules), if any."""
    top = min(modules, key=lambda name: name.count("."))
    return top if all(_is_within(module, top) for module in modules) else None


def find_cycles(imports: Iterable[Import]) -> list[tuple[list[str], list[Import]]]:
    """Each import cycle as (its modules, the imports between them), both sorted.

    A group that lies inside one of its members, a package, is examined again without that
    package's imports of its own submodules: what is left circular is reported.
    """
    cycles = []
    pending = [set(imports)]
    while pending:
        edges = pending.pop()
        for component in strong_components(edges):
            inner = {(a, b) for a, b in edges if a in component and b in component}
            package = _owning_package(component)
            if package is None:
                cycles.append((sorted(component), sorted(inner)))
            else:
                pending.append({(a, b) for a, b in inner if a != package})
    return sorted(cycles)


class ModuleCyclesContract(Contract):
    """No import cycle among the modules of the `containers` packages (see the module's text).

    Configuration: `containers`, the packages to look inside (their modules and subpackages;
    imports of anything outside them cannot close a circle inside them and are not followed).
    """

    type_name = "module_cycles"

    containers = fields.SetField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        modules = self._modules(graph)
        imports = {
            (importer, imported)
            for importer in modules
            for imported in graph.find_modules_directly_imported_by(importer)
            if imported in modules
        }
        found = find_cycles(imports)
        output.verbose_print(verbose, f"{len(modules)} modules, {len(found)} import cycles.")
        return ContractCheck(
            kept=not found,
            metadata={
                "cycles": [
                    {"modules": members, "imports": list(self._detailed(graph, edges))}
                    for members, edges in found
                ]
            },
        )

    def _modules(self, graph) -> set[str]:
        modules: set[str] = set()
        for container in self.containers:  # type: ignore[attr-defined]
            if container not in graph.modules:
                raise ValueError(f"Module '{container}' does not exist.")
            modules |= {container} | graph.find_descendants(container)
        return modules

    @staticmethod
    def _detailed(graph, edges: list[Import]) -> Iterator[dict]:
        for importer, imported in edges:
            details = graph.get_import_details(importer=importer, imported=imported)
            lines = sorted({d["line_number"] for d in details})
            yield {"importer": importer, "imported": imported, "line_numbers": lines}

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle among {', '.join(cycle['modules'])}:")
            output.new_line()
            for edge in cycle["imports"]:
                lines = ", ".join(f"l.{n}" for n in edge["line_numbers"])
                output.print_error(
                    f"-   {edge['importer']} -> {edge['imported']} ({lines})", bold=False
                )
            output.new_line()
