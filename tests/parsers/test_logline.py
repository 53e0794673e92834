"""Log-line helpers: journal short, klog, logrus, zap JSON, dmesg, CRI, timestamps, bundle names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from eksdiag.engine.parsers.logline import (
    MONTHS,
    JournalLine,
    collection_time_from_name,
    instance_id_from_name,
    line_timestamp,
    parse_cri,
    parse_dmesg,
    parse_iso_time,
    parse_journal_meta,
    parse_journal_short,
    parse_klog,
    parse_logrus,
    parse_zap_json,
    unquote_go,
)
from hypothesis import given, settings
from hypothesis import strategies as st

HOST = "ip-192-168-45-12.us-west-2.compute.internal"
COLLECTED = datetime(2025, 3, 6, 18, 22, tzinfo=UTC)

KUBELET_LINE = (
    f"Mar 06 18:01:12 {HOST} kubelet[3456]: I0306 18:01:12.511207    3456 kubelet.go:2337] "
    '"SyncLoop ADD" source="api" pods=["kube-system/aws-node-7xk2p"]'
)
KUBELET_CRASHLOOP = (
    f"Mar 06 18:20:31 {HOST} kubelet[3456]: E0306 18:20:31.004211    3456 pod_workers.go:1301] "
    '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"app\\" with CrashLoopBackOff: '
    '\\"back-off 5m0s restarting failed container=app pod=web-5d8c7_default(3f1c)\\"" pod="default/web-5d8c7"'
)
CONTAINERD_LINE = (
    f"Mar 06 18:19:58 {HOST} containerd[2890]: "
    'time="2025-03-06T18:19:58.300871102Z" level=error msg="PullImage \\"123456789012.dkr.ecr.us-west-2.'
    'amazonaws.com/app:v2\\" failed" error="failed to pull and unpack image: 403 Forbidden"'
)
NODEADM_LINE = f"Mar 06 18:00:58 {HOST} nodeadm[1834]: info init/init.go:55 Checking user is root.."
IPAMD_LINE = (
    '{"level":"error","ts":"2025-03-06T18:05:33.004Z","caller":"datastore/data_store.go:858",'
    '"msg":"DataStore has no available IP/Prefix addresses"}'
)
CRI_LINE = (
    "2025-03-06T18:01:44.912345678Z stderr F "
    'time="2025-03-06T18:01:44Z" level=info msg="Checking for IPAM connectivity... "'
)


# --- journal -------------------------------------------------------------------------------------


def test_journal_short_kubelet() -> None:
    parsed = parse_journal_short(KUBELET_LINE)
    assert parsed is not None
    assert parsed[:8] == (3, 6, 18, 1, 12, HOST, "kubelet", 3456)
    assert parsed.message.startswith("I0306 18:01:12.511207")


@pytest.mark.parametrize(
    ("line", "unit", "pid", "message"),
    [
        (
            f"Mar 06 18:21:40 {HOST} kernel: Memory cgroup out of memory",
            "kernel",
            None,
            "Memory cgroup out of memory",
        ),
        (
            "Mar  6 18:21:40 ip-10-0-0-1 dhclient[2201]: bound to 10.0.0.1",
            "dhclient",
            2201,
            "bound to 10.0.0.1",
        ),
        (
            f"Dec 31 23:59:59 {HOST} systemd[1]: Started kubelet.service.",
            "systemd",
            1,
            "Started kubelet.service.",
        ),
        (
            f"Mar 06 18:00:58 {HOST} (sd-pam)[990]: pam_unix(systemd-user:session)",
            "(sd-pam)",
            990,
            "pam_unix(systemd-user:session)",
        ),
        (f"Mar 06 18:00:58 {HOST} kubelet[3456]:", "kubelet", 3456, ""),
    ],
)
def test_journal_short_units_and_messages(line: str, unit: str, pid: int | None, message: str) -> None:
    parsed = parse_journal_short(line)
    assert parsed is not None
    assert (parsed.unit, parsed.pid, parsed.message) == (unit, pid, message)


@pytest.mark.parametrize(
    "line",
    [
        "-- Logs begin at Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC. --",
        "-- No entries --",
        "-- Boot 4a1c2e0b8f3d4e5f9a0b1c2d3e4f5a6b --",
        "Foo 06 18:01:12 host unit: month is not a month",
        "Mar 06 18:01 host unit: no seconds",
        "",
        "goroutine 1 [running]:",
    ],
)
def test_journal_short_rejects_other_lines(line: str) -> None:
    assert parse_journal_short(line) is None


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        (
            "-- Logs begin at Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC. --",
            "logs-begin",
            "Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC.",
        ),
        ("-- No entries --", "no-entries", None),
        ("-- Boot 4A1C2E0B8F3D4E5F9A0B1C2D3E4F5A6B --", "boot", "4a1c2e0b8f3d4e5f9a0b1c2d3e4f5a6b"),
        ("-- Reboot --", "reboot", None),
    ],
)
def test_journal_metadata_lines(line: str, kind: str, value: str | None) -> None:
    meta = parse_journal_meta(line)
    assert meta is not None
    assert (meta.kind, meta.value) == (kind, value)


@pytest.mark.parametrize("line", [KUBELET_LINE, "-- something else --", "--", ""])
def test_journal_metadata_rejects_entries(line: str) -> None:
    assert parse_journal_meta(line) is None


# --- klog / logrus / zap -------------------------------------------------------------------------


def test_klog_structured_message_is_unquoted() -> None:
    entry = parse_journal_short(KUBELET_LINE)
    assert entry is not None
    klog = parse_klog(entry.message)
    assert klog is not None
    assert klog == (
        "I",
        3,
        6,
        "18:01:12.511207",
        3456,
        "kubelet.go:2337",
        "SyncLoop ADD",
        'source="api" pods=["kube-system/aws-node-7xk2p"]',
    )


def test_klog_escaped_quotes_in_fields_stay_as_text() -> None:
    entry = parse_journal_short(KUBELET_CRASHLOOP)
    assert entry is not None
    klog = parse_klog(entry.message)
    assert klog is not None
    assert (klog.level, klog.message) == ("E", "Error syncing pod, skipping")
    assert klog.fields.startswith('err="failed to \\"StartContainer\\"')
    assert klog.fields.endswith('pod="default/web-5d8c7"')


def test_klog_unstructured_message() -> None:
    klog = parse_klog("W0306 18:15:09.872001    3456 reflector.go:424] failed to list *v1.Node: Unauthorized")
    assert klog is not None
    assert (klog.level, klog.source, klog.message, klog.fields) == (
        "W",
        "reflector.go:424",
        "failed to list *v1.Node: Unauthorized",
        "",
    )


def test_klog_quoted_message_with_escapes() -> None:
    klog = parse_klog('E0306 18:01:44.100234    3456 kubelet.go:3002] "say \\"hi\\"\\n\\u00e9" k="v"')
    assert klog is not None
    assert klog.message == 'say "hi"\né'
    assert klog.fields == 'k="v"'


@pytest.mark.parametrize(
    "text", ["", "I0306 18:01:12 missing micros", "X0306 18:01:12.511207 1 a.go:1] m", KUBELET_LINE]
)
def test_klog_rejects_non_klog(text: str) -> None:
    assert parse_klog(text) is None


def test_logrus_containerd_line() -> None:
    entry = parse_journal_short(CONTAINERD_LINE)
    assert entry is not None
    parsed = parse_logrus(entry.message)
    assert parsed is not None
    assert parsed.time == "2025-03-06T18:19:58.300871102Z"
    assert parsed.level == "error"
    assert parsed.msg == 'PullImage "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v2" failed'
    assert parsed.fields == {"error": "failed to pull and unpack image: 403 Forbidden"}


def test_logrus_unquoted_values_and_extra_fields() -> None:
    parsed = parse_logrus(
        'time="2025-03-06T18:21:40.118870551Z" level=info msg=TaskOOM container_id=9b2e runtime=io.containerd.runc.v2'
    )
    assert parsed is not None
    assert (parsed.level, parsed.msg, parsed.fields) == (
        "info",
        "TaskOOM",
        {"container_id": "9b2e", "runtime": "io.containerd.runc.v2"},
    )


@pytest.mark.parametrize("text", ["", "plain text", "level=info", 'msg="no level"', IPAMD_LINE])
def test_logrus_rejects_other_text(text: str) -> None:
    assert parse_logrus(text) is None


def test_zap_json_ipamd_line() -> None:
    parsed = parse_zap_json(IPAMD_LINE)
    assert parsed is not None
    assert parsed[:4] == (
        "error",
        "2025-03-06T18:05:33.004Z",
        "datastore/data_store.go:858",
        "DataStore has no available IP/Prefix addresses",
    )
    assert parsed.fields == {}


def test_zap_json_keeps_other_fields() -> None:
    parsed = parse_zap_json(
        '{"level":"info","ts":"2025-03-06T18:02:10.512Z","caller":"c.go:1","msg":"m","eni":"eni-1"}'
    )
    assert parsed is not None
    assert parsed.fields == {"eni": "eni-1"}


@pytest.mark.parametrize("text", ["", "not json", "{broken", "[1,2]", '{"other":"object"}', '"string"'])
def test_zap_json_tolerates_non_json(text: str) -> None:
    assert parse_zap_json(text) is None


# --- dmesg / CRI ---------------------------------------------------------------------------------


def test_dmesg_raw_seconds() -> None:
    parsed = parse_dmesg("[12345.679601] Memory cgroup out of memory: Killed process 48211 (python3)")
    assert parsed == (12345.679601, None, "Memory cgroup out of memory: Killed process 48211 (python3)")


def test_dmesg_raw_padded_seconds() -> None:
    parsed = parse_dmesg("[    0.000000] Linux version 6.1.128-136.201.amzn2023.x86_64")
    assert parsed is not None
    assert (parsed.seconds, parsed.message) == (0.0, "Linux version 6.1.128-136.201.amzn2023.x86_64")


def test_dmesg_ctime() -> None:
    parsed = parse_dmesg("[Thu Mar  6 18:21:40 2025] Memory cgroup out of memory: Killed process 48211 (python3)")
    assert parsed is not None
    assert parsed.seconds is None
    assert parsed.time == datetime(2025, 3, 6, 18, 21, 40, tzinfo=UTC)
    assert parsed.message.startswith("Memory cgroup")


@pytest.mark.parametrize("text", ["", "no bracket", "[abc] x", "[Thu Feb 30 18:21:40 2025] bad day"])
def test_dmesg_rejects_other_lines(text: str) -> None:
    assert parse_dmesg(text) is None


def test_cri_line() -> None:
    parsed = parse_cri(CRI_LINE)
    assert parsed is not None
    assert parsed[:3] == ("2025-03-06T18:01:44.912345678Z", "stderr", "F")
    assert parsed.payload.startswith('time="2025-03-06T18:01:44Z"')


def test_cri_partial_line() -> None:
    parsed = parse_cri("2025-03-06T18:01:44.912345678Z stdout P part of a long line")
    assert parsed is not None
    assert (parsed.stream, parsed.tag, parsed.payload) == ("stdout", "P", "part of a long line")


@pytest.mark.parametrize("text", ["", "2025-03-06T18:01:44Z stdin F x", "hello stdout F x"])
def test_cri_rejects_other_lines(text: str) -> None:
    assert parse_cri(text) is None


def test_unquote_go_without_escapes_returns_same_text() -> None:
    assert unquote_go("plain") == "plain"
    assert unquote_go("bad \\q escape") == "bad q escape"


# --- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (KUBELET_LINE, datetime(2025, 3, 6, 18, 1, 12, 511207, tzinfo=UTC)),
        (CONTAINERD_LINE, datetime(2025, 3, 6, 18, 19, 58, 300871, tzinfo=UTC)),
        (NODEADM_LINE, datetime(2025, 3, 6, 18, 0, 58, tzinfo=UTC)),
        (f"Mar  6 18:21:40 {HOST} kernel: x", datetime(2025, 3, 6, 18, 21, 40, tzinfo=UTC)),
        (IPAMD_LINE, datetime(2025, 3, 6, 18, 5, 33, 4000, tzinfo=UTC)),
        (CRI_LINE, datetime(2025, 3, 6, 18, 1, 44, 912345, tzinfo=UTC)),
        (
            'time="2025-03-06T18:01:44Z" level=info msg="Starting IPAM daemon... "',
            datetime(2025, 3, 6, 18, 1, 44, tzinfo=UTC),
        ),
        (
            "I0306 18:01:12.511207       1 server.go:846] kube-proxy",
            datetime(2025, 3, 6, 18, 1, 12, 511207, tzinfo=UTC),
        ),
        ("[Thu Mar  6 18:21:40 2025] Killed process 48211", datetime(2025, 3, 6, 18, 21, 40, tzinfo=UTC)),
        (
            "2025-03-06 18:01:02,123 - util.py[DEBUG]: Cloud-init v. 22.2.2",
            datetime(2025, 3, 6, 18, 1, 2, 123000, tzinfo=UTC),
        ),
        ("2025-03-06T19:01:02+01:00 offset", datetime(2025, 3, 6, 18, 1, 2, tzinfo=UTC)),
        (
            '{"level":"info","ts":1741284130.5153,"msg":"epoch"}',
            datetime(2025, 3, 6, 18, 2, 10, 515300, tzinfo=UTC),
        ),
    ],
)
def test_line_timestamp_formats(line: str, expected: datetime) -> None:
    assert line_timestamp(line, COLLECTED) == expected


@pytest.mark.parametrize(
    "line",
    [
        "[ 1187.402233] IPv6: ADDRCONF(NETDEV_CHANGE): eni8f1d0c2e7a4: link becomes ready",
        "-- Logs begin at Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC. --",
        "-- No entries --",
        "goroutine 1 [running]:",
        "{not json",
        "",
        "2025-13-45T99:99:99Z impossible",
        "Feb 30 18:21:40 host kernel: impossible day",
    ],
)
def test_line_timestamp_none_without_wall_clock(line: str) -> None:
    assert line_timestamp(line, COLLECTED) is None


@pytest.mark.parametrize(
    ("line", "reference", "expected"),
    [
        # Dec 31 line, bundle collected Jan 2: previous year.
        (
            "Dec 31 23:59:59 h kernel: x",
            datetime(2026, 1, 2, 8, 0, tzinfo=UTC),
            datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
        ),
        # Jan 1 line, collected Dec 31 (less than a day later): next year.
        (
            "Jan 01 05:00:00 h kernel: x",
            datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
            datetime(2026, 1, 1, 5, 0, tzinfo=UTC),
        ),
        # Jan 2 line, collected Dec 31: more than a day later, so last January.
        (
            "Jan 02 05:00:00 h kernel: x",
            datetime(2025, 12, 31, 12, 0, tzinfo=UTC),
            datetime(2025, 1, 2, 5, 0, tzinfo=UTC),
        ),
        # A klog payload follows the same rule.
        (
            "I1231 23:59:59.000001 1 a.go:1] x",
            datetime(2026, 1, 2, tzinfo=UTC),
            datetime(2025, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        ),
        # Feb 29 only exists in leap years: the latest one not after the reference.
        (
            "Feb 29 10:00:00 h kernel: x",
            datetime(2027, 3, 1, tzinfo=UTC),
            datetime(2024, 2, 29, 10, 0, tzinfo=UTC),
        ),
        # Within the one-day tolerance the current year is kept.
        ("Mar 07 18:21:00 h kernel: x", COLLECTED, datetime(2025, 3, 7, 18, 21, tzinfo=UTC)),
    ],
)
def test_year_rollover(line: str, reference: datetime, expected: datetime) -> None:
    assert line_timestamp(line, reference) == expected


def test_naive_and_offset_references_are_utc() -> None:
    naive = line_timestamp("Dec 31 23:59:59 h kernel: x", datetime(2026, 1, 2))
    offset = line_timestamp(
        "Dec 31 23:59:59 h kernel: x", datetime(2026, 1, 2, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    assert naive == offset == datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_journal_klog_with_other_month_falls_back_to_journal_stamp() -> None:
    line = "Mar 01 00:00:01 h kubelet[1]: I0228 23:59:59.999999 1 a.go:1] late flush"
    assert line_timestamp(line, COLLECTED) == datetime(2025, 3, 1, 0, 0, 1, tzinfo=UTC)


def test_parse_iso_time_truncates_nanoseconds() -> None:
    assert parse_iso_time("2025-03-06T18:01:10.871234567Z") == datetime(2025, 3, 6, 18, 1, 10, 871234, tzinfo=UTC)


# --- bundle names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "instance"),
    [
        (
            "eks_i-049d185b673566680_2025-03-06_1822-UTC_0.7.8.tar.gz",
            datetime(2025, 3, 6, 18, 22, tzinfo=UTC),
            "i-049d185b673566680",
        ),
        (
            "/var/log/eks_i-01111ad54b6cfaa19_2020-03-11_0103-UTC_0.6.0.tar.gz",
            datetime(2020, 3, 11, 1, 3, tzinfo=UTC),
            "i-01111ad54b6cfaa19",
        ),
        ("uploads/i-1/eks__2025-11-26_0905-UTC_0.7.9.tar.gz", datetime(2025, 11, 26, 9, 5, tzinfo=UTC), None),
        (
            "eks_i-049d185b673566680_2025-03-06_1822-UTC_0.7.8",
            datetime(2025, 3, 6, 18, 22, tzinfo=UTC),
            "i-049d185b673566680",
        ),
    ],
)
def test_collection_time_from_name(name: str, expected: datetime, instance: str | None) -> None:
    assert collection_time_from_name(name) == expected
    assert instance_id_from_name(name) == instance


@pytest.mark.parametrize(
    "name",
    [
        "eks_i-0014be4d4a0ea0543_94dc3448-b94b-470b-8f2d-99b81aad4c53.tar.gz",
        "bundle.tar.gz",
        "eks_i-049d185b673566680_2025-13-06_1822-UTC_0.7.8.tar.gz",
        "",
    ],
)
def test_collection_time_absent(name: str) -> None:
    assert collection_time_from_name(name) is None


# --- properties ----------------------------------------------------------------------------------

_REFERENCES = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 12, 31))

_PREFIXES = st.sampled_from(
    [
        "",
        "Mar 06 18:01:12 host kubelet[1]: ",
        "Feb 29 00:00:00 h u: ",
        "I0306 18:01:12.511207 ",
        'time="',
        "{",
        '{"ts":"',
        "[",
        "[Thu Mar  6 18:21:40 ",
        "2025-03-06T18:01:44.9Z ",
        "-- ",
        "eks_i-0123456789abcdef0_",
    ]
)


@settings(max_examples=400, deadline=None)
@given(prefix=_PREFIXES, text=st.text(max_size=120), reference=_REFERENCES)
def test_helpers_never_raise_on_arbitrary_text(prefix: str, text: str, reference: datetime) -> None:
    line = prefix + text
    stamp = line_timestamp(line, reference)
    assert stamp is None or stamp.tzinfo is not None
    for helper in (
        parse_journal_short,
        parse_journal_meta,
        parse_klog,
        parse_logrus,
        parse_zap_json,
        parse_dmesg,
        parse_cri,
        parse_iso_time,
        collection_time_from_name,
        instance_id_from_name,
    ):
        helper(line)


_MONTH_NAMES = {number: name for name, number in MONTHS.items()}


@settings(max_examples=400, deadline=None)
@given(
    reference=_REFERENCES,
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    second=st.integers(0, 59),
)
def test_year_choice_is_latest_not_after_reference_plus_a_day(
    reference: datetime, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    line = f"{_MONTH_NAMES[month]} {day:02d} {hour:02d}:{minute:02d}:{second:02d} host kubelet[1]: msg"
    stamp = line_timestamp(line, reference)
    limit = reference.replace(tzinfo=UTC) + timedelta(days=1)
    if stamp is None:
        # Only impossible dates (e.g. Apr 31) have no year at all.
        for year in range(limit.year - 8, limit.year + 1):
            with pytest.raises(ValueError):
                datetime(year, month, day)
        return
    assert (stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second) == (
        month,
        day,
        hour,
        minute,
        second,
    )
    assert stamp <= limit
    for later in range(stamp.year + 1, limit.year + 1):
        try:
            candidate = datetime(later, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            continue
        assert candidate > limit


def test_journal_line_is_a_tuple_in_documented_order() -> None:
    assert JournalLine._fields == (
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "host",
        "unit",
        "pid",
        "message",
    )
