"""Every findings and runbooks tool: each kind of bad argument gets a structured error, never a crash;
and the runbook tools' correct calls."""

from __future__ import annotations

from typing import Any

import pytest
from eksdiag.tools.registry import group_tools

from tests.tools.conftest import FAULTY_BUNDLE, Indexed

FINDINGS_TOOLS = sorted(group_tools("findings"))

#: one correct call per tool (beyond the target, which each test adds)
VALID: dict[str, dict[str, Any]] = {
    "validate": {},
    "errors": {},
    "search": {"pattern": "error"},
    "read": {"path": "kubelet/kubelet.log"},
    "correlate": {},
    "summarize": {"findingIds": ["F-0000000000000000"]},  # replaced by a real id below
    "compare_nodes": {},
    "network_diagnostics": {},
    "storage_diagnostics": {},
    "artifact": {"path": "kubelet/kubelet.log"},
}


def _valid(tool: str, indexed: Indexed, run: Any) -> dict[str, Any]:
    if tool == "compare_nodes":
        return {"bundleIds": [indexed.faulty, indexed.healthy]}
    args = {"bundleId": indexed.faulty, **VALID[tool]}
    if tool == "summarize":
        top = run(indexed.ctx, "findings___errors", {"bundleId": indexed.faulty, "pageSize": 1})["findings"][0]
        args["findingIds"] = [top["id"]]
    return args


def test_every_findings_tool_has_a_valid_call_here() -> None:
    assert set(VALID) == set(FINDINGS_TOOLS)


@pytest.mark.parametrize("tool", FINDINGS_TOOLS)
def test_a_correct_call_succeeds(local_indexed: Indexed, run: Any, tool: str) -> None:
    result = run(local_indexed.ctx, f"findings___{tool}", _valid(tool, local_indexed, run))
    assert "error" not in result, result


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("bundleId", "../../etc/passwd", "path-like bundle id"),
    ("bundleId", "b-2025", "short bundle id"),
    ("bundleId", 7, "bundle id as number"),
    ("instanceId", "i-XYZ", "bad instance id"),
    ("instanceId", "i-0123456789abcdef0/../x", "instance id with a path"),
    ("unexpected", True, "unknown argument"),
]


@pytest.mark.parametrize("tool", FINDINGS_TOOLS)
@pytest.mark.parametrize(("key", "value", "what"), BAD_VALUES, ids=[b[2] for b in BAD_VALUES])
def test_bad_ids_and_unknown_arguments_are_invalid(
    local_indexed: Indexed, run: Any, tool: str, key: str, value: Any, what: str
) -> None:
    args = _valid(tool, local_indexed, run)
    args[key] = value
    result = run(local_indexed.ctx, f"findings___{tool}", args)
    assert result["error"]["code"] == "InvalidArgument" and not result["error"]["retryable"], what


@pytest.mark.parametrize("tool", [t for t in FINDINGS_TOOLS if t != "compare_nodes"])
def test_a_target_is_required(local_indexed: Indexed, run: Any, tool: str) -> None:
    args = {k: v for k, v in _valid(tool, local_indexed, run).items() if k != "bundleId"}
    result = run(local_indexed.ctx, f"findings___{tool}", args)
    assert result["error"]["code"] == "InvalidArgument" and "bundleId" in result["error"]["message"]


NUMBERS: list[tuple[str, str, Any]] = [
    ("errors", "pageSize", 0),
    ("errors", "pageSize", 201),
    ("errors", "pageSize", "50"),
    ("errors", "pageSize", 2.5),
    ("errors", "pageSize", True),
    ("errors", "windowMinutes", -5),
    ("errors", "minSeverity", "WARNING"),
    ("errors", "categories", ["bogus"]),
    ("errors", "since", "yesterday"),
    ("search", "pattern", ""),
    ("search", "pattern", "x" * 501),
    ("search", "maxMatches", 501),
    ("search", "contextLines", 6),
    ("search", "files", []),
    ("read", "lineCount", 5001),
    ("read", "maxBytes", 1048577),
    ("read", "startLine", 0),
    ("read", "startByte", -1),
    ("correlate", "windowMinutes", 0),
    ("correlate", "clusterGapSeconds", 99999),
    ("correlate", "maxEvents", 501),
    ("summarize", "findingIds", []),
    ("summarize", "findingIds", ["F-123"]),
    ("summarize", "findingIds", [f"F-{n:016x}" for n in range(51)]),
    ("network_diagnostics", "sections", ["firewall"]),
    ("storage_diagnostics", "sections", ["raid"]),
    ("artifact", "expiresSeconds", 901),
    ("artifact", "expiresSeconds", 59),
]


@pytest.mark.parametrize(("tool", "key", "value"), NUMBERS, ids=[f"{t}-{k}-{v!r}"[:60] for t, k, v in NUMBERS])
def test_out_of_range_and_mistyped_values_are_invalid(
    local_indexed: Indexed, run: Any, tool: str, key: str, value: Any
) -> None:
    args = {**_valid(tool, local_indexed, run), key: value}
    result = run(local_indexed.ctx, f"findings___{tool}", args)
    assert result["error"]["code"] == "InvalidArgument", result


def test_read_needs_exactly_one_way_to_choose_the_range(local_indexed: Indexed, run: Any) -> None:
    ctx, bid = local_indexed.ctx, local_indexed.faulty
    top = run(ctx, "findings___errors", {"bundleId": bid, "pageSize": 1})["findings"][0]
    for args in (
        {"bundleId": bid},
        {"bundleId": bid, "findingId": top["id"], "path": "kubelet/kubelet.log"},
        {"bundleId": bid, "findingId": top["id"], "startLine": 3},
        {"bundleId": bid, "path": "kubelet/kubelet.log", "startLine": 1, "startByte": 0},
    ):
        assert run(ctx, "findings___read", args)["error"]["code"] == "InvalidArgument", args
    assert (
        run(ctx, "findings___read", {"bundleId": bid, "findingId": "F-0000000000000000"})["error"]["code"] == "NotFound"
    )


@pytest.mark.parametrize(
    ("job", "code", "retryable"),
    [
        (None, "NotFound", False),
        ({"state": "collecting"}, "NotReady", True),
        ({"state": "indexing"}, "NotReady", True),
        ({"state": "failed", "error": "not a readable bundle: truncated"}, "NotFound", False),
    ],
    ids=["unknown", "collecting", "indexing", "failed"],
)
def test_a_bundle_that_is_not_indexed(
    local_indexed: Indexed, run: Any, job: dict[str, Any] | None, code: str, retryable: bool
) -> None:
    ctx = local_indexed.ctx
    bid = "b-20260306183000-12345678"
    if job is not None:
        ctx.jobs.create_job({"bundle_id": bid, "instance_id": "i-0123456789abcdef0", **job})
    result = run(ctx, "findings___errors", {"bundleId": bid})
    assert result["error"]["code"] == code and result["error"]["retryable"] is retryable
    if job and job.get("error"):
        assert "truncated" in result["error"]["message"]


def test_an_instance_without_bundles(local_indexed: Indexed, run: Any) -> None:
    result = run(local_indexed.ctx, "findings___errors", {"instanceId": "i-0123456789abcdef0"})
    assert result["error"]["code"] == "NotFound" and "nodelog___collect" in result["error"]["message"]


# ---------------------------------------------------------------- runbooks


def test_list_sops_all_and_filtered(local_ctx: Any, run: Any) -> None:
    everything = run(local_ctx, "runbooks___list_sops", {})
    assert everything["count"] == len(everything["runbooks"]) > 10
    by_rule = run(local_ctx, "runbooks___list_sops", {"rule": "network.iptables.forward-drop"})
    assert [r["id"] for r in by_rule["runbooks"]] == ["SOP-NET-001"]
    by_category = run(local_ctx, "runbooks___list_sops", {"category": "dns"})
    assert by_category["runbooks"] and all("dns" in r["categories"] for r in by_category["runbooks"])


def test_get_sop_returns_the_whole_procedure(local_ctx: Any, run: Any) -> None:
    result = run(local_ctx, "runbooks___get_sop", {"id": "SOP-NET-001"})
    assert result["runbook"]["id"] == "SOP-NET-001" and result["runbook"]["markdown"].startswith("# ")
    assert "network.iptables.forward-drop" in result["runbook"]["triggers"]


@pytest.mark.parametrize(
    ("tool", "args", "code"),
    [
        ("get_sop", {"id": "SOP-NET-999"}, "NotFound"),
        ("get_sop", {"id": "../../etc/passwd"}, "InvalidArgument"),
        ("get_sop", {}, "InvalidArgument"),
        ("list_sops", {"rule": "Not A Rule"}, "InvalidArgument"),
        ("list_sops", {"category": "everything"}, "InvalidArgument"),
        ("list_sops", {"extra": 1}, "InvalidArgument"),
    ],
)
def test_runbook_tools_reject_bad_arguments(
    local_ctx: Any, run: Any, tool: str, args: dict[str, Any], code: str
) -> None:
    assert run(local_ctx, f"runbooks___{tool}", args)["error"]["code"] == code


def test_errors_for_a_bundle_id_in_the_wrong_place_never_reads_other_keys(local_indexed: Indexed, run: Any) -> None:
    # the bundle id reaches storage only after validation, so no argument can name another object
    result = run(local_indexed.ctx, "findings___errors", {"bundleId": FAULTY_BUNDLE + "/../index"})
    assert result["error"]["code"] == "InvalidArgument"
