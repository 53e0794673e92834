"""docs/terraform.md: the inputs and outputs tables follow variables.tf and outputs.tf."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .tf_support import ROOT, load_script

tf_docs = load_script("tf_docs")
DOC = ROOT / "docs" / "terraform.md"


def _table_rows(document: str, marker: str) -> dict[str, list[str]]:
    section = document.split(f"<!-- BEGIN_TF_{marker} -->")[1].split(f"<!-- END_TF_{marker} -->")[0]
    rows = {}
    for line in section.strip().splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        rows[cells[0].strip("`")] = cells
    return rows


def test_inputs_table_lists_every_variable_with_its_default() -> None:
    names = re.findall(r'^variable "([a-z0-9_]+)" \{', (ROOT / "variables.tf").read_text(), re.MULTILINE)
    rows = _table_rows(DOC.read_text(), "INPUTS")
    assert sorted(rows) == sorted(names)
    variables = {v.name: v for v in tf_docs.parse_variables(ROOT / "variables.tf")}
    for name, cells in rows.items():
        assert cells[4] == ("yes" if variables[name].default is None else "no"), name
    assert rows["lambda_package"][4] == "no", "lambda_package is optional: the module ships its package"
    assert rows["name"][3] == '`"eksdiag"`'
    assert rows["lambda_architecture"][3] == '`"arm64"`'


def test_outputs_table_lists_every_output_and_marks_secrets() -> None:
    names = re.findall(r'^output "([a-z0-9_]+)" \{', (ROOT / "outputs.tf").read_text(), re.MULTILINE)
    rows = _table_rows(DOC.read_text(), "OUTPUTS")
    assert sorted(rows) == sorted(names)
    assert [n for n, cells in rows.items() if cells[2] == "yes"] == ["client_secret"]


def test_tables_are_up_to_date() -> None:
    document = DOC.read_text()
    assert tf_docs.render(document) == document, "run: python scripts/tf_docs.py"


def test_a_new_variable_makes_the_tables_stale(tmp_path: Path) -> None:
    shutil.copy(ROOT / "outputs.tf", tmp_path / "outputs.tf")
    variables = (ROOT / "variables.tf").read_text()
    variables += '\nvariable "extra_knob" {\n  description = "A knob."\n  type        = number\n  default     = 3\n}\n'
    (tmp_path / "variables.tf").write_text(variables)
    document = DOC.read_text()
    updated = tf_docs.render(document, tmp_path)
    assert updated != document
    assert "| `extra_knob` | A knob. | `number` | `3` | no |" in updated


MODULE_VARIABLES = ["variables.tf", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("modules/*/variables.tf"))]
MODULE_OUTPUTS = ["outputs.tf", *sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("modules/*/outputs.tf"))]


@pytest.mark.parametrize("path", MODULE_VARIABLES)
def test_every_variable_is_typed_and_described(path: str) -> None:
    for variable in tf_docs.parse_variables(ROOT / path):
        assert variable.description, f"{path}: {variable.name} has no description"
        assert variable.type != "any", f"{path}: {variable.name} has no type"


@pytest.mark.parametrize("path", MODULE_OUTPUTS)
def test_every_output_is_described(path: str) -> None:
    for output in tf_docs.parse_outputs(ROOT / path):
        assert output.description, f"{path}: {output.name} has no description"
