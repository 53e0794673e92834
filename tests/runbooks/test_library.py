"""The runbook library: its files, its ties to the rule catalogue and the tool schemas, and its loader."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from eksdiag.runbooks import library
from eksdiag.runbooks.library import (
    CATEGORIES,
    SECTIONS,
    SEVERITIES,
    RunbookError,
    all_runbooks,
    get_runbook,
    list_runbooks,
    parse_runbook,
    runbooks_for_rules,
)

PACKAGE = Path(library.__file__).resolve().parent
RUNBOOK_FILES = sorted(PACKAGE.glob("*.md"))
SCHEMAS = PACKAGE.parent / "schemas"
TOOL_MENTION = re.compile(r"\b([a-z]+)___([a-z_]+)\b")
TOOL_CALL = re.compile(r"`([a-z]+)___([a-z_]+) (\{[^`]*\})`")

CATALOGUE: tuple[Any, ...] | None
try:
    from eksdiag.engine.rules import CATALOGUE
except ImportError as exc:  # the engine's rule table is written by the integrator
    CATALOGUE = None
    CATALOGUE_MISSING = f"eksdiag.engine.rules.CATALOGUE cannot be imported yet: {exc}"
else:
    CATALOGUE_MISSING = ""

needs_catalogue = pytest.mark.skipif(CATALOGUE is None, reason=CATALOGUE_MISSING or "catalogue present")


def _catalogue() -> dict[str, Any]:
    assert CATALOGUE is not None
    return {rule.id: rule for rule in CATALOGUE}


def _sections(body: str) -> dict[str, str]:
    """Text of each level-2 section, keyed by heading."""
    out: dict[str, str] = {}
    current: str | None = None
    for line in body.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def _schema_files() -> list[Path]:
    return sorted(p for p in SCHEMAS.glob("*/*.json") if p.parent.name != "gateway")


# --- the shipped files -------------------------------------------------------------------------


def test_library_has_at_least_25_runbooks() -> None:
    assert len(RUNBOOK_FILES) >= 25
    assert len(all_runbooks()) == len(RUNBOOK_FILES)


@pytest.mark.parametrize("path", RUNBOOK_FILES, ids=lambda p: p.stem)
def test_runbook_file_has_valid_front_matter_and_all_sections(path: Path) -> None:
    runbook = parse_runbook(path.read_text(encoding="utf-8"), path.name)
    assert path.name == f"{runbook.id}.md"
    assert runbook.severity in SEVERITIES
    assert set(runbook.categories) <= set(CATEGORIES)
    sections = _sections(runbook.body)
    assert list(sections) == list(SECTIONS)
    for name, text in sections.items():
        assert len(text.strip()) >= 80, f"{path.name}: section {name} is nearly empty"


@pytest.mark.parametrize("path", RUNBOOK_FILES, ids=lambda p: p.stem)
def test_triage_tells_which_tools_to_call_and_remediation_gives_commands(path: Path) -> None:
    runbook = parse_runbook(path.read_text(encoding="utf-8"), path.name)
    sections = _sections(runbook.body)
    assert TOOL_CALL.search(sections["Triage"]), f"{path.name}: Triage calls no tool with arguments"
    assert (
        TOOL_MENTION.search(sections["Verify"]) or "kubectl" in sections["Verify"] or runbook.id.startswith("SOP-NOISE")
    ), f"{path.name}: Verify says nothing checkable"
    if runbook.id.startswith(("SOP-NOISE", "SOP-GEN")):
        return
    assert re.search(r"`(?:sudo |kubectl |aws |chronyc )", sections["Remediation"]), (
        f"{path.name}: Remediation has no concrete command"
    )


def test_runbook_ids_are_unique() -> None:
    ids = [parse_runbook(p.read_text(encoding="utf-8"), p.name).id for p in RUNBOOK_FILES]
    assert len(ids) == len(set(ids))


def test_exactly_one_fallback_runbook_and_it_is_the_general_one() -> None:
    fallbacks = [r for r in all_runbooks() if r.fallback]
    assert [r.id for r in fallbacks] == ["SOP-GEN-001"]
    assert "general" in fallbacks[0].categories


@pytest.mark.parametrize(
    "category",
    [
        "node-lifecycle",
        "kubelet",
        "runtime",
        "network",
        "vpc-cni",
        "dns",
        "conntrack",
        "storage",
        "memory",
        "pid",
        "certificates",
        "image-pull",
        "ena",
        "kernel",
        "cni",
        "noise",
        "general",
    ],
)
def test_every_required_area_has_a_runbook(category: str) -> None:
    assert list_runbooks(category=category), f"no runbook covers {category}"


# --- ties to the rule catalogue ------------------------------------------------------------------


@needs_catalogue
def test_every_catalogue_rule_has_a_runbook_naming_it() -> None:
    named = {rule for r in all_runbooks() for rule in r.triggers}
    missing = sorted(set(_catalogue()) - named)
    assert not missing, f"rules without a runbook: {missing}"


@needs_catalogue
def test_every_trigger_names_a_catalogue_rule() -> None:
    rules = _catalogue()
    unknown = sorted({(r.id, t) for r in all_runbooks() for t in r.triggers if t not in rules})
    assert not unknown, f"triggers that are not rules: {unknown}"


@needs_catalogue
def test_each_rule_has_a_runbook_in_its_own_category() -> None:
    rules = _catalogue()
    for rule_id, runbook_ids in runbooks_for_rules(rules).items():
        covered = {c for rid in runbook_ids for c in (get_runbook(rid) or {"categories": []})["categories"]}
        assert rules[rule_id].category in covered, f"{rule_id} ({rules[rule_id].category}) -> {runbook_ids}"


@needs_catalogue
def test_noise_rules_map_to_the_known_benign_noise_runbook_only() -> None:
    noise_rules = [rule_id for rule_id in _catalogue() if rule_id.startswith("noise.")]
    assert noise_rules
    for rule_id, runbook_ids in runbooks_for_rules(noise_rules).items():
        assert runbook_ids == ["SOP-NOISE-001"], rule_id
    noise = get_runbook("SOP-NOISE-001")
    assert noise is not None
    assert all(t.startswith("noise.") for t in noise["triggers"])
    assert noise["severity"] == "INFO"


@needs_catalogue
def test_every_catalogue_rule_is_answered_without_the_fallback() -> None:
    for rule_id, runbook_ids in runbooks_for_rules(_catalogue()).items():
        assert runbook_ids and "SOP-GEN-001" not in runbook_ids, rule_id


# --- ties to the tool schemas --------------------------------------------------------------------


def _mentions() -> list[tuple[str, str, str]]:
    return sorted({(r.id, m.group(1), m.group(2)) for r in all_runbooks() for m in TOOL_MENTION.finditer(r.body)})


def test_runbooks_name_tools_of_the_four_groups() -> None:
    groups = {group for _, group, _ in _mentions()}
    assert groups <= {"nodelog", "findings", "capture", "runbooks"}
    assert {"nodelog", "findings", "capture", "runbooks"} <= groups


def test_every_tool_a_runbook_mentions_has_a_schema_file() -> None:
    if not _schema_files():
        pytest.skip(f"no tool schema files under {SCHEMAS} yet")
    missing = sorted({f"{rid}: {g}___{t}" for rid, g, t in _mentions() if not (SCHEMAS / g / f"{t}.json").is_file()})
    assert not missing, f"tools without schemas/<group>/<tool>.json: {missing}"


def test_list_sops_accepts_every_category_the_runbooks_use() -> None:
    schema_file = SCHEMAS / "runbooks" / "list_sops.json"
    if not schema_file.is_file():
        pytest.skip(f"{schema_file} not written yet")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))["inputSchema"]
    validator = jsonschema.Draft202012Validator(schema)
    used = sorted({c for r in all_runbooks() for c in r.categories})
    rejected = [c for c in used if not validator.is_valid({"category": c})]
    assert not rejected, f"runbooks___list_sops refuses categories the runbooks use: {rejected}"


def test_get_sop_accepts_every_runbook_id() -> None:
    schema_file = SCHEMAS / "runbooks" / "get_sop.json"
    if not schema_file.is_file():
        pytest.skip(f"{schema_file} not written yet")
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text(encoding="utf-8"))["inputSchema"])
    assert all(validator.is_valid({"id": r.id}) for r in all_runbooks())


# Placeholders such as "<bundleId>" or "<baselineBundleId>" get a well-formed sample value; each distinct
# placeholder gets a distinct value (derived from its name), so uniqueness constraints still apply.
def _sample_for(placeholder: str, argument: str) -> Any:
    digest = hashlib.sha256(placeholder.encode()).hexdigest()
    kind = placeholder.lower()
    if kind.endswith("bundleid"):
        return f"b-20250306{int(digest[:6], 16) % 1000000:06d}-{digest[:8]}"
    if kind.endswith("instanceid"):
        return f"i-{digest[:17]}"
    if re.search(r"findingid\d*$", kind):
        return f"F-{digest[:16]}"
    if kind.endswith("captureid"):
        return f"cap-20250306182200-{digest[:8]}"
    if kind.endswith("batchid"):
        return f"bt-20250306182200-{digest[:8]}"
    samples = {
        "clusterName": "prod",
        "incidentTime": "2025-03-06T18:15:00Z",
        "ruleId": "network.iptables.forward-drop",
        "runbookId": "SOP-GEN-001",
        "path": "kubelet/kubelet.log",
        "words from the symptom": "error",
    }
    return samples.get(placeholder, samples.get(argument, placeholder))


def _fill(name: str, value: Any) -> Any:
    if isinstance(value, str) and (m := re.fullmatch(r"<([^<>]+)>", value)):
        return _sample_for(m.group(1), name)
    if isinstance(value, list):
        return [_fill(name, v) for v in value]
    return value


def _calls() -> list[tuple[str, str, str, str]]:
    return [(r.id, m.group(1), m.group(2), m.group(3)) for r in all_runbooks() for m in TOOL_CALL.finditer(r.body)]


def test_runbooks_write_tool_calls_with_arguments() -> None:
    assert len(_calls()) >= 100


def test_every_tool_call_in_a_runbook_is_valid_against_the_tool_input_schema() -> None:
    if not _schema_files():
        pytest.skip(f"no tool schema files under {SCHEMAS} yet")
    problems: list[str] = []
    for runbook_id, group, tool, text in _calls():
        where = f"{runbook_id}: {group}___{tool} {text}"
        try:
            arguments = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        schema_file = SCHEMAS / group / f"{tool}.json"
        if not schema_file.is_file():
            continue  # reported by test_every_tool_a_runbook_mentions_has_a_schema_file
        schema = json.loads(schema_file.read_text(encoding="utf-8"))["inputSchema"]
        filled = {name: _fill(name, value) for name, value in arguments.items()}
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(filled), key=str)
        problems += [f"{where}: {e.message}" for e in errors]
    assert not problems, "\n".join(problems)


def test_every_search_pattern_in_a_runbook_compiles_with_re2() -> None:
    re2 = pytest.importorskip("re2")
    patterns = [
        (runbook_id, json.loads(text).get("pattern"))
        for runbook_id, group, tool, text in _calls()
        if (group, tool) == ("findings", "search")
    ]
    assert len(patterns) >= 30
    for runbook_id, pattern in patterns:
        assert isinstance(pattern, str) and pattern, runbook_id
        re2.compile(pattern)


# --- ties to the bundle layout -------------------------------------------------------------------

# Files and folders of an eks-log-collector bundle (research/bundle.md), as patterns over
# bundle-relative paths; <placeholders> stand for one path segment.
_BUNDLE_FILES = [
    r"system/(script-params|instance-id|region|availability-zone|selinux|pkglist|services|top|ps|ps-threads"
    r"|netstat|procstat|allprocstat|large_environments|cpu_throttling|io_throttling|last_reboot)\.txt",
    r"kernel/(dmesg\.boot|dmesg\.current|dmesg\.human\.current|uname\.txt)",
    r"modinfo/(lustre|ip_vs)",
    r"storage/(mounts|inodes|lsblk|lvs|pvs|vgs|fstab|xfs|pod_local_storage)\.txt",
    r"networking/(ip6?tables(-(mangle|filter|nat|save))?\.txt|ipvsadm\.txt|ipset\.txt|conntrack6?\.txt"
    r"|ifconfig\.txt|ip6?rule\.txt|ip6?route\.txt|configure-multicard-interfaces\.txt"
    r"|ping_(amazon\.com|public\.ecr\.aws)\.txt|curl_api_server\.txt|resolv\.conf|ethtool\.txt"
    r"|ebpf(-cp-maps|-maps)?-data\.txt|systemd-network/.*)",
    r"containerd/(containerd-(config|log|version|namespaces|images|containers|tasks|plugins)\.txt"
    r"|containerd\.<pid>\.stacks\.log|soci-snapshotter/(soci-snapshotter-status\.txt|soci-snapshotter-log\.txt|config\.toml))",
    r"docker/docker(\.log|-info\.txt|-ps\.txt|-images\.txt|-version\.txt|-trace\.txt)",
    r"kubelet/(svc\.log|kubeconfig\.yaml|kubelet\.log|kubelet_service\.txt|kubelet-eks_service\.txt"
    r"|config\.json|config\.json\.d/?|kubelet-config\.json)",
    r"nodeadm/(nodeadm-(config|run|boot-hook)\.log|udev-net-manager_[^/]+\.log)",
    r"ipamd/(enis|pods|networkutils-env-settings|ipamd-env-settings|eni-configs|metrics|ipam|ipam-nic-[^/]+)\.json",
    r"cni/(10-aws\.conflist|cni-configuration-variables-containerd\.json|cni-configuration-variables-dockerd\.txt)",
    r"sysctls/sysctl_all\.txt",
    r"sandbox-image/sandbox-image-log\.txt",
    r"gpu/nvidia-bug-report\.log(?:\.gz|\*)?",  # nvidia-bug-report.sh gzips its --output-file when gzip exists
    r"var_log/(messages|syslog|cron|cloud-init\.log|cloud-init-output\.log|user-data\.log|kube-proxy\.log"
    r"|aws-routed-eni/(ipamd|plugin|egress-v[46]-plugin|network-policy-agent|ebpf-sdk)\.log"
    r"|aws-routed-eni/(ipamd|plugin)\*?|aws-routed-eni/|aws-routed-eni/ipamd-\*\.log\.gz"
    r"|kube-system_[^/]+(/.*)?|<pod>_<ns>_<container>-<id>\.log|\*?)",
]
_TOP = (
    "system|kernel|modinfo|storage|networking|containerd|docker|kubelet|nodeadm|ipamd|cni|sysctls"
    "|sandbox-image|gpu|var_log"
)
# Added by this project's collector (ssm/scripts/collect-node-diagnostics.sh) on top of the stock files.
_BUNDLE_FILES += [
    r"networking/(ip6?tables(-legacy)?-save-counters|conntrack-count|ip-addr|ip-neigh|ip-s-link|nft-ruleset"
    r"|ss-summary)\.txt",
    r"system/eksdiag-collector\.txt",
]
# whole folders, all of ipamd's JSON, and globs over the add-on pod logs copied into var_log/
_BUNDLE_FILES += [r"(?:" + _TOP + r")/", r"ipamd/\*\.json", r"var_log/\*[a-z0-9-]+\*"]
_KNOWN_FILE = re.compile("^(?:" + "|".join(_BUNDLE_FILES) + ")$")
_CITED = re.compile(r"(?<![\w/.-])((?:" + _TOP + r")/[^\s`\"',;()]*)")


def _cited_paths(body: str) -> set[str]:
    paths = set()
    for span in re.findall(r"`([^`]+)`", body):
        for m in _CITED.finditer(span):
            paths.add(m.group(1).rstrip(".:"))
    return paths


@pytest.mark.parametrize("path", RUNBOOK_FILES, ids=lambda p: p.stem)
def test_runbook_cites_only_files_that_bundles_contain(path: Path) -> None:
    runbook = parse_runbook(path.read_text(encoding="utf-8"), path.name)
    cited = _cited_paths(runbook.body)
    assert cited or runbook.id == "SOP-GEN-001", f"{path.name} cites no bundle file"
    unknown = sorted(p for p in cited if not _KNOWN_FILE.match(p))
    assert not unknown, f"{path.name} cites paths a bundle does not have: {unknown}"


# --- the loader's API ----------------------------------------------------------------------------


def test_list_runbooks_returns_the_index_fields_in_id_order() -> None:
    entries = list_runbooks()
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    for entry in entries:
        assert set(entry) == {"id", "title", "severity", "summary", "triggers", "categories"}
        assert "body" not in entry


def test_list_runbooks_filters_by_rule_id_exactly() -> None:
    ids = [e["id"] for e in list_runbooks(rule="network.conntrack.insert-failed")]
    assert ids == ["SOP-CT-002", "SOP-DNS-002"]
    assert list_runbooks(rule="network.conntrack") == []


def test_list_runbooks_filters_by_category_and_combines_filters() -> None:
    dns = {e["id"] for e in list_runbooks(category="dns")}
    assert {"SOP-DNS-001", "SOP-DNS-002", "SOP-CT-002"} <= dns
    both = [e["id"] for e in list_runbooks(rule="network.conntrack.insert-failed", category="conntrack")]
    assert both == ["SOP-CT-002", "SOP-DNS-002"]
    assert list_runbooks(rule="kernel.oom.cgroup", category="dns") == []
    assert list_runbooks(category="no-such-category") == []


def test_get_runbook_returns_front_matter_and_whole_body() -> None:
    runbook = get_runbook("SOP-NET-001")
    assert runbook is not None
    assert runbook["id"] == "SOP-NET-001"
    assert "network.iptables.forward-drop" in runbook["triggers"]
    assert runbook["body"].startswith("# An iptables filter rule drops")
    for section in SECTIONS:
        assert f"\n## {section}\n" in runbook["body"]
    source = (PACKAGE / "SOP-NET-001.md").read_text(encoding="utf-8")
    assert source.rstrip("\n").endswith(runbook["body"].rstrip("\n"))


@pytest.mark.parametrize("given", ["sop-net-001", " SOP-NET-001 "])
def test_get_runbook_accepts_ids_in_any_case_and_spacing(given: str) -> None:
    runbook = get_runbook(given)
    assert runbook is not None and runbook["id"] == "SOP-NET-001"


@pytest.mark.parametrize("given", ["SOP-NET-999", "", "../library.py", "network.iptables.forward-drop"])
def test_get_runbook_returns_none_for_unknown_ids(given: str) -> None:
    assert get_runbook(given) is None


@pytest.mark.parametrize(
    ("rule", "first"),
    [
        ("runtime.no-space", "SOP-STO-001"),
        ("kubelet.apiserver-timeout", "SOP-KUB-002"),
        ("runtime.sandbox-create-failed", "SOP-RT-001"),
        ("vpc-cni.address-exhaustion", "SOP-VPC-001"),
        ("kubelet.cni-not-ready", "SOP-CNI-001"),
        ("network.conntrack.insert-failed", "SOP-CT-002"),
    ],
)
def test_runbooks_for_rules_puts_the_most_direct_runbook_first(rule: str, first: str) -> None:
    assert runbooks_for_rules([rule])[rule][0] == first


def test_runbooks_for_rules_answers_each_rule_once_and_uses_the_fallback_for_unknown_rules() -> None:
    answer = runbooks_for_rules(["kernel.oom.cgroup", "made.up-rule", "kernel.oom.cgroup"])
    assert answer == {"kernel.oom.cgroup": ["SOP-MEM-001"], "made.up-rule": ["SOP-GEN-001"]}
    assert runbooks_for_rules([]) == {}


def test_library_is_parsed_once_and_not_at_import() -> None:
    code = (
        "import eksdiag.runbooks.library as lib\n"
        "assert lib._library.cache_info().currsize == 0\n"
        "lib.list_runbooks(); lib.get_runbook('SOP-GEN-001'); lib.runbooks_for_rules(['x.y'])\n"
        "info = lib._library.cache_info()\n"
        "assert (info.misses, info.currsize) == (1, 1), info\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_library_loads_from_a_zip_archive_like_a_lambda_package(tmp_path: Path) -> None:
    archive = tmp_path / "package.zip"
    root = PACKAGE.parent
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(root / "__init__.py", "eksdiag/__init__.py")
        for engine_file in ("__init__.py", "model.py"):  # the finding categories come from the engine
            zf.write(root / "engine" / engine_file, f"eksdiag/engine/{engine_file}")
        for path in PACKAGE.iterdir():
            if path.suffix in {".py", ".md"}:
                zf.write(path, f"eksdiag/runbooks/{path.name}")
    yaml_home = str(Path(yaml.__file__).resolve().parent.parent)
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(archive)!r}]\n"
        f"sys.path.append({yaml_home!r})\n"
        "import eksdiag.runbooks as r\n"
        f"assert r.__file__.startswith({str(archive)!r}), r.__file__\n"
        "print(len(r.list_runbooks()), r.get_runbook('SOP-GEN-001')['fallback'])\n"
    )
    # -S: no site-packages, so neither the editable install nor the source tree can answer the import.
    done = subprocess.run([sys.executable, "-S", "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split() == [str(len(RUNBOOK_FILES)), "True"]


def test_runbooks_are_package_resources() -> None:
    names = {e.name for e in resources.files("eksdiag.runbooks").iterdir()}
    assert {p.name for p in RUNBOOK_FILES} <= names


# --- the parser rejects malformed runbooks --------------------------------------------------------

_GOOD = """---
id: SOP-TST-001
title: A test runbook
severity: LOW
summary: Used by the tests.
triggers: [kernel.oom.cgroup]
categories: [memory]
---
# A test runbook

## Triage
t
## Enrichment
e
## Report
r
## Remediation
```
## not a heading inside a fence
```
## Verify
v
"""


def test_parser_accepts_a_well_formed_runbook() -> None:
    runbook = parse_runbook(_GOOD, "good.md")
    assert (runbook.id, runbook.severity, runbook.triggers, runbook.fallback) == (
        "SOP-TST-001",
        "LOW",
        ("kernel.oom.cgroup",),
        False,
    )
    assert runbook.body.startswith("# A test runbook\n")


def test_parser_accepts_windows_line_endings() -> None:
    assert parse_runbook(_GOOD.replace("\n", "\r\n"), "crlf.md").id == "SOP-TST-001"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("id: SOP-TST-001", "id: net-001"), "does not look like"),
        (lambda t: t.replace("severity: LOW", "severity: WARNING"), "severity"),
        (lambda t: t.replace("severity: LOW\n", ""), "lacks severity"),
        (lambda t: t.replace("summary:", "owner: me\nsummary:"), "unknown keys owner"),
        (lambda t: t.replace("[memory]", "[memories]"), "category 'memories'"),
        (lambda t: t.replace("[memory]", "[]"), "at least one category"),
        (lambda t: t.replace("[kernel.oom.cgroup]", "[Kernel OOM]"), "is not a rule id"),
        (lambda t: t.replace("[kernel.oom.cgroup]", "[]"), "at least one trigger"),
        (lambda t: t.replace("[kernel.oom.cgroup]", "[a.b, a.b]"), "repeats"),
        (lambda t: t.replace("triggers: [kernel.oom.cgroup]", "triggers: kernel.oom.cgroup"), "list"),
        (lambda t: t.replace("categories: [memory]\n", "categories: [memory]\nfallback: yes please\n"), "fallback"),
        (lambda t: t[4:], "must start with"),
        (lambda t: t.replace("---\n# A test", "# A test"), "not closed"),
        (lambda t: t.replace("title: A test runbook", "title: [unclosed"), "not valid YAML"),
        (lambda t: t.replace("# A test runbook\n", "# Another title\n"), "must open with"),
        (lambda t: t.replace("## Report\nr\n", ""), "sections must be exactly"),
        (lambda t: t.replace("## Enrichment\ne\n## Report\nr\n", "## Report\nr\n## Enrichment\ne\n"), "in order"),
        (lambda t: t.replace("## Verify\nv\n", "## Verify\nv\n## Notes\nn\n"), "sections must be exactly"),
    ],
)
def test_parser_rejects_malformed_runbooks(change: Any, message: str) -> None:
    with pytest.raises(RunbookError, match=re.escape("bad.md: ")) as caught:
        parse_runbook(change(_GOOD), "bad.md")
    assert message in str(caught.value)


def test_parser_allows_a_fallback_runbook_without_triggers() -> None:
    text = _GOOD.replace("[kernel.oom.cgroup]", "[]").replace("categories:", "fallback: true\ncategories:")
    runbook = parse_runbook(text, "fallback.md")
    assert runbook.fallback and runbook.triggers == ()
