"""core is the bottom layer: no module in it imports a domain app (except for type hints)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clinicportal"
CORE = PACKAGE / "core"
# Every package beside core is a domain app (api too, with no models), and so will new ones be.
DOMAIN_APPS = frozenset(
    path.name
    for path in PACKAGE.iterdir()
    if (path / "__init__.py").exists() and path.name != "core"
)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The dotted names an import statement brings in (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parent, *([base] if base else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def domain_imports(source: str, *, package: str) -> list[str]:
    """Imports of a domain app in ``source`` outside ``if TYPE_CHECKING:`` blocks."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for other in node.orelse:
                visit(other)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            apps = {
                parts[1]
                for parts in (name.split(".") for name in _imported(node, package))
                if len(parts) > 1 and parts[0] == "clinicportal" and parts[1] in DOMAIN_APPS
            }
            found.extend(f"line {node.lineno}: {app}" for app in sorted(apps))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def test_the_domain_apps_are_found():
    assert {
        "accounts",
        "practices",
        "audit",
        "content",
        "patients",
        "office",
        "records",
        "notifications",
        "portal",
        "api",
        "demo",
    } <= DOMAIN_APPS


def test_the_check_sees_every_form_of_import_but_type_hints():
    source = """
from typing import TYPE_CHECKING
import clinicportal.accounts.models
from clinicportal.content import blobstore
from clinicportal import notifications
from ..office.once import submit_once
from . import http
from clinicportal.core.context import StaffActor
if TYPE_CHECKING:
    from clinicportal.patients.models import Patient
else:
    from clinicportal.records import services

def later():
    from clinicportal.portal import views
"""
    assert domain_imports(source, package="clinicportal.core") == [
        "line 3: accounts",
        "line 4: content",
        "line 5: notifications",
        "line 6: office",
        "line 12: records",
        "line 15: portal",
    ]


def test_core_imports_no_domain_app():
    problems = []
    for path in sorted(CORE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for found in domain_imports(path.read_text(), package=package):
            problems.append(f"{path.relative_to(ROOT)} {found}")
    assert problems == []
