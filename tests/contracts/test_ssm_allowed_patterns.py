"""Every allowedPattern of every SSM document compiles, and means the same, where the node checks it.

Rule: the SSM Agent validates each parameter value on the node with Go's regexp,
``regexp.Compile(allowedPattern)`` then ``MatchString(value)``, and refuses to run the document when
the pattern does not compile (amazon-ssm-agent,
agent/framework/docparser/paramvalidator/allowedregexparamvalidator/allowedregexparamvalidator.go).
The API (CreateDocument, SendCommand) validates with Java regex and accepts patterns Go refuses.
Go's regexp has RE2 syntax: no look-around or back-references, and every repeat count at most 1000,
counted as the product of nested repeats (regexp/syntax: "invalid repeat count").

Engines: google-re2 (the same rules, checked below to refuse what Go refuses) always; Go's own
regexp (``tests/contracts/go/regexpcheck.go``) wherever ``go`` is installed (CI installs golang-go).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import re2
import yaml

from tests.ssm.test_parameter_patterns import corpus

from .support import cache_dir

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ROOT / "ssm" / "documents"
GO_SOURCE = Path(__file__).resolve().parent / "go" / "regexpcheck.go"
AGENT_RULE = "SSM Agent allowedregexparamvalidator.go: regexp.Compile (Go RE2 syntax, repeat counts <= 1000)"

#: Patterns whose verdict under Go's regexp/syntax is known (Go 1.19 to 1.24 agree on each).
GO_VERDICTS = {
    r"^a{1000}$": True,
    r"^a{1001}$": False,
    r"^a{1,1024}$": False,
    r"^(a{0,10}){0,100}$": True,  # 10 * 100 = 1000 copies
    r"^(a{0,10}){0,101}$": False,
    r"^(?:a{0,63}){0,63}$": False,
    r"^((a{2}){2}){251}$": False,
    r"^(?:ab|cd){16,}$": True,
    r"^(?=a)": False,
    r"^(a)\1$": False,
}


def _build_documents() -> dict[str, dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("ssm_build", ROOT / "ssm" / "build.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return {f"build.py:{name}": yaml.safe_load(text) for name, text in build.documents().items()}


def _parameters() -> list[tuple[str, str, dict[str, Any]]]:
    documents = {path.name: yaml.safe_load(path.read_text()) for path in sorted(DOCUMENTS.glob("*.yaml"))}
    documents |= _build_documents()
    return [
        (document, name, spec)
        for document, content in documents.items()
        for name, spec in (content.get("parameters") or {}).items()
        if "allowedPattern" in spec
    ]


PARAMETERS = _parameters()
IDS = [f"{document}:{name}" for document, name, _spec in PARAMETERS]


def _re2_error(pattern: str) -> str | None:
    try:
        re2.compile(pattern)
    except re2.error as err:
        return str(err)
    return None


@pytest.fixture(scope="session")
def go_regexp(request: pytest.FixtureRequest) -> Any:
    """``check([(pattern, [values])]) -> [(error, [matches])]`` with Go's regexp (built once)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed (apt-get install golang-go); CI installs it")
    cache = cache_dir(request, "go")
    env = {**os.environ, "GOCACHE": str(cache / "build"), "GOPATH": str(cache / "path"), "GO111MODULE": "off"}
    binary = cache / "regexpcheck"
    built = subprocess.run(
        [go, "build", "-o", str(binary), str(GO_SOURCE)], env=env, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr

    def check(items: list[tuple[str, list[str]]]) -> list[tuple[str, list[bool]]]:
        payload = json.dumps([{"pattern": p, "values": v} for p, v in items])
        out = subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True, timeout=60)
        return [(v["error"], v["matches"]) for v in json.loads(out.stdout)]

    return check


def test_every_document_parameter_has_a_pattern() -> None:
    assert {name for _d, name, _s in PARAMETERS} >= {"UploadUrl", "SummaryUploadUrl", "Filter", "InstanceId"}


@pytest.mark.parametrize("pattern", sorted(GO_VERDICTS))
def test_google_re2_refuses_what_go_refuses(pattern: str) -> None:
    assert (_re2_error(pattern) is None) is GO_VERDICTS[pattern], pattern


@pytest.mark.parametrize(("document", "name", "spec"), PARAMETERS, ids=IDS)
def test_allowed_pattern_compiles_under_re2(document: str, name: str, spec: dict[str, Any]) -> None:
    error = _re2_error(spec["allowedPattern"])
    assert error is None, f"{document} {name}: {error} [rule: {AGENT_RULE}; engine: google-re2]"


def test_allowed_patterns_compile_with_go(go_regexp: Any) -> None:
    patterns = [*GO_VERDICTS, *(spec["allowedPattern"] for _d, _n, spec in PARAMETERS)]
    verdicts = go_regexp([(pattern, []) for pattern in patterns])
    known = verdicts[: len(GO_VERDICTS)]
    assert [not error for error, _m in known] == list(GO_VERDICTS.values()), "Go disagrees with GO_VERDICTS"
    problems = [
        f"{document} {name}: {error} [rule: {AGENT_RULE}; engine: Go regexp]"
        for (document, name, _s), (error, _m) in zip(PARAMETERS, verdicts[len(GO_VERDICTS) :], strict=True)
        if error
    ]
    assert not problems, "\n".join(problems)


def _document_accepts(spec: dict[str, Any], value: str, matches: bool) -> bool:
    """What the agent decides: the pattern matches and the value fits maxChars (minmaxcharparamvalidator.go)."""
    return matches and len(value) <= int(spec.get("maxChars", 1 << 31))


def _specs_by_name() -> dict[str, dict[str, Any]]:
    return {name: spec for document, name, spec in PARAMETERS if not document.startswith("build.py:")}


def test_corpus_under_re2_as_the_agent_matches() -> None:
    """The hostile and legitimate values of tests/ssm, matched like MatchString (search, ``$`` = end of text)."""
    specs = _specs_by_name()
    problems = []
    for parameter, value, accepted in corpus():
        spec = specs[parameter]
        if _re2_error(spec["allowedPattern"]) is not None:
            problems.append(f"{parameter}: the pattern does not compile under RE2")
            continue
        matches = re2.search(spec["allowedPattern"], value) is not None
        if _document_accepts(spec, value, matches) is not accepted:
            problems.append(f"{parameter}: {value[:80]!r} {'refused' if accepted else 'accepted'} under RE2")
    assert not problems, "\n".join(sorted(set(problems)))


def test_corpus_under_go_as_the_agent_matches(go_regexp: Any) -> None:
    specs = _specs_by_name()
    cases = corpus()
    verdicts = go_regexp([(specs[parameter]["allowedPattern"], [value]) for parameter, value, _a in cases])
    problems = []
    for (parameter, value, accepted), (error, matches) in zip(cases, verdicts, strict=True):
        if error:
            problems.append(f"{parameter}: {error}")
        elif _document_accepts(specs[parameter], value, matches[0]) is not accepted:
            problems.append(f"{parameter}: {value[:80]!r} {'refused' if accepted else 'accepted'} by Go regexp")
    assert not problems, "\n".join(sorted(set(problems)))
