"""findings___errors, validate, artifact, search and read on the seed incident, on both store kinds."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.tools.conftest import FAULTY_BUNDLE, Indexed


def test_errors_lists_the_faulty_nodes_findings_worst_first_with_runbooks(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___errors", {"bundleId": indexed.faulty})
    rules = [f["rule"] for f in result["findings"]]
    assert rules[0] == "network.iptables.forward-drop" and result["findings"][0]["severity"] == "CRITICAL"
    assert {"network.route.blackhole", "kubelet.apiserver-timeout", "network.conntrack.insert-failed"} <= set(rules)
    ranks = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]
    assert [ranks.index(f["severity"]) for f in result["findings"]] == sorted(
        ranks.index(f["severity"]) for f in result["findings"]
    )
    assert not any(f["category"] == "noise" for f in result["findings"]) and result["excluded"]["noise"] >= 1
    assert "SOP-NET-001" in result["findings"][0]["runbooks"]
    assert result["summary"]["CRITICAL"] == 1 and result["total"] == len(result["findings"])
    assert result["window"] is None and result["nextCursor"] is None


def test_errors_defaults_to_the_instances_latest_bundle_through_the_pointer(indexed: Indexed, run: Any) -> None:
    by_instance = run(indexed.ctx, "findings___errors", {"instanceId": indexed.faulty_instance})
    assert by_instance["bundleId"] == indexed.faulty
    assert by_instance["instanceId"] == indexed.faulty_instance


def test_errors_pages_with_a_cursor_bound_to_the_query(local_indexed: Indexed, run: Any) -> None:
    ctx, bid = local_indexed.ctx, local_indexed.faulty
    everything = run(ctx, "findings___errors", {"bundleId": bid, "pageSize": 200})["findings"]
    seen: list[str] = []
    cursor = None
    while True:
        args = {"bundleId": bid, "pageSize": 3, **({"cursor": cursor} if cursor else {})}
        page = run(ctx, "findings___errors", args)
        seen += [f["id"] for f in page["findings"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [f["id"] for f in everything]
    first = run(ctx, "findings___errors", {"bundleId": bid, "pageSize": 3})
    other = run(ctx, "findings___errors", {"bundleId": bid, "pageSize": 4, "cursor": first["nextCursor"]})
    assert other["error"]["code"] == "InvalidArgument" and "cursor" in other["error"]["message"]


@pytest.mark.parametrize(
    ("args", "included", "excluded"),
    [
        ({"minSeverity": "CRITICAL"}, {"network.iptables.forward-drop"}, {"kubelet.apiserver-timeout"}),
        ({"categories": ["kubelet"]}, {"kubelet.apiserver-timeout"}, {"network.iptables.forward-drop"}),
        ({"includeNoise": True, "minSeverity": "INFO"}, {"noise.ipamd.introspection-request"}, set()),
    ],
    ids=["min-severity", "category", "noise-on-request"],
)
def test_errors_filters(
    local_indexed: Indexed, run: Any, args: dict[str, Any], included: set[str], excluded: set[str]
) -> None:
    result = run(local_indexed.ctx, "findings___errors", {"bundleId": local_indexed.faulty, **args})
    rules = {f["rule"] for f in result["findings"]}
    assert included <= rules and not (excluded & rules)


def test_errors_window_is_anchored_on_the_collection_time_not_now(local_indexed: Indexed, run: Any) -> None:
    # the seed bundle was collected 2025-03-06T18:22Z; "now" is a year later
    recent = run(local_indexed.ctx, "findings___errors", {"bundleId": local_indexed.faulty, "windowMinutes": 5})
    assert recent["window"]["end"] == "2025-03-06T18:22:00Z" and recent["window"]["start"] == "2025-03-06T18:17:00Z"
    rules = {f["rule"] for f in recent["findings"]}
    assert "kubelet.crashloop" in rules  # logged at 18:20
    assert "kubelet.cni-not-ready" not in rules and recent["excluded"]["outsideWindow"] >= 1  # 18:01 only
    # untimed state findings (iptables) are not hidden by a time window
    assert "network.iptables.forward-drop" in rules and recent["untimedIncluded"] >= 1
    around = run(
        local_indexed.ctx,
        "findings___errors",
        {"bundleId": local_indexed.faulty, "incidentTime": "2025-03-06T18:01:44Z", "windowMinutes": 1},
    )
    assert "kubelet.cni-not-ready" in {f["rule"] for f in around["findings"]}


def test_validate_reports_a_complete_bundle_and_its_sections(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___validate", {"bundleId": indexed.faulty})
    assert result["complete"] and result["archiveComplete"] and result["missingSections"] == []
    assert result["variant"] == "al2023" and result["region"] == "us-west-2" and result["fileCount"] > 20


def test_artifact_signs_one_listed_file_for_at_most_fifteen_minutes(indexed: Indexed, run: Any) -> None:
    result = run(indexed.ctx, "findings___artifact", {"bundleId": indexed.faulty, "path": "kubelet/kubelet.log"})
    assert result["expiresSeconds"] == 900 and result["expiresAt"] == "2026-03-06T18:45:00Z"
    if indexed.kind == "aws":
        assert f"/bundles/{indexed.faulty}/files/kubelet/kubelet.log" in result["url"]
        assert "X-Amz-Expires=900" in result["url"] and "X-Amz-Signature=" in result["url"]
    else:
        assert result["url"].startswith("file://") and result["url"].endswith("/files/kubelet/kubelet.log")
    short = run(
        indexed.ctx,
        "findings___artifact",
        {"bundleId": indexed.faulty, "path": "kubelet/kubelet.log", "expiresSeconds": 60},
    )
    assert short["expiresSeconds"] == 60


@pytest.mark.parametrize(
    "path", ["../index.json", "/etc/passwd", "kubelet/../../x", "uploads/x.tar.gz", "kubelet/nope.log"]
)
def test_artifact_and_read_refuse_anything_but_a_listed_bundle_file(
    local_indexed: Indexed, run: Any, path: str
) -> None:
    for tool in ("findings___artifact", "findings___read"):
        result = run(local_indexed.ctx, tool, {"bundleId": local_indexed.faulty, "path": path})
        assert result["error"]["code"] in ("InvalidArgument", "NotFound"), (tool, result)


# ---------------------------------------------------------------- search


def test_search_reports_exact_line_numbers(indexed: Indexed, run: Any) -> None:
    result = run(
        indexed.ctx,
        "findings___search",
        {"bundleId": indexed.faulty, "pattern": r"i/o timeout", "files": ["kubelet/*"]},
    )
    assert result["complete"] and result["returned"] > 0
    lines = {(m["file"], m["line"]) for m in result["matches"]}
    read = run(
        indexed.ctx, "findings___read", {"bundleId": indexed.faulty, "path": "kubelet/kubelet.log", "lineCount": 5000}
    )
    text = read["content"].splitlines()
    expected = {("kubelet/kubelet.log", n) for n, line in enumerate(text, 1) if re.search(r"(?i)i/o timeout", line)}
    assert lines == expected


def test_search_pages_exactly_through_all_matches(local_indexed: Indexed, run: Any) -> None:
    ctx, bid = local_indexed.ctx, local_indexed.faulty
    full = run(ctx, "findings___search", {"bundleId": bid, "pattern": "error", "maxMatches": 500})
    assert full["complete"]
    pages: list[tuple[str, int]] = []
    cursor = None
    for _ in range(100):
        args = {"bundleId": bid, "pattern": "error", "maxMatches": 4, **({"cursor": cursor} if cursor else {})}
        page = run(ctx, "findings___search", args)
        pages += [(m["file"], m["line"]) for m in page["matches"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == [(m["file"], m["line"]) for m in full["matches"]] and len(pages) > 8


def test_search_context_lines(local_indexed: Indexed, run: Any) -> None:
    result = run(
        local_indexed.ctx,
        "findings___search",
        {
            "bundleId": local_indexed.faulty,
            "pattern": "^Chain FORWARD",
            "files": ["networking/iptables-filter.txt"],
            "contextLines": 2,
        },
    )
    (match,) = result["matches"]
    assert len(match["before"]) == 2 and len(match["after"]) == 2 and "pkts bytes target" in match["after"][0]


@pytest.mark.parametrize(
    ("pattern", "ignore_case", "hits"),
    [("Chain FORWARD", False, True), ("chain forward", False, False), ("chain forward", True, True)],
)
def test_search_case_sensitivity(local_indexed: Indexed, run: Any, pattern: str, ignore_case: bool, hits: bool) -> None:
    result = run(
        local_indexed.ctx,
        "findings___search",
        {
            "bundleId": local_indexed.faulty,
            "pattern": pattern,
            "ignoreCase": ignore_case,
            "files": ["networking/iptables-filter.txt"],
        },
    )
    assert bool(result["matches"]) is hits


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=x)", "(unclosed", "a{1001}"])
def test_search_rejects_what_re2_cannot_compile(local_indexed: Indexed, run: Any, pattern: str) -> None:
    result = run(local_indexed.ctx, "findings___search", {"bundleId": local_indexed.faulty, "pattern": pattern})
    assert result["error"]["code"] == "InvalidArgument" and "RE2" in result["error"]["message"]


def test_search_runs_a_redos_pattern_in_linear_time(local_indexed: Indexed, run: Any) -> None:
    import time

    started = time.monotonic()
    result = run(local_indexed.ctx, "findings___search", {"bundleId": local_indexed.faulty, "pattern": "(a+)+$"})
    assert "error" not in result and time.monotonic() - started < 5


# ---------------------------------------------------------------- read


def test_read_by_finding_shows_the_lines_around_its_evidence(indexed: Indexed, run: Any) -> None:
    top = run(indexed.ctx, "findings___errors", {"bundleId": indexed.faulty, "pageSize": 1})["findings"][0]
    result = run(
        indexed.ctx, "findings___read", {"bundleId": indexed.faulty, "findingId": top["id"], "contextLines": 3}
    )
    assert result["path"] == top["file"] and result["mode"] == "lines"
    assert result["startLine"] == max(1, top["line"] - 3) and result["endLine"] == top["line"] + 3
    lines = result["content"].splitlines()
    for evidence in top["evidence"]:
        if result["startLine"] <= evidence["line"] <= result["endLine"]:
            assert lines[evidence["line"] - result["startLine"]] == evidence["text"]
    assert result["finding"]["id"] == top["id"]


def test_read_line_range_reports_exact_byte_offsets(indexed: Indexed, run: Any) -> None:
    ctx, bid = indexed.ctx, indexed.faulty
    lines = run(
        ctx, "findings___read", {"bundleId": bid, "path": "kubelet/kubelet.log", "startLine": 3, "lineCount": 4}
    )
    assert (lines["startLine"], lines["endLine"], lines["nextLine"]) == (3, 6, 7)
    raw = ctx.store.read_range(bid, "kubelet/kubelet.log", lines["startByte"], lines["endByte"])
    assert raw.decode() == lines["content"]


def test_read_the_last_page_says_there_is_no_more(local_indexed: Indexed, run: Any) -> None:
    total = run(local_indexed.ctx, "findings___validate", {"bundleId": local_indexed.faulty})
    del total
    result = run(
        local_indexed.ctx,
        "findings___read",
        {"bundleId": local_indexed.faulty, "path": "kubelet/kubelet.log", "startLine": 20, "lineCount": 5000},
    )
    assert result["nextLine"] is None and result["endLine"] == result["totalLines"]
    past = run(
        local_indexed.ctx,
        "findings___read",
        {"bundleId": local_indexed.faulty, "path": "kubelet/kubelet.log", "startLine": 10_000},
    )
    assert past["error"]["code"] == "InvalidArgument"


def test_read_byte_ranges_walk_the_file_exactly(local_indexed: Indexed, run: Any) -> None:
    ctx, bid, path = local_indexed.ctx, local_indexed.faulty, "kubelet/kubelet.log"
    whole = b"".join(ctx.store.iter_chunks(bid, path))
    got = b""
    start = 0
    while start is not None:
        page = run(ctx, "findings___read", {"bundleId": bid, "path": path, "startByte": start, "maxBytes": 1000})
        assert page["startByte"] == start == len(got)
        got += page["content"].encode()
        assert page["endByte"] == len(got)
        start = page["nextByte"]
    assert got == whole


def _put_file(indexed: Indexed, path: str, data: bytes) -> None:
    """Add a file to the faulty bundle (store and index) as the indexer would."""
    ctx = indexed.ctx
    sink = ctx.store.file_sink(indexed.faulty)
    with sink.open(path) as handle:
        handle.write(data)
    sink.wait()
    index = ctx.store.load_index(indexed.faulty)
    index["files"].append({"path": path, "size": len(data), "lines": data.count(b"\n"), "binary": False})
    ctx.store.save_index(indexed.faulty, index)
    ctx.cache.clear()


def test_read_byte_ranges_never_split_a_utf8_character(indexed: Indexed, run: Any) -> None:
    data = ("héllo wörld ✓ 𝄞 end\n" * 50).encode()
    _put_file(indexed, "var_log/utf8.log", data)
    for start in range(0, 40):
        for size in (1, 2, 3, 5, 7):
            page = run(
                indexed.ctx,
                "findings___read",
                {"bundleId": FAULTY_BUNDLE, "path": "var_log/utf8.log", "startByte": start, "maxBytes": size},
            )
            chunk = data[page["startByte"] : page["endByte"]]
            assert chunk.decode("utf-8") == page["content"] and not page["invalidUtf8"]
            assert page["startByte"] - start <= 3 and page["endByte"] > page["startByte"]
            assert page["nextByte"] == page["endByte"]


def test_read_a_gzipped_log_by_lines(local_indexed: Indexed, run: Any) -> None:
    import gzip

    text = "".join(f"line {n}\n" for n in range(1, 101))
    _put_file(local_indexed, "var_log/messages.1.gz", gzip.compress(text.encode()))
    page = run(
        local_indexed.ctx,
        "findings___read",
        {"bundleId": FAULTY_BUNDLE, "path": "var_log/messages.1.gz", "startLine": 50, "lineCount": 2},
    )
    assert page["content"] == "line 50\nline 51\n"
    found = run(
        local_indexed.ctx,
        "findings___search",
        {"bundleId": FAULTY_BUNDLE, "pattern": "^line 77$", "files": ["var_log/*.gz"]},
    )
    assert [(m["file"], m["line"]) for m in found["matches"]] == [("var_log/messages.1.gz", 77)]
    by_bytes = run(
        local_indexed.ctx,
        "findings___read",
        {"bundleId": FAULTY_BUNDLE, "path": "var_log/messages.1.gz", "startByte": 0},
    )
    assert by_bytes["error"]["code"] == "InvalidArgument"


# ---------------------------------------------------------------- properties of the byte/line helpers

from eksdiag.tools.findings._files import iter_lines  # noqa: E402
from eksdiag.tools.findings.read import utf8_window  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(text=st.text(min_size=1, max_size=60), start=st.integers(0, 240), limit=st.integers(1, 40))
def test_utf8_window_never_splits_a_character(text: str, start: int, limit: int) -> None:
    data = text.encode("utf-8")
    start = min(start, len(data) - 1)
    window = data[start : start + limit + 7]
    skip, keep = utf8_window(window, limit)
    chunk = window[skip:keep]
    chunk.decode("utf-8")  # strict: raises if a character was split
    assert skip <= 3 and (keep > skip or skip == len(window))  # empty only when the start is inside the last character
    assert len(chunk) <= max(limit, 4)
    # the chunk starts on a character boundary of the whole text
    assert not (0 < start + skip < len(data) and data[start + skip] & 0xC0 == 0x80)


class _Chunks:
    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size = data, size

    def iter_chunks(self, bundle_id: str, path: str, chunk: int = 0) -> Any:
        for i in range(0, len(self.data), self.size):
            yield self.data[i : i + self.size]

    def read_range(self, bundle_id: str, path: str, start: int, end: int) -> bytes:
        return self.data[start:end]


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=12).filter(lambda b: b"\n" not in b), max_size=12),
    trailing=st.booleans(),
    size=st.integers(1, 9),
)
def test_iter_lines_numbers_and_offsets_are_exact(lines: list[bytes], trailing: bool, size: int) -> None:
    data = b"\n".join(lines) + (b"\n" if trailing and lines else b"")
    ctx = type("Ctx", (), {"store": _Chunks(data, size)})()
    got = list(iter_lines(ctx, "b", "f.log"))
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert [line.raw for line in got] == expected
    assert [line.number for line in got] == list(range(1, len(expected) + 1))
    for line in got:
        assert data[line.start : line.start + line.length] == line.raw
    # resuming from any line's offset yields the same tail
    for line in got:
        tail = list(iter_lines(ctx, "b", "f.log", line.number, line.start))
        assert [t.raw for t in tail] == expected[line.number - 1 :]
