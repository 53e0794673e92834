"""Pure helpers that take one log line apart: journal ``short``, klog, logrus, zap JSON, dmesg, CRI.

They run on matched lines only (the indexer's scanner) and on the timeline, so they are cheap: every
regular expression is compiled once at import, no function raises on arbitrary text, and a line that
does not have the expected shape gives ``None``.

Times: every ``datetime`` returned is timezone-aware UTC. Journal ``short`` and klog stamps have no
year; :func:`line_timestamp` chooses it from a reference time (the bundle's collection time) so that
the stamp is never more than one day after the reference.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

__all__ = [
    "CriLine",
    "DmesgLine",
    "JournalLine",
    "JournalMeta",
    "KlogLine",
    "LogrusLine",
    "ZapLine",
    "collection_time_from_name",
    "instance_id_from_name",
    "line_timestamp",
    "parse_cri",
    "parse_dmesg",
    "parse_iso_time",
    "parse_journal_meta",
    "parse_journal_short",
    "parse_klog",
    "parse_logrus",
    "parse_zap_json",
    "unquote_go",
]

MONTHS: dict[str, int] = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}

_ONE_DAY = timedelta(days=1)


class JournalLine(NamedTuple):
    """``Mar 06 18:01:12 host kubelet[3456]: msg`` (journalctl ``short``, also syslog ``Mar  6``)."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    host: str
    unit: str
    pid: int | None
    message: str


class JournalMeta(NamedTuple):
    """A journalctl metadata line.

    ``kind`` is ``"logs-begin"`` (``value`` = the text after ``Logs begin at``, e.g.
    ``"Thu 2025-02-27 09:58:11 UTC, end at Thu 2025-03-06 18:22:05 UTC."``), ``"no-entries"``
    (``value`` None), ``"boot"`` (``value`` = the boot id) or ``"reboot"`` (``value`` None).
    """

    kind: str
    value: str | None


class KlogLine(NamedTuple):
    """``I0306 18:01:12.511207    3456 kubelet.go:2337] "SyncLoop ADD" source="api"``.

    ``message`` is the structured message unquoted (or the whole free text of an unstructured
    line); ``fields`` is the rest (``key=value`` pairs) as written.
    """

    level: str
    month: int
    day: int
    time: str
    thread: int
    source: str
    message: str
    fields: str


class LogrusLine(NamedTuple):
    """``time="2025-03-06T18:01:10.871234567Z" level=info msg="..." error="..."``."""

    time: str | None
    level: str | None
    msg: str | None
    fields: dict[str, str]


class ZapLine(NamedTuple):
    """One zap JSON line (``ipamd.log``, ``plugin.log``): ``level``, ``ts``, ``caller``, ``msg``."""

    level: str | None
    ts: str | None
    caller: str | None
    msg: str | None
    fields: dict[str, object]


class DmesgLine(NamedTuple):
    """``[ 1187.402233] msg`` (``seconds`` since boot) or ``[Thu Mar  6 18:21:40 2025] msg`` (``time``)."""

    seconds: float | None
    time: datetime | None
    message: str


class CriLine(NamedTuple):
    """``2025-03-06T18:01:44.912345678Z stderr F payload`` (CRI container log file line)."""

    time: str
    stream: str
    tag: str
    payload: str


# --- regular expressions (compiled once) ---------------------------------------------------------

_JOURNAL = re.compile(
    r"([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\S+) "
    r"([^\s\[]+?)(?:\[(\d{1,10})\])?:(?: (.*)|$)",
    re.DOTALL,
)
_JOURNAL_BOOT = re.compile(r"-- Boot ([0-9a-fA-F]{32}) --\s*$")
_KLOG = re.compile(r"([IWEF])(\d{2})(\d{2}) (\d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([^\s\]]+)\] ?(.*)", re.DOTALL)
_KLOG_TIME = re.compile(r"[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) ")
_GO_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_GO_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)
_LOGFMT_PAIR = re.compile(r'([A-Za-z_][\w.\-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"(?:(Z|[+-]\d{2}:?\d{2})| ?UTC\b)?"
)
_ZAP_TS = re.compile(r'"(?:ts|time|timestamp)"\s*:\s*(?:"([^"]{10,40})"|(\d{9,11}(?:\.\d+)?))')
_DMESG_RAW = re.compile(r"\[\s*(\d{1,12}\.\d{1,9})\] ?(.*)", re.DOTALL)
_DMESG_CTIME = re.compile(
    r"\[[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})\] ?(.*)", re.DOTALL
)
_CRI = re.compile(r"(\d{4}-\d{2}-\d{2}T\S+) (stdout|stderr) ([FP]) ?(.*)", re.DOTALL)
_BUNDLE_NAME = re.compile(
    r"eks_(i-[0-9a-f]{8,17})?_(\d{4})-(\d{2})-(\d{2})_(\d{2})(\d{2})-([A-Za-z]{1,5})_[0-9A-Za-z.\-]*?"
    r"(?:\.tar\.gz|\.tgz)?$"
)

_GO_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "'": "'",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}


# --- journal -------------------------------------------------------------------------------------


def parse_journal_short(text: str) -> JournalLine | None:
    """Take a journalctl ``short`` (or syslog) line apart; ``None`` for anything else.

    Metadata lines (``-- Logs begin at …``, ``-- No entries --``, ``-- Boot … --``) give ``None``
    here; see :func:`parse_journal_meta`.
    """
    m = _JOURNAL.match(text)
    if m is None:
        return None
    month = MONTHS.get(m.group(1))
    if month is None:
        return None
    pid = m.group(8)
    return JournalLine(
        month,
        int(m.group(2)),
        int(m.group(3)),
        int(m.group(4)),
        int(m.group(5)),
        m.group(6),
        m.group(7),
        int(pid) if pid is not None else None,
        m.group(9) or "",
    )


def parse_journal_meta(text: str) -> JournalMeta | None:
    """Recognise journalctl's own lines: ``-- Logs begin at …``, ``-- No entries --``, ``-- Boot <id> --``."""
    if not text.startswith("-- "):
        return None
    body = text.rstrip()
    if body == "-- No entries --":
        return JournalMeta("no-entries", None)
    if body == "-- Reboot --":
        return JournalMeta("reboot", None)
    if body.startswith("-- Logs begin at "):
        value = body[len("-- Logs begin at ") :]
        if value.endswith(" --"):
            value = value[:-3]
        return JournalMeta("logs-begin", value)
    m = _JOURNAL_BOOT.match(body)
    if m is not None:
        return JournalMeta("boot", m.group(1).lower())
    return None


# --- klog ----------------------------------------------------------------------------------------


def unquote_go(body: str) -> str:
    """Undo Go ``strconv.Quote`` escaping of the text between the quotes (tolerant of bad escapes)."""
    if "\\" not in body:
        return body
    return _GO_ESCAPE.sub(_go_escape, body)


def _go_escape(m: re.Match[str]) -> str:
    esc = m.group(1)
    simple = _GO_SIMPLE_ESCAPES.get(esc)
    if simple is not None:
        return simple
    head = esc[0]
    try:
        if head in "xuU" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        if len(esc) == 3 and esc.isdigit():
            return chr(int(esc, 8))
    except (ValueError, OverflowError):
        pass
    return esc


def parse_klog(message: str) -> KlogLine | None:
    """Take a klog line apart (the payload after the journal prefix, or a bare container log line)."""
    m = _KLOG.match(message)
    if m is None:
        return None
    rest = m.group(7)
    msg = rest
    fields = ""
    if rest.startswith('"'):
        q = _GO_QUOTED.match(rest)
        if q is not None:
            msg = unquote_go(q.group(1))
            fields = rest[q.end() :].lstrip(" ")
    return KlogLine(
        m.group(1),
        int(m.group(2)),
        int(m.group(3)),
        m.group(4),
        int(m.group(5)),
        m.group(6),
        msg,
        fields,
    )


# --- logrus / zap ---------------------------------------------------------------------------------


def parse_logrus(message: str) -> LogrusLine | None:
    """Take a logrus text line apart (``time=… level=… msg=…`` plus other fields, values unescaped).

    ``None`` unless the text starts with a ``key=`` pair and has a ``level`` and a ``time`` or ``msg``.
    """
    if "=" not in message[:40]:
        return None
    fields: dict[str, str] = {}
    pos = 0
    length = len(message)
    while pos < length:
        m = _LOGFMT_PAIR.match(message, pos)
        if m is None:
            break
        value = m.group(2)
        if value.startswith('"') and len(value) >= 2:
            value = unquote_go(value[1:-1])
        fields.setdefault(m.group(1), value)
        pos = m.end()
        while pos < length and message[pos] == " ":
            pos += 1
    level = fields.pop("level", None)
    if level is None:
        return None
    time = fields.pop("time", None)
    msg = fields.pop("msg", None)
    if time is None and msg is None:
        return None
    return LogrusLine(time, level, msg, fields)


def parse_zap_json(text: str) -> ZapLine | None:
    """Take a zap JSON line apart (``level``, ``ts``, ``caller``, ``msg``; other keys in ``fields``)."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    level = data.pop("level", None)
    ts = data.pop("ts", None)
    caller = data.pop("caller", None)
    msg = data.pop("msg", None)
    if level is None and msg is None:
        return None
    return ZapLine(
        level if isinstance(level, str) else None,
        ts if isinstance(ts, str) else (str(ts) if isinstance(ts, int | float) else None),
        caller if isinstance(caller, str) else None,
        msg if isinstance(msg, str) else None,
        data,
    )


# --- dmesg / CRI ---------------------------------------------------------------------------------


def parse_dmesg(text: str) -> DmesgLine | None:
    """``[ 1187.402233] msg`` → seconds since boot; ``[Thu Mar  6 18:21:40 2025] msg`` → UTC datetime."""
    if not text.startswith("["):
        return None
    m = _DMESG_RAW.match(text)
    if m is not None:
        return DmesgLine(float(m.group(1)), None, m.group(2))
    m = _DMESG_CTIME.match(text)
    if m is None:
        return None
    stamp = _build(int(m.group(6)), MONTHS.get(m.group(1), 0), m.group(2), m.group(3), m.group(4), m.group(5))
    if stamp is None:
        return None
    return DmesgLine(None, stamp, m.group(7))


def parse_cri(text: str) -> CriLine | None:
    """``<RFC3339Nano> <stdout|stderr> <F|P> <payload>`` (a CRI container log file line)."""
    m = _CRI.match(text)
    if m is None:
        return None
    return CriLine(m.group(1), m.group(2), m.group(3), m.group(4))


# --- timestamps ----------------------------------------------------------------------------------


def _build(year: int, month: int, day: str, hour: str, minute: str, second: str) -> datetime | None:
    try:
        return datetime(year, month, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def parse_iso_time(text: str) -> datetime | None:
    """An RFC 3339 / ISO 8601 stamp at the start of ``text`` (nanoseconds truncated to micros) → UTC.

    A stamp without an offset is taken as UTC (the EKS AMIs' default zone).
    """
    m = _ISO.match(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micros = int((frac + "00000")[:6]) if frac else 0
    try:
        stamp = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
        try:
            stamp = stamp - sign * offset
        except OverflowError:
            return None
    return stamp


def _with_year(
    month: int, day: int, hour: int, minute: int, second: int, micros: int, reference: datetime
) -> datetime | None:
    """The latest year that makes the stamp valid and not more than one day after ``reference``."""
    try:
        limit = reference + _ONE_DAY
    except OverflowError:
        limit = reference
    year = reference.year + (1 if limit.year > reference.year else 0)
    for candidate in range(year, max(year - 9, 0), -1):
        try:
            stamp = datetime(candidate, month, day, hour, minute, second, micros, tzinfo=UTC)
        except (ValueError, OverflowError):
            continue
        if stamp <= limit:
            return stamp
    return None


def _utc(reference: datetime) -> datetime:
    if reference.tzinfo is None:
        return reference.replace(tzinfo=UTC)
    return reference.astimezone(UTC)


def line_timestamp(text: str, reference: datetime, boot_time: datetime | None = None) -> datetime | None:
    """The best wall-clock UTC time of one log line, or ``None``.

    Understands journal/syslog ``short`` (year from ``reference``; a klog header or a logrus
    ``time=`` inside the message refines it), bare klog (year from ``reference``), logrus, zap JSON
    (``ts``), CRI and ISO 8601 lines, and ``dmesg --ctime``. Raw dmesg seconds since boot count from
    ``boot_time`` when it is known (``None`` otherwise, and when that would put the line more than a
    day after ``reference``: a stamp from another boot). ``reference`` is the bundle's collection
    time (naive means UTC). Never raises.
    """
    if not text:
        return None
    try:
        return _line_timestamp(text, reference, boot_time)
    except (ValueError, OverflowError, OSError, IndexError, TypeError):
        return None


def _from_boot(text: str, reference: datetime, boot_time: datetime) -> datetime | None:
    m = _DMESG_RAW.match(text)
    if m is None:
        return None
    stamp = _utc(boot_time) + timedelta(seconds=float(m.group(1)))
    return stamp if stamp <= _utc(reference) + _ONE_DAY else None


def _line_timestamp(text: str, reference: datetime, boot_time: datetime | None = None) -> datetime | None:
    head = text[0]
    if head.isdigit():
        return parse_iso_time(text)
    if head == "{":
        m = _ZAP_TS.search(text, 0, 4096)
        if m is None:
            return None
        if m.group(1) is not None:
            return parse_iso_time(m.group(1))
        return datetime.fromtimestamp(float(m.group(2)), tz=UTC)
    if head == "[":
        m = _DMESG_CTIME.match(text)
        if m is None:
            return _from_boot(text, reference, boot_time) if boot_time is not None else None
        return _build(int(m.group(6)), MONTHS.get(m.group(1), 0), m.group(2), m.group(3), m.group(4), m.group(5))
    if head == "t" and text.startswith('time="'):
        return parse_iso_time(text[6:])
    if head in "IWEF":
        k = _KLOG_TIME.match(text)
        if k is not None:
            return _klog_stamp(k, _utc(reference))
    if head in "JFMASOND":
        j = _JOURNAL.match(text)
        if j is None:
            return None
        month = MONTHS.get(j.group(1))
        if month is None:
            return None
        ref = _utc(reference)
        message = j.group(9) or ""
        if message:
            inner = message[0]
            if inner == "t" and message.startswith('time="'):
                stamp = parse_iso_time(message[6:])
                if stamp is not None:
                    return stamp
            elif inner in "IWEF":
                k = _KLOG_TIME.match(message)
                if k is not None and int(k.group(1)) == month:
                    stamp = _klog_stamp(k, ref)
                    if stamp is not None:
                        return stamp
        return _with_year(month, int(j.group(2)), int(j.group(3)), int(j.group(4)), int(j.group(5)), 0, ref)
    return None


def _klog_stamp(k: re.Match[str], reference: datetime) -> datetime | None:
    return _with_year(
        int(k.group(1)),
        int(k.group(2)),
        int(k.group(3)),
        int(k.group(4)),
        int(k.group(5)),
        int(k.group(6)),
        reference,
    )


# --- bundle names --------------------------------------------------------------------------------


def _basename(bundle_name: str) -> str:
    return bundle_name.rstrip("/").rsplit("/", 1)[-1]


def collection_time_from_name(bundle_name: str) -> datetime | None:
    """Collection time from ``eks_i-049d185b673566680_2025-03-06_1822-UTC_0.7.8.tar.gz`` (or ``eks__…``).

    The collector names the archive with ``date --utc +%Y-%m-%d_%H%M-%Z``: minute precision, UTC.
    A path is accepted (only its last component is read). ``None`` when the name has no such stamp.
    """
    m = _BUNDLE_NAME.search(_basename(bundle_name))
    if m is None:
        return None
    try:
        return datetime(int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)), tzinfo=UTC)
    except ValueError:
        return None


def instance_id_from_name(bundle_name: str) -> str | None:
    """The instance id in a collector archive name (``None`` for hybrid ``eks__…`` names)."""
    m = _BUNDLE_NAME.search(_basename(bundle_name))
    return m.group(1) if m is not None else None
