"""Keep the inputs and outputs tables of docs/terraform.md in step with variables.tf and outputs.tf.

The tables sit between `<!-- BEGIN_TF_INPUTS -->` / `<!-- END_TF_INPUTS -->` and
`<!-- BEGIN_TF_OUTPUTS -->` / `<!-- END_TF_OUTPUTS -->`, like terraform-docs' markers; everything
else in the document is written by hand. A small brace-matching reader is enough for the module's
own files (no HCL library needed).

Usage:
    python scripts/tf_docs.py            # rewrite the tables in docs/terraform.md
    python scripts/tf_docs.py --check    # exit 1 if they are out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "terraform.md"
BLOCK = re.compile(r'^(variable|output) "([A-Za-z0-9_-]+)" \{', re.MULTILINE)


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str
    default: str | None  # HCL text; None when the variable is required


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool


def _block_body(text: str, start: int) -> str:
    """The text between the brace at `start` and its match, skipping braces inside strings."""
    depth = 0
    in_string = False
    i = start
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    raise ValueError("unbalanced braces")


def _top_level_attribute(body: str, name: str) -> str | None:
    """The HCL expression of a top-level `name = ...` attribute (multi-line values included)."""
    depth = 0
    lines = body.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if depth == 0 and re.match(rf"^{name}\s*=", stripped):
            value = stripped.split("=", 1)[1].strip()
            opened = value.count("{") + value.count("[") + value.count("(")
            closed = value.count("}") + value.count("]") + value.count(")")
            collected = [value]
            j = index + 1
            while opened > closed and j < len(lines):
                part = lines[j].strip()
                if collected[-1][-1:] not in "{[(," and part[:1] not in "}])":
                    collected[-1] += ","
                collected.append(part)
                opened += part.count("{") + part.count("[") + part.count("(")
                closed += part.count("}") + part.count("]") + part.count(")")
                j += 1
            return " ".join(collected)
        depth += line.count("{") - line.count("}")
    return None


def _string(expression: str | None) -> str:
    if expression is None:
        return ""
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', expression)
    return match.group(1).replace('\\"', '"').replace("\\\\", "\\") if match else expression


def _tidy(expression: str) -> str:
    """One-line HCL: no blank runs, no space before a closing bracket."""
    text = re.sub(r"\s+", " ", expression).strip()
    text = re.sub(r"([\[{(]) ", r"\1", text)
    text = re.sub(r",? ([\]})])", r"\1", text)
    return text


def parse_variables(path: Path) -> list[Variable]:
    text = path.read_text()
    variables = []
    for match in BLOCK.finditer(text):
        if match.group(1) != "variable":
            continue
        body = _block_body(text, match.end() - 1)
        default = _top_level_attribute(body, "default")
        variables.append(
            Variable(
                name=match.group(2),
                description=_string(_top_level_attribute(body, "description")),
                type=_tidy(_top_level_attribute(body, "type") or "any"),
                default=None if default is None else _tidy(default),
            )
        )
    return variables


def parse_outputs(path: Path) -> list[Output]:
    text = path.read_text()
    outputs = []
    for match in BLOCK.finditer(text):
        if match.group(1) != "output":
            continue
        body = _block_body(text, match.end() - 1)
        outputs.append(
            Output(
                name=match.group(2),
                description=_string(_top_level_attribute(body, "description")),
                sensitive=(_top_level_attribute(body, "sensitive") or "false") == "true",
            )
        )
    return outputs


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(text: str) -> str:
    """Description text for a table cell: angle-bracket names like <name> must not read as HTML tags."""
    return _cell(text).replace("<", "&lt;").replace(">", "&gt;")


def render_inputs(variables: list[Variable]) -> str:
    rows = ["| Name | Description | Type | Default | Required |", "|------|-------------|------|---------|:--------:|"]
    for v in sorted(variables, key=lambda v: v.name):
        default = "n/a" if v.default is None else f"`{_cell(v.default)}`"
        required = "yes" if v.default is None else "no"
        rows.append(f"| `{v.name}` | {_prose(v.description)} | `{_cell(v.type)}` | {default} | {required} |")
    return "\n".join(rows)


def render_outputs(outputs: list[Output]) -> str:
    rows = ["| Name | Description | Sensitive |", "|------|-------------|:---------:|"]
    for o in sorted(outputs, key=lambda o: o.name):
        rows.append(f"| `{o.name}` | {_prose(o.description)} | {'yes' if o.sensitive else 'no'} |")
    return "\n".join(rows)


def _replace_between(document: str, marker: str, content: str) -> str:
    begin, end = f"<!-- BEGIN_TF_{marker} -->", f"<!-- END_TF_{marker} -->"
    if begin not in document or end not in document:
        raise ValueError(f"{DOC.name} lacks the {begin} ... {end} markers")
    head, rest = document.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content}\n{end}{tail}"


def render(document: str, module_dir: Path = ROOT) -> str:
    """The document with both tables regenerated from the module's .tf files."""
    document = _replace_between(document, "INPUTS", render_inputs(parse_variables(module_dir / "variables.tf")))
    return _replace_between(document, "OUTPUTS", render_outputs(parse_outputs(module_dir / "outputs.tf")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/terraform.md is out of date")
    args = parser.parse_args(argv)
    current = DOC.read_text()
    updated = render(current)
    if args.check:
        if updated != current:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python scripts/tf_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
