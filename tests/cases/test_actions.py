"""Each case and assignment action has a home (cases/actions.py) and is documented as itself in the API schema."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from drf_spectacular.generators import SchemaGenerator

from hotline.cases import actions

CASES = Path(__file__).resolve().parents[2] / "hotline" / "cases"


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _ref_name(operation: dict) -> str:
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1].removesuffix("Request")


def test_every_case_action_has_its_own_summary_and_body(schema):
    for slug, action in actions.CASE_ACTIONS.items():
        operation = schema["paths"][f"/api/v1/cases/{{id}}/{slug}/"]["post"]
        assert operation["summary"] == action.summary
        assert _ref_name(operation) == action.input.__name__.removesuffix("Serializer")
    dispatch = schema["paths"]["/api/v1/cases/{id}/dispatch/"]["post"]
    assert "targets" in schema["components"]["schemas"][_ref_name(dispatch) + "Request"]["properties"]


def test_every_assignment_action_has_its_own_summary_and_body(schema):
    for slug, action in actions.ASSIGNMENT_ACTIONS.items():
        operation = schema["paths"][f"/api/v1/assignments/{{id}}/{slug}/"]["post"]
        assert operation["summary"] == action.summary
        assert _ref_name(operation) == action.input.__name__.removesuffix("Serializer")
    assert len(actions.CASE_ACTIONS) == 22
    assert len(actions.ASSIGNMENT_ACTIONS) == 10


def _local_imports(path: Path) -> set[str]:
    """Modules of the cases package that `path` imports (relative or absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:
                names.update([module] if module else [alias.name for alias in node.names])
            elif module.startswith("hotline.cases"):
                names.add(module.removeprefix("hotline.cases").lstrip(".") or node.names[0].name)
    return {name.split(".")[0] for name in names}


def test_screens_and_api_do_not_import_each_other():
    assert {"actions", "filters"} <= _local_imports(CASES / "views.py")
    assert "api" not in _local_imports(CASES / "views.py")
    assert "views" not in _local_imports(CASES / "api.py")
