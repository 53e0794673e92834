"""Calling a tool: validate the arguments against its schema file, apply defaults, run, shape errors.

Shared by the Lambda entry points and the local MCP server, so both validate the same way.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from eksdiag.tools.base import MAX_RESULT_BYTES, ToolContext, ToolError, echo
from eksdiag.tools.registry import ToolRun, ToolSpec


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema's ``integer`` without its leniencies: ``True`` and ``5.0`` are not integers here.

    jsonschema accepts integral floats as integers; a tool would then slice, seek or size a deque with
    a float and crash instead of answering InvalidArgument.
    """
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _anchored(pattern: str) -> re.Pattern[str]:
    # Python's "$" also matches before a final "\n" (ECMA-262's, which JSON Schema means, does not)
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """``pattern`` with ECMA-262's end anchor: ``"b-...\n"`` is not a bundle id."""
    if validator.is_type(instance, "string") and not _anchored(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_StrictValidator = validators.extend(
    Draft202012Validator,
    validators={"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return _StrictValidator(schema)  # type: ignore[no-any-return]


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """A (cached) draft 2020-12 validator for ``schema``."""
    return _validator(json.dumps(schema, sort_keys=True))


_SPEC_VALIDATORS: dict[int, tuple[ToolSpec, Draft202012Validator]] = {}


def spec_validator(spec: ToolSpec) -> Draft202012Validator:
    """The validator of a tool's input schema, found by the spec itself: a server calls the same few
    specs all day, and the schema's text (``validator_for``'s key) costs as much to make as a
    validation."""
    hit = _SPEC_VALIDATORS.get(id(spec))
    if hit is None or hit[0] is not spec:  # the spec kept in the entry: its id cannot be reused
        hit = _SPEC_VALIDATORS[id(spec)] = (spec, validator_for(spec.input_schema))
    return hit[1]


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{echo(str(p), 40)[1:-1]}" for p in error.absolute_path)
    return path.lstrip(".") or "arguments"


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _describe(error: ValidationError) -> str:
    """One line about one schema violation, quoting at most a short prefix of the caller's value
    (jsonschema's own messages repeat the whole value: an 8 MiB string would come back whole)."""
    where, kind, rule, value = _where(error), error.validator, error.validator_value, error.instance
    if kind == "pattern":
        return f"{where}: {echo(value)} is not in the expected format (pattern {rule})"
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in rule)
        return f"{where}: {echo(value)} is not one of {allowed}"
    if kind in ("anyOf", "oneOf") and all(set(branch) == {"required"} for branch in rule):
        options = " or ".join("+".join(branch["required"]) for branch in rule)
        how = "exactly one" if kind == "oneOf" else "at least one"
        return f"{where}: give {how} of {options}"
    if kind == "type":
        expected = rule if isinstance(rule, str) else " or ".join(rule)
        return f"{where}: must be of type {expected}, got {_kind(value)}"
    if kind in ("maxLength", "minLength"):
        size = len(value) if isinstance(value, str) else 0
        bound = "at most" if kind == "maxLength" else "at least"
        return f"{where}: must be {bound} {rule} characters long, got {size}"
    if kind in ("maxItems", "minItems"):
        size = len(value) if isinstance(value, list) else 0
        bound = "at most" if kind == "maxItems" else "at least"
        return f"{where}: must have {bound} {rule} items, got {size}"
    if kind in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        return f"{where}: {echo(value)} is out of range ({kind} {rule})"
    if kind == "required":
        missing = [name for name in rule if isinstance(value, dict) and name not in value]
        return f"{where}: missing required argument {', '.join(missing) or rule}"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = set((error.schema or {}).get("properties") or {})
        extra = [echo(name, 40) for name in value if name not in known][:5]
        return f"{where}: unknown argument(s) {', '.join(extra)}"
    return f"{where}: invalid value ({kind} {echo(rule)})"


def _apply_defaults(schema: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in (schema.get("properties") or {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _apply_defaults(sub, value[key])


def validate_arguments(
    input_schema: dict[str, Any], args: Any, validator: Draft202012Validator | None = None
) -> dict[str, Any]:
    """Validated copy of ``args`` with schema defaults applied; raises ``ToolError("InvalidArgument")``.
    ``validator`` is ``input_schema``'s when the caller has it already."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ToolError("InvalidArgument", f"arguments must be a JSON object, got {type(args).__name__}")
    validator = validator or validator_for(input_schema)
    errors = sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path))
    if errors:
        first = best_match(errors) or errors[0]
        raise ToolError(
            "InvalidArgument",
            _describe(first),
            details={"problems": [_describe(e) for e in errors[:10]]} if len(errors) > 1 else None,
        )
    result = copy.deepcopy(args)
    _apply_defaults(input_schema, result)
    return result


def shape_error(err: ToolError, ctx: ToolContext | None = None) -> dict[str, Any]:
    """The error result: capped (``ToolError.to_result``) and, locally, without the server's folders."""
    result = err.to_result()
    hidden = ctx.private_paths if ctx is not None else ()
    if hidden:
        text = json.dumps(result)
        for path, alias in hidden:
            text = text.replace(json.dumps(path)[1:-1], alias)
        result = json.loads(text)
    return result


def call_tool(spec: ToolSpec, args: Any, ctx: ToolContext, run: ToolRun | None = None) -> dict[str, Any]:
    """Validate, run and return the tool result; a :class:`ToolError` becomes ``{"error": ...}``.

    ``run`` overrides the module's function (the local server's ``collect`` and ``status``).
    Any other exception propagates: it is a real fault.
    """
    return call_tool_encoded(spec, args, ctx, run)[0]


def call_tool_encoded(
    spec: ToolSpec, args: Any, ctx: ToolContext, run: ToolRun | None = None, *, ensure_ascii: bool = True
) -> tuple[dict[str, Any], str]:
    """:func:`call_tool`, and the result's JSON text for a caller that sends it on (the MCP server's
    text content): encoded once, and the size cap measures that very text."""
    try:
        clean = validate_arguments(spec.input_schema, args, spec_validator(spec))
        result = (run or spec.run)(clean, ctx)
    except ToolError as err:
        shaped = shape_error(err, ctx)
        return shaped, json.dumps(shaped, ensure_ascii=ensure_ascii)
    if not isinstance(result, dict):
        raise TypeError(f"tool {spec.full_name} returned {type(result).__name__}, expected a dict")
    text = json.dumps(result, default=str, ensure_ascii=ensure_ascii)
    size = len(text) if ensure_ascii else len(text.encode("utf-8"))
    if size > MAX_RESULT_BYTES:
        refused = ToolError(
            "InvalidArgument",
            f"the result would be {size} bytes, over the {MAX_RESULT_BYTES}-byte limit; ask for less "
            "(smaller page size, line or byte range)",
        ).to_result()
        return refused, json.dumps(refused, ensure_ascii=ensure_ascii)
    return result, text
