"""One event, one finding: the copies a bundle holds of one log are merged after indexing.

eks-log-collector.sh writes several logs more than once (research/bundle.md §2.2, §2.6, §2.8, §2.13):

- the kernel ring buffer as ``kernel/dmesg.current`` (raw stamps), ``kernel/dmesg.human.current``
  (``--ctime``), ``kernel/dmesg.boot`` (AL2) and inside ``gpu/nvidia-bug-report.log`` (GPU AMIs);
- each systemd unit's journal (``journalctl -u kubelet`` as ``kubelet/kubelet.log``, containerd's
  as ``containerd/containerd-log.txt``, ...);
- on AL2, rsyslog's ``var_log/messages`` (``var_log/syslog`` on Ubuntu) repeats the kernel's and every
  unit's lines, interleaved (``host kubelet: msg`` where the journal says ``host.domain kubelet[pid]: msg``);
- each add-on container's log, once in kubelet's layout ``var_log/<ns>_<pod>_<uid>/<container>/<N>.log``
  (with rotations ``<N>.log.<stamp>[.gz]``) and once as the flat ``var_log/<pod>_<ns>_<container>-<id>.log``,
  the dereferenced ``/var/log/containers`` link, which is the current ``<N>.log``.

:data:`COPY_FAMILIES` says, as data, which files hold which log. :func:`merge_copies` then works per
rule, over the findings and the sampled timeline events the scan produced (never the lines again):

- **Streams.** A family's ``copies`` each hold one stream of it (the kernel log; kubelet's journal;
  one container's log, told apart by ``stream``). Its files are ranked by the order of the globs,
  then by path: the first with a finding *keeps* the finding (so its id, sha256 of bundle, rule and
  file, is the same whatever the archive order). ``shared`` files interleave the family's stream with
  others; ``identifiers`` are the syslog tags that mark its lines there.
- **Same event.** An event of a lower-ranked file is a copy of an event of another file of the same
  stream when their messages (``message``: without the stamp, host and tag each copy adds) begin
  alike and their times are within :data:`SAME_MOMENT`. A copy is dropped from the timeline and
  counted once, in the finding holding the original.
- **Distinct events.** An event only one copy holds is still the stream's: it counts in the keeping
  finding (for ``segments`` families, whose files are successive pieces of the stream, in its own
  file's finding). A line of a shared file is the stream's only when its syslog tag says so; a line
  of another unit stays in the shared file's own finding, reduced to the lines no other finding holds.
- **Exact or conservative.** When every line of every finding involved was sampled (and timed), the
  counts are exact. Otherwise a finding merges only as a whole: copies of a one-finding stream into
  the keeping finding, at the largest count any copy shows; a shared or segment file only when every
  sampled line of it is another finding's, and no more lines than those findings hold.

The keeping finding lists every file merged into it in ``detail["copies"]`` and its severity is
assessed once more over the merged evidence (:func:`eksdiag.engine.severity.for_lines`).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eksdiag.engine import severity
from eksdiag.engine.model import Evidence, Finding, Rule
from eksdiag.engine.parsers.logline import parse_dmesg, parse_iso_time, parse_journal_short
from eksdiag.engine.scanner import EVIDENCE_HEAD, EVIDENCE_TAIL

SAME_MOMENT = timedelta(seconds=2)
"""Two copies of one line are this close in time (``--ctime`` and syslog stamps drop fractions)."""

MESSAGE_KEY_CHARS = 512
"""Copies compare on this many leading characters of the message: evidence text is cut at a fixed
length that includes each copy's own prefix, and rsyslog truncates very long messages."""


# --- what each copy adds to a line ---------------------------------------------------------------


def journal_message(text: str) -> str:
    """The message of a journal ``short`` or syslog line, without stamp, host and ``tag[pid]:``."""
    entry = parse_journal_short(text)
    return (entry.message if entry is not None else text).strip()


def kernel_message(text: str) -> str:
    """The kernel's message without the syslog prefix (``Mar  6 18:21:40 host kernel:``) and the dmesg
    stamp (``[ 1187.402233]`` or ``[Thu Mar  6 18:21:40 2025]``)."""
    text = journal_message(text)
    stamped = parse_dmesg(text)
    return (stamped.message if stamped is not None else text).strip()


def whole_line(text: str) -> str:
    """Copies of a container log line are byte for byte the same CRI record."""
    return text.strip()


# --- which stream a file holds -------------------------------------------------------------------


def one_stream(path: str) -> str | None:
    return ""


_POD_FOLDER = re.compile(
    r"var_log/(?P<ns>[^/_]+)_(?P<pod>[^/_]+)_[0-9a-fA-F-]{8,}/(?P<container>[^/_]+)/\d+\.log(?:\.\d{8}-\d{6})?(?:\.gz)?"
)
_POD_FLAT = re.compile(r"var_log/(?P<pod>[^/_]+)_(?P<ns>[^/_]+)_(?P<container>[^/_]+)-[0-9a-f]{64}\.log")


def pod_container(path: str) -> str | None:
    """``<namespace>/<pod>/<container>`` of a container log in either layout the collector writes:
    ``var_log/<ns>_<pod>_<uid>/<container>/<N>.log[.<stamp>[.gz]]`` (``/var/log/pods``) or
    ``var_log/<pod>_<ns>_<container>-<64 hex>.log`` (``/var/log/containers``). Kubernetes names hold no
    ``_``, so the parts are unambiguous."""
    found = _POD_FOLDER.fullmatch(path) or _POD_FLAT.fullmatch(path)
    if found is None:
        return None
    return f"{found['ns']}/{found['pod']}/{found['container']}"


# --- the families (data) -------------------------------------------------------------------------

SYSLOG_FILES = ("var_log/messages*", "var_log/syslog*")
"""rsyslog's files (AL2 ``messages``, Ubuntu ``syslog``): every unit's lines and the kernel's, interleaved."""


@dataclass(frozen=True)
class CopyFamily:
    """Files holding copies of one kind of log."""

    name: str
    label: str
    """What the copies are copies of, for the severity reason (``the kernel log``)."""
    copies: tuple[str, ...]
    """Globs of the files that each hold one stream of this family, most preferred first."""
    shared: tuple[str, ...] = ()
    """Globs of the files that interleave this family's lines with others'."""
    identifiers: tuple[str, ...] = ()
    """Syslog tags of this family's lines in a shared file."""
    mentions: tuple[str, ...] = ()
    """What systemd's own lines about this unit name (``kubelet.service``, its Description):
    ``journalctl -u`` includes them, rsyslog tags them ``systemd:``."""
    stream: Callable[[str], str | None] = one_stream
    """Which stream of the family a copy holds (one container of many); None: not a copy after all."""
    message: Callable[[str], str] = journal_message
    """The line without what each copy adds."""
    segments: bool = False
    """The copies are successive pieces of the stream (restarts, rotations), each keeping its own
    finding; only lines found in two files merge."""


SERVICE_MANAGER = "systemd"
"""The syslog tag of systemd's own lines (``systemd[1]:`` in the journal, ``systemd:`` in rsyslog's file)."""


def _unit(name: str, journal: str, identifier: str, description: str) -> CopyFamily:
    """A systemd unit's journal (``journalctl -u``) and rsyslog's copy of its lines; ``identifier`` is
    the tag of its own output (the executable's name), ``description`` its unit Description."""
    mentions = (f"{name}.service", description)
    return CopyFamily(name, f"{name}'s journal", (journal,), SYSLOG_FILES, (identifier,), mentions)


COPY_FAMILIES: tuple[CopyFamily, ...] = (
    CopyFamily(
        "kernel",
        "the kernel log",
        (
            "kernel/dmesg.human.current",
            "kernel/dmesg.current",
            "kernel/dmesg.boot",
            "gpu/nvidia-bug-report.log*",
        ),
        SYSLOG_FILES,
        ("kernel",),
        message=kernel_message,
    ),
    _unit("kubelet", "kubelet/kubelet.log*", "kubelet", "Kubernetes Kubelet"),
    _unit("containerd", "containerd/containerd-log.txt*", "containerd", "containerd container runtime"),
    _unit(
        "soci-snapshotter",
        "containerd/soci-snapshotter/soci-snapshotter-log.txt*",
        "soci-snapshotter-grpc",
        "SOCI Snapshotter GRPC daemon",
    ),
    _unit(
        "sandbox-image",
        "sandbox-image/sandbox-image-log.txt*",
        "pull-sandbox-image.sh",
        "pull sandbox image defined in containerd config.toml",
    ),
    _unit("docker", "docker/docker.log*", "dockerd", "Docker Application Container Engine"),
    CopyFamily(
        "container",
        "the container's log",
        ("var_log/*/*/*.log*", "var_log/*.log"),  # kubelet's layout first: it keeps rotations and restarts
        stream=pod_container,
        message=whole_line,
        segments=True,
    ),
)


def _tagged(text: str, family: CopyFamily) -> bool:
    """Whether a line of a shared file is one of ``family``'s, by its syslog tag (``kubelet:``), or a
    line of systemd's about the unit."""
    entry = parse_journal_short(text)
    if entry is None:
        return False
    if entry.unit in family.identifiers:
        return True
    return entry.unit == SERVICE_MANAGER and any(m in entry.message for m in family.mentions)


def _rank(path: str, globs: tuple[str, ...]) -> int | None:
    return next((i for i, glob in enumerate(globs) if fnmatch.fnmatchcase(path, glob)), None)


def _place(path: str, families: tuple[CopyFamily, ...]) -> tuple[int, str, int] | None:
    """(family index, stream, rank) of a file that is a copy of a stream; None otherwise."""
    for number, family in enumerate(families):
        rank = _rank(path, family.copies)
        if rank is None:
            continue
        stream = family.stream(path)
        if stream is not None:
            return number, stream, rank
    return None


def _sharing(path: str, families: tuple[CopyFamily, ...]) -> tuple[int, ...]:
    """The families whose lines ``path`` interleaves."""
    return tuple(n for n, family in enumerate(families) if _rank(path, family.shared) is not None)


# --- merging -------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Event:
    position: int
    """Index in the bundle's event list."""
    finding: Finding
    line: int
    time: datetime
    text: str
    owner: Finding | None = None
    """The finding that counts this event; None while unknown."""
    original: _Event | None = None
    """The event this one is a copy of."""


@dataclass
class _Stream:
    family: CopyFamily
    members: list[Finding]
    """Its files' findings, the keeping one first."""
    pool: dict[str, list[_Event]] = field(default_factory=dict)

    @property
    def keeper(self) -> Finding:
        return self.members[0]

    def match(self, key: str, event: _Event) -> _Event | None:
        """The nearest event of another file with the same message key within SAME_MOMENT."""
        best: _Event | None = None
        for candidate in self.pool.get(key, ()):
            if candidate.finding is event.finding:
                continue
            gap = abs(candidate.time - event.time)
            if gap <= SAME_MOMENT and (best is None or gap < abs(best.time - event.time)):
                best = candidate
        return best

    def accept(self, key: str, event: _Event) -> None:
        self.pool.setdefault(key, []).append(event)


def merge_copies(
    findings: MutableMapping[tuple[str, str], Finding],
    events: list[dict[str, Any]],
    rules: Mapping[str, Rule],
    collected_at: datetime,
    families: tuple[CopyFamily, ...] = COPY_FAMILIES,
) -> None:
    """Merge, in place, the findings and timeline events that are copies of one event (module doc)."""
    by_rule: dict[str, list[Finding]] = {}
    for (rule_id, path), finding in findings.items():
        if rule_id in rules and (_place(path, families) or _sharing(path, families)):
            by_rule.setdefault(rule_id, []).append(finding)
    positions: dict[tuple[str, str], list[int]] = {}
    for position, event in enumerate(events):
        positions.setdefault((event["rule"], event["file"]), []).append(position)
    dropped: set[int] = set()
    for rule_id in sorted(by_rule):
        if len(by_rule[rule_id]) < 2:
            continue
        merge = _RuleMerge(rules[rule_id], by_rule[rule_id], families, collected_at)
        merge.read_events(events, positions)
        for finding in merge.run():
            del findings[(rule_id, finding.file)]
        for sampled in merge.events:
            if sampled.owner is None:
                dropped.add(sampled.position)
            else:
                events[sampled.position]["severity"] = sampled.owner.severity.value
    if dropped:
        events[:] = [e for i, e in enumerate(events) if i not in dropped]


class _RuleMerge:
    """The copies of one rule's findings."""

    def __init__(
        self, rule: Rule, members: list[Finding], families: tuple[CopyFamily, ...], collected_at: datetime
    ) -> None:
        self.rule = rule
        self.families = families
        self.collected_at = collected_at
        self.streams: dict[tuple[int, str], _Stream] = {}
        self.shared: list[tuple[Finding, tuple[int, ...]]] = []
        placed: dict[tuple[int, str], list[tuple[int, str, Finding]]] = {}
        for finding in members:
            place = _place(finding.file, families)
            if place is not None:
                number, stream, rank = place
                placed.setdefault((number, stream), []).append((rank, finding.file, finding))
            else:
                self.shared.append((finding, _sharing(finding.file, families)))
        for key in sorted(placed):
            ranked = [f for _, _, f in sorted(placed[key], key=lambda m: (m[0], m[1]))]
            self.streams[key] = _Stream(families[key[0]], ranked)
        self.shared.sort(key=lambda s: s[0].file)
        self.events: list[_Event] = []
        self.by_finding: dict[int, list[_Event]] = {}

    def read_events(self, events: list[dict[str, Any]], positions: Mapping[tuple[str, str], list[int]]) -> None:
        for finding in self._involved():
            mine: list[_Event] = []
            for position in positions.get((self.rule.id, finding.file), ()):
                when = _parse(events[position].get("time"))
                if when is not None:
                    text = str(events[position].get("text", ""))
                    mine.append(_Event(position, finding, int(events[position]["line"]), when, text))
            mine.sort(key=lambda e: e.line)
            self.by_finding[id(finding)] = mine
            self.events.extend(mine)

    def _involved(self) -> Iterable[Finding]:
        for stream in self.streams.values():
            yield from stream.members
        for finding, _ in self.shared:
            yield finding

    def _events_of(self, finding: Finding) -> list[_Event]:
        return self.by_finding.get(id(finding), [])

    def run(self) -> list[Finding]:
        """Attribute every sampled event, then merge; returns the findings that are now copies only."""
        for stream in self.streams.values():
            self._attribute_stream(stream)
        for finding, sharing in self.shared:
            self._attribute_shared(finding, sharing)
        exact = all(len(self._events_of(f)) == f.count for f in self._involved())
        return self._merge_exact() if exact else self._merge_conservatively()

    # attribution ----------------------------------------------------------------------------------

    def _attribute_stream(self, stream: _Stream) -> None:
        for finding in stream.members:
            for event in self._events_of(finding):
                key = stream.family.message(event.text)[:MESSAGE_KEY_CHARS]
                original = stream.match(key, event)
                if original is not None:
                    event.original, event.owner = original, None
                    continue
                event.owner = finding if stream.family.segments else stream.keeper
                stream.accept(key, event)

    def _attribute_shared(self, finding: Finding, sharing: tuple[int, ...]) -> None:
        candidates = [(k, s) for k, s in self.streams.items() if k[0] in sharing]
        for event in self._events_of(finding):
            keys = {number: self.families[number].message(event.text)[:MESSAGE_KEY_CHARS] for number in sharing}
            original = next(
                (o for (number, _), s in candidates if (o := s.match(keys[number], event)) is not None), None
            )
            if original is not None:
                event.original, event.owner = original, None
                continue
            event.owner = finding
            for (number, _), stream in candidates:
                if not stream.family.segments and _tagged(event.text, stream.family):
                    event.owner = stream.keeper
                    stream.accept(keys[number], event)
                    break

    # merging --------------------------------------------------------------------------------------

    def _merge_exact(self) -> list[Finding]:
        """Every line was sampled: each finding counts exactly the events it owns."""
        owned: dict[int, list[_Event]] = {}
        received: dict[int, list[_Event]] = {}
        given: dict[int, list[_Event]] = {}
        for event in self.events:
            holder = _holder(event)
            if holder is None:
                continue
            if event.owner is not None:
                owned.setdefault(id(event.owner), []).append(event)
            if event.finding is not holder:
                received.setdefault(id(holder), []).append(event)
                given.setdefault(id(event.finding), []).append(event)
        gone: list[Finding] = []
        for finding in self._involved():
            mine = owned.get(id(finding), [])
            if not mine:
                gone.append(finding)
                continue
            own = [e for e in mine if e.finding is finding]
            from_others = received.get(id(finding), [])
            to_others = given.get(id(finding), [])
            if not from_others and not to_others:
                continue
            times = [e.time for e in mine]
            self._reassess(finding, len(mine), min(times), max(times))
            if from_others:
                copies = [*([_entry(finding.file, own)] if own else []), *_entries(from_others)]
                finding.detail = {**finding.detail, "copies": copies}
                finding.severity_reason += (
                    f" Each event counted once across {len(copies)} copies of {self._label(finding)}"
                    f" ({', '.join(c['file'] for c in copies)})."
                )
            if to_others:
                self._keep_evidence_of(finding, own)
                holders = sorted({h.file for e in to_others if (h := _holder(e)) is not None})
                finding.detail = {**finding.detail, "counted_in": holders}
                finding.severity_reason += (
                    f" {len(to_others)} more matching lines here are events of {', '.join(holders)}, counted there."
                )
        return gone

    def _merge_conservatively(self) -> list[Finding]:
        """Some lines were not sampled: merge whole findings, only where the samples leave no doubt."""
        fold = _Fold()
        gone: list[Finding] = []
        for stream in self.streams.values():
            for finding in stream.members[1:]:
                if not stream.family.segments:  # every copy holds the one stream: the largest is the least count
                    fold.absorb(stream.keeper, finding, largest=True)
                    gone.append(finding)
                elif self._fold(finding, stream.members, fold, within_span=True):
                    gone.append(finding)
        for finding, _ in self.shared:
            if self._fold(finding, self._whole_stream_keepers(), fold, within_span=False):
                gone.append(finding)
        for finding in self._involved():
            absorbed = fold.merged.get(id(finding))
            if not absorbed or finding in gone:
                continue
            whole = [finding, *absorbed]
            copies = [_whole_entry(f) for f in whole]
            self._reassess(
                finding,
                fold.count(finding),
                _bound(min, (f.first_seen for f in whole)),
                _bound(max, (f.last_seen for f in whole)),
            )
            finding.detail = {**finding.detail, "copies": copies}
            counted = "the largest any copy shows" if id(finding) in fold.largest else "this file's own"
            finding.severity_reason += (
                f" Copies of {self._label(finding)} merged ({', '.join(c['file'] for c in copies)}); not every line"
                f" was sampled, so the count is {counted}."
            )
        return gone

    def _fold(self, finding: Finding, into: list[Finding], fold: _Fold, *, within_span: bool) -> bool:
        """Merge ``finding`` whole when each of its sampled lines is an event of one of ``into`` (or, for
        ``within_span``, falls within the time span of one: an unsampled line of that file) and it has no
        more lines than those findings count."""
        holders: list[Finding] = []
        for event in self._events_of(finding):
            holder = _holder(event)
            if (holder is finding or holder not in into) and within_span:
                holder = _spanning(event, [f for f in into if f is not finding])
            if holder is None or holder is finding or holder not in into:
                return False
            if holder not in holders:
                holders.append(holder)
        if not holders:
            return False
        if len(holders) == 1 and holders[0] in self._whole_stream_keepers():
            fold.absorb(holders[0], finding, largest=True)  # its unsampled lines are that stream's too
            return True
        if finding.count > sum(fold.count(h) for h in holders):
            return False
        for holder in holders:
            fold.absorb(holder, finding, largest=False)
        return True

    def _whole_stream_keepers(self) -> list[Finding]:
        return [s.keeper for s in self.streams.values() if not s.family.segments]

    def _keep_evidence_of(self, finding: Finding, own: list[_Event]) -> None:
        """The finding keeps only the lines no other finding holds: its evidence shows those."""
        shown = own if len(own) <= EVIDENCE_HEAD + EVIDENCE_TAIL else own[:EVIDENCE_HEAD] + own[-EVIDENCE_TAIL:]
        finding.evidence = [Evidence(e.line, e.text) for e in shown]
        finding.line = own[0].line

    def _reassess(self, finding: Finding, count: int, first: datetime | None, last: datetime | None) -> None:
        assessed = severity.for_lines(self.rule, count, first, last, self.collected_at)
        finding.count = count
        finding.first_seen = _iso(first)
        finding.last_seen = _iso(last)
        finding.severity = assessed.severity
        finding.severity_reason = assessed.reason

    def _label(self, finding: Finding) -> str:
        for stream in self.streams.values():
            if finding in stream.members:
                return stream.family.label
        return "its lines"


def _holder(event: _Event) -> Finding | None:
    """The finding that counts ``event``: its owner, or its original's when it is a copy."""
    if event.owner is not None:
        return event.owner
    return event.original.owner if event.original is not None else None


@dataclass
class _Fold:
    """Whole findings merged into others when not every line was sampled."""

    merged: dict[int, list[Finding]] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    largest: set[int] = field(default_factory=set)
    """Keepers whose count became the largest of a copy's."""

    def count(self, finding: Finding) -> int:
        return self.counts.get(id(finding), finding.count)

    def absorb(self, keeper: Finding, finding: Finding, *, largest: bool) -> None:
        count = self.count(keeper)
        if largest and finding.count > count:
            count = finding.count
            self.largest.add(id(keeper))
        self.counts[id(keeper)] = count
        self.merged.setdefault(id(keeper), []).append(finding)


def _spanning(event: _Event, findings: list[Finding]) -> Finding | None:
    """The finding whose first and last lines enclose ``event``'s time."""
    for finding in findings:
        first, last = _parse(finding.first_seen), _parse(finding.last_seen)
        if first is not None and last is not None and first - SAME_MOMENT <= event.time <= last + SAME_MOMENT:
            return finding
    return None


def _entries(events: list[_Event]) -> list[dict[str, Any]]:
    by_file: dict[str, list[_Event]] = {}
    for event in events:
        by_file.setdefault(event.finding.file, []).append(event)
    return [_entry(path, sorted(by_file[path], key=lambda e: e.line)) for path in sorted(by_file)]


def _entry(path: str, events: list[_Event]) -> dict[str, Any]:
    times = [e.time for e in events]
    return {
        "file": path,
        "line": events[0].line,
        "count": len(events),
        "first_seen": _iso(min(times)),
        "last_seen": _iso(max(times)),
    }


def _whole_entry(finding: Finding) -> dict[str, Any]:
    return {
        "file": finding.file,
        "line": finding.line,
        "count": finding.count,
        "first_seen": finding.first_seen,
        "last_seen": finding.last_seen,
    }


def _bound(pick: Callable[[list[datetime]], datetime], stamps: Iterable[str | None]) -> datetime | None:
    times = [t for t in (_parse(s) for s in stamps) if t is not None]
    return pick(times) if times else None


def _parse(stamp: Any) -> datetime | None:
    return parse_iso_time(stamp) if isinstance(stamp, str) else None


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")
