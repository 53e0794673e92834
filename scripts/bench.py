"""Benchmark the indexer against ripgrep and grep, in the same run, at two sizes; and `read` on a 2 GiB log.

Generates bundles of realistic journal mix (kubelet klog, containerd logrus, ipamd zap JSON,
kernel dmesg, CRI pod logs) with incident lines sprinkled through them, packed exactly like
eks-log-collector. Measures, per size:
- the indexer: uncompressed MB/s and peak RSS (a fresh process per run), on its default matcher
  (Hyperscan when installed) and once on the RE2 fallback (EKSDIAG_MATCHER=re2); both must give the
  same findings and index every line the generator wrote;
- ripgrep: `igzip -dc BUNDLE | rg -c -f PATTERNS`, PATTERNS being the catalogue's line rules, one per
  line (Rust regex syntax: only escapes it refuses are dropped);
- grep: `gzip -dc BUNDLE | grep -c -E PATTERN`, PATTERN being the same rules as one POSIX ERE.
Then indexes a bundle holding one 2 GiB log into a local store (extraction and line indexes) and
times `findings___read` at its first, middle and last line, with the line index and without it.
The last line is exactly: bench: indexer <X> MB/s, baseline <Y> MB/s, ratio <X/Y>, peak_rss_mib <M>,
ratio_vs_ripgrep <X/R>
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterable
from pathlib import Path

import isal.igzip as igzip

ROOT = Path(__file__).resolve().parent.parent
#: the checkout's own handlers, here and in every indexing process (not an installed eksdiag elsewhere)
HANDLERS = str(ROOT / "handlers")
sys.path[:0] = [HANDLERS, str(ROOT)]  # eksdiag, and the seed fixtures under tests/

from tests.fixtures import seed  # noqa: E402

MIB = 1024**2
HOST = seed.HOST

PROBE_FAILED = (  # a finding since the catalogue has kubelet.probe.readiness-failures
    'I0306 {t}.611207    3456 prober.go:107] "Probe failed" probeType="Readiness" pod="default/web-{n}" '
    'podUID="{r}-3f1c-{n}" containerName="app" probeResult="failure" output="HTTP probe failed with statuscode: 503"'
)
KUBELET = [
    'I0306 {t}.511207    3456 kubelet.go:2337] "SyncLoop UPDATE" source="api" pods=["default/web-{n}-{r}"]',
    'I0306 {t}.611207    3456 kubelet.go:2453] "SyncLoop (PLEG): event for pod" pod="default/web-{n}" '
    'event={{"ID":"{r}-3f1c-{n}","Type":"ContainerStarted","Data":"{r}{r}"}}',
    'I0306 {t}.711207    3456 kuberuntime_manager.go:1015] "Creating container in pod" containerType="container" '
    'container="&Container{{Name:app,Image:123456789012.dkr.ecr.us-west-2.amazonaws.com/app:v{n},}}"',
    'I0306 {t}.911207    3456 reconciler_common.go:258] "operationExecutor.VerifyControllerAttachedVolume started '
    'for volume \\"kube-api-access-{n}\\"" pod="default/web-{n}"',
]
INCIDENT = [  # one line in ~1,000: incident evidence and benign noise, as on a real node
    'E0306 {t}.811207    3456 cadvisor_stats_provider.go:442] "Partial failure issuing cadvisor.ContainerInfoV2" '
    'err="partial failures: [\\"/kubepods.slice/kubepods-burstable.slice/pod{n}\\": RecentStats: unable to find data"]',
    'E0306 {t}.111207    3456 kubelet_node_status.go:549] "Error updating node status, will retry" err="Get '
    '\\"https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com/api/v1/nodes/{h}\\": dial tcp 192.168.101.7:443: '
    'i/o timeout"',
    'E0306 {t}.211207    3456 pod_workers.go:1301] "Error syncing pod, skipping" err="failed to \\"StartContainer\\" '
    'for \\"app\\" with CrashLoopBackOff" pod="default/web-{n}"',
    PROBE_FAILED,
]
#: The same kubelet journal where one line in four is a finding (a pod failing its readiness probe).
KUBELET_DENSE = [KUBELET[0], PROBE_FAILED, *KUBELET[2:]]
CONTAINERD = [
    'time="2025-03-06T{t}.871234567Z" level=info msg="StartContainer for \\"{n}4be2\\" returns successfully" '
    "container_id={r}{r}",
    'time="2025-03-06T{t}.971234567Z" level=info msg="ImageCreate event name:\\"sha256:{n}ab\\" '
    'labels:{{key:\\"io.cri-containerd.image\\" value:\\"managed\\"}}"',
    'time="2025-03-06T{t}.071234567Z" level=info msg="shim disconnected" id={r}{r}{r}{r} namespace=k8s.io',
]
IPAMD = [
    '{{"level":"debug","ts":"2025-03-06T{t}.902Z","caller":"ipamd/ipamd.go:1650","msg":"Reconcile existing ENI '
    'eni-0a1b2c3d4e5f{n:05d} IP pool"}}',
    '{{"level":"debug","ts":"2025-03-06T{t}.513Z","caller":"datastore/data_store.go:786","msg":"AssignPodIPv4Address: '
    'IP address pool stats: total 28, assigned {n}"}}',
    '{{"level":"info","ts":"2025-03-06T{t}.512Z","caller":"ipamd/rpc_handler.go:77","msg":"Received AddNetwork for '
    'NS /var/run/netns/cni-1a2b3c4d-{n}, Sandbox {r}{r}{r}{r}, ifname eth0"}}',
    '{{"level":"info","ts":"2025-03-06T{t}.515Z","caller":"ipamd/rpc_handler.go:313","msg":"Send AddNetworkReply: '
    'Success: true IPAddr: 192.168.52.{n}"}}',
]
DMESG = [
    "[{s}.402233] IPv6: ADDRCONF(NETDEV_CHANGE): eni8f1d0c{n:05d}: link becomes ready",
    "[{s}.512345] eni{r}: renamed from tmp{n}",
    "[{s}.612345] nf_conntrack: nf_conntrack: table full, dropping packet",
]


_IDS = [
    random.Random(seed_)  # noqa: S311 - reproducible filler, not secrets
    .getrandbits(64)
    .to_bytes(8, "big")
    .hex()
    for seed_ in range(8192)
]


def _id(i: int) -> str:
    """Container and pod ids: random-looking, so the bundle compresses like real logs (~10x)."""
    return _IDS[(i * 7919) % len(_IDS)]


def _stamp(i: int) -> str:
    return f"{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"


def journal_block(unit: str, pid: int, templates: list[str], start: int, count: int) -> bytes:
    out = io.StringIO()
    for i in range(count):
        t = _stamp(start + i)
        tpl = templates[i % len(templates)]
        if unit == "kubelet" and i % 997 == 0:
            tpl = INCIDENT[(i // 997) % len(INCIDENT)]
        out.write(f"Mar 06 {t} {HOST} {unit}[{pid}]: {tpl.format(t=t, n=i, h=HOST, r=_id(i))}\n")
    return out.getvalue().encode()


def plain_block(templates: list[str], start: int, count: int, *, dmesg: bool = False) -> bytes:
    out = io.StringIO()
    for i in range(count):
        tpl = templates[i % len(templates)]
        if dmesg and tpl.startswith("[{s}.612345]") and i % 997:
            tpl = templates[0]
        out.write(tpl.format(t=_stamp(start + i), n=i, s=f"{start + i:>5}", r=_id(i)) + "\n")
    return out.getvalue().encode()


MIX = (  # path, share of the bundle, block maker
    ("kubelet/kubelet.log", 0.40, lambda s: journal_block("kubelet", 3456, KUBELET, s, 8000)),
    ("containerd/containerd-log.txt", 0.20, lambda s: journal_block("containerd", 2890, CONTAINERD, s, 8000)),
    ("var_log/aws-routed-eni/ipamd.log", 0.25, lambda s: plain_block(IPAMD, s, 8000)),
    ("kernel/dmesg.current", 0.05, lambda s: plain_block(DMESG, s, 8000, dmesg=True)),
    (
        "var_log/kube-system_coredns-6b9575c64c-4x2lm_1f2e/coredns/0.log",
        0.10,
        lambda s: plain_block(
            [
                '2025-03-06T{t}.912345678Z stdout F [INFO] 192.168.52.201:{n} - 5 "A IN '
                'web-{r}.default.svc.cluster.local. udp 47 false 512" NOERROR qr,aa,rd 94 0.000171s'
            ],
            s,
            8000,
        ),
    ),
)


class _Repeat(io.RawIOBase):
    """A stream of ``size`` bytes made of freshly generated blocks (never the whole file in memory).

    ``lines`` counts the lines it produced (a cut last line counts too), to check that the indexer
    numbered every one of them.
    """

    def __init__(self, make, size: int) -> None:
        self._make, self._left, self._start, self._buf = make, size, 0, b""
        self.lines = 0
        self._open = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._left <= 0:
            return 0
        if not self._buf:
            self._buf = self._make(self._start)
            self._start += 8000
        n = min(len(buffer), len(self._buf), self._left)
        piece = self._buf[:n]
        buffer[:n] = piece
        self.lines += piece.count(b"\n")
        self._open = not piece.endswith(b"\n")
        self._buf = self._buf[n:]
        self._left -= n
        if self._left <= 0 and self._open:
            self.lines += 1
        return n


GENERATOR_KEY = "(generator)"
#: Bumped when the generated content changes, so bundles of an older generator are made again.
GENERATOR_VERSION = 2


def _text_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def generate(path: Path, mix: tuple[tuple[str, float, object], ...], total_bytes: int, *, seed_files: bool) -> None:
    """Write the bundle and, beside it, ``<name>.lines.json``: the line count of every member."""
    lines: dict[str, int] = {}
    files = seed.node_files(faulty=True) if seed_files else {}
    partial = path.with_name(path.name + ".partial")
    with igzip.open(partial, "wb", compresslevel=2) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        for name in sorted(files):
            if any(name == m[0] for m in mix):
                continue
            data = files[name].encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mtime = len(data), seed.COLLECTED_EPOCH
            tar.addfile(info, io.BytesIO(data))
            lines[name] = _text_lines(data)
        for name, share, make in mix:
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mtime = int(total_bytes * share), seed.COLLECTED_EPOCH
            stream = _Repeat(make, info.size)
            tar.addfile(info, io.BufferedReader(stream, MIB))
            lines[name] = stream.lines
    partial.replace(path)
    _lines_file(path).write_text(json.dumps({**lines, GENERATOR_KEY: GENERATOR_VERSION}, sort_keys=True))


def _lines_file(bundle: Path) -> Path:
    return bundle.with_name(bundle.name.replace(".tar.gz", ".lines.json"))


def ensure_bundle(path: Path, mix: tuple[tuple[str, float, object], ...], size_mib: int, *, seed_files: bool) -> int:
    """Generate the bundle unless it is there already (from this version of the generator); return the
    number of lines it holds."""
    known = json.loads(_lines_file(path).read_text()) if path.exists() and _lines_file(path).exists() else {}
    if known.pop(GENERATOR_KEY, None) != GENERATOR_VERSION:
        start = time.perf_counter()
        generate(path, mix, size_mib * MIB, seed_files=seed_files)
        print(
            f"generated {path.name}: {path.stat().st_size / MIB:.0f} MiB compressed "
            f"in {time.perf_counter() - start:.0f}s",
            flush=True,
        )
    lines = json.loads(_lines_file(path).read_text())
    lines.pop(GENERATOR_KEY, None)
    return sum(lines.values())


def _rules() -> list[str]:
    from eksdiag.engine.rules import CATALOGUE

    return list(dict.fromkeys(rule.pattern for rule in CATALOGUE if rule.pattern is not None))


def ere_pattern() -> str:
    """The catalogue's line rules as one POSIX ERE: the same matching work for grep."""
    parts = []
    for pattern in _rules():
        pattern = pattern.replace("(?:", "(").replace(r"\d", "[0-9]").replace(r"\S", "[^ ]")
        pattern = pattern.replace(r"[^\n]", ".").replace(r"[0-9a-fA-F.:\[\]]", "[][0-9a-fA-F.:]")
        pattern = pattern.replace('\\"', '"')
        parts.append(f"({pattern})")
    return "|".join(parts)


#: What Rust's regex (ripgrep 13) accepts after a backslash besides letters and digits.
RUST_ESCAPABLE = set("\\.+*?()|[]{}^$#&-~")


def rust_pattern(pattern: str) -> str:
    """An RE2 pattern in the syntax ripgrep accepts: the same regex, minus escapes Rust refuses (``\"``)."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(nxt if not nxt.isalnum() and nxt not in RUST_ESCAPABLE else c + nxt)
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


INDEX_ONE = (
    "import json, resource, sys, time\n"
    "from eksdiag.engine.indexer import index_bundle\n"
    "redact = sys.argv[2] == 'redact'\n"
    "t = time.perf_counter(); idx = index_bundle(sys.argv[1], redact=redact); dt = time.perf_counter() - t\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(json.dumps({'seconds': dt, 'bytes': idx.bundle['bytes_uncompressed'], 'complete': idx.bundle['complete'],"
    " 'lines': sum(f['lines'] for f in idx.files),"
    " 'findings': sorted((f.id, f.count, f.line) for f in idx.findings),"
    " 'rss_kib': usage.ru_maxrss, 'cpu': usage.ru_utime + usage.ru_stime}))\n"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_indexer(bundle: Path, engine: str | None = None, *, redact: bool = True) -> dict:
    """One fresh-process indexing run (its CPU seconds, all threads, included); ``redact=False`` measures
    the same run without redaction, ``engine`` forces a matcher."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (HANDLERS, env.get("PYTHONPATH"))))
    if engine:
        env["EKSDIAG_MATCHER"] = engine
    argv = [sys.executable, "-c", INDEX_ONE, str(bundle), "redact" if redact else "plain"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def _timed_shell(cmd: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (every process of the pipeline) and output of a shell pipeline."""
    cpu = _children_cpu()
    start = time.perf_counter()
    out = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd + " || [ $? -eq 1 ]"], check=True, capture_output=True, text=True
    )
    return time.perf_counter() - start, _children_cpu() - cpu, out.stdout.strip()


def measure_grep(bundle: Path, pattern: str) -> tuple[float, float, str]:
    return _timed_shell(f"gzip -dc {shlex.quote(str(bundle))} | LC_ALL=C grep -c -E {shlex.quote(pattern)}")


def measure_ripgrep(bundle: Path, patterns_file: Path) -> tuple[float, float, str]:
    return _timed_shell(f"igzip -dc {shlex.quote(str(bundle))} | rg -c -f {shlex.quote(str(patterns_file))}")


READ_LOG = "kubelet/kubelet.log"
READ_MIX = ((READ_LOG, 1.0, lambda s: journal_block("kubelet", 3456, KUBELET, s, 8000)),)
READ_BUNDLE = "b-20250306190000-0b0e2c5a"


def bench_read(workdir: Path, size_mib: int, repeats: int) -> dict[str, list[float]]:
    """Index a bundle holding one ``size_mib`` log into a local store, then time ``read`` at its first,
    middle and last line (median of ``repeats`` calls), with the line index and without (one call)."""
    from eksdiag.adapters.context import local_context
    from eksdiag.adapters.ingest import ingest
    from eksdiag.tools.dispatch import call_tool
    from eksdiag.tools.registry import tools

    bundle = workdir / f"read-{size_mib}mib.tar.gz"
    ensure_bundle(bundle, READ_MIX, size_mib, seed_files=False)
    root = workdir / "store"
    shutil.rmtree(root, ignore_errors=True)
    ctx = local_context(root)
    start = time.perf_counter()
    ingest(ctx, bundle, bundle_id=READ_BUNDLE, instance_id="i-0123456789abcdef0", name=bundle.name)
    seconds = time.perf_counter() - start
    index = ctx.store.load_index(READ_BUNDLE) or {}
    total = next(f["lines"] for f in index.get("files", []) if f["path"] == READ_LOG)
    size = next(f["size"] for f in index.get("files", []) if f["path"] == READ_LOG)
    print(
        f"indexed and extracted a {size / MIB:,.0f} MiB log ({total:,} lines) into a local store, line index "
        f"included: {seconds:.1f}s, {size / seconds / 1e6:.0f} MB/s",
        flush=True,
    )
    spec = tools()["findings___read"]
    where = {"start": 1, "middle": total // 2, "end": total}

    def read_ms(line: int) -> float:
        args = {"bundleId": READ_BUNDLE, "path": READ_LOG, "startLine": line, "lineCount": 20}
        t = time.perf_counter()
        result = call_tool(spec, args, ctx)
        elapsed = (time.perf_counter() - t) * 1000
        if result.get("startLine") != line or "error" in result:
            raise SystemExit(f"read at line {line} went wrong: {str(result)[:300]}")
        return elapsed

    first = read_ms(where["middle"])  # the first read loads the bundle's index and the file's line index
    print(f"first read of the log (loads the bundle index and the line index): {first:.1f} ms", flush=True)
    indexed = {k: statistics.median(read_ms(line) for _ in range(repeats)) for k, line in where.items()}
    lines_dir = root / ".eksdiag" / "bundles" / READ_BUNDLE / "lines"
    lines_dir.rename(lines_dir.with_name("lines.off"))
    ctx = local_context(root)  # a new server: nothing remembered of the line index
    try:
        read_ms(1)  # loads the bundle index, as the first read above did
        plain = {k: read_ms(line) for k, line in where.items()}
    finally:
        lines_dir.with_name("lines.off").rename(lines_dir)
    return {k: [indexed[k], plain[k]] for k in where}


DENSE_MIX = (("kubelet/kubelet.log", 1.0, lambda s: journal_block("kubelet", 3456, KUBELET_DENSE, s, 8000)),)


def bench_dense(workdir: Path, size_mib: int, runs: int, patterns_file: Path) -> None:
    """A kubelet log where one line in four is a finding: what each matching line costs."""
    bundle = workdir / f"dense-{size_mib}mib.tar.gz"
    expected_lines = ensure_bundle(bundle, DENSE_MIX, size_mib, seed_files=False)
    idx_runs, rg_runs = [], []
    for _ in range(runs):
        idx_runs.append(measure_indexer(bundle))
        rg_runs.append(measure_ripgrep(bundle, patterns_file))
    best = min(idx_runs, key=lambda r: r["seconds"])
    if best["lines"] != expected_lines:
        raise SystemExit(f"bench: indexed {best['lines']} lines, the dense bundle holds {expected_lines}")
    rg_seconds, rg_cpu, rg_count = min(rg_runs)
    indexer_mbs = best["bytes"] / best["seconds"] / 1e6
    ripgrep_mbs = best["bytes"] / rg_seconds / 1e6
    print(
        f"dense: a {best['bytes'] / MIB:,.0f} MiB kubelet log, {best['lines']:,} lines, "
        f"{sum(count for _, count, _ in best['findings']):,} of them findings: indexer {indexer_mbs:.0f} MB/s, "
        f"ripgrep {ripgrep_mbs:.0f} MB/s ({rg_count} matching lines), "
        f"ratio_vs_ripgrep {indexer_mbs / ripgrep_mbs:.2f}; CPU seconds: indexer {best['cpu']:.2f}, "
        f"ripgrep pipeline {rg_cpu:.2f}",
        flush=True,
    )


def _seconds(values: Iterable[float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mib", default=os.environ.get("BENCH_SIZES_MIB", "1024,2048"))
    parser.add_argument("--read-mib", type=int, default=int(os.environ.get("BENCH_READ_MIB", "2048")))
    parser.add_argument("--dense-mib", type=int, default=int(os.environ.get("BENCH_DENSE_MIB", "512")))
    parser.add_argument("--workdir", default=str(ROOT / ".bench"))
    parser.add_argument("--runs", type=int, default=3, help="best of N runs for each side")
    args = parser.parse_args()
    missing = [tool for tool in ("igzip", "rg", "gzip", "grep") if shutil.which(tool) is None]
    if missing:
        print(f"bench: missing {', '.join(missing)} (Debian packages isal, ripgrep)", file=sys.stderr)
        return 2
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    pattern = ere_pattern()
    rules = _rules()
    patterns_file = workdir / "patterns.rg"
    patterns_file.write_text("".join(rust_pattern(p) + "\n" for p in rules))
    from eksdiag.engine.multimatch import PatternSet, default_engine

    engine = default_engine()
    matcher = PatternSet(rules, engine)
    print(
        f"rules: {len(rules)} line patterns; matcher {engine} ({len(matcher.hyperscan_ids)} in the automaton, "
        f"{len(matcher.residual)} searched with RE2); grep pattern: {pattern.count('|') + 1} alternatives; "
        f"load before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    rows = []
    for size_mib in (int(s) for s in args.sizes_mib.split(",")):
        bundle = workdir / f"bench-{size_mib}mib.tar.gz"
        expected_lines = ensure_bundle(bundle, MIX, size_mib, seed_files=True)
        idx_runs, plain_runs, rg_runs, grep_runs = [], [], [], []
        for _ in range(args.runs):  # interleaved, so a quiet or busy moment of the machine favours no side
            idx_runs.append(measure_indexer(bundle))
            rg_runs.append(measure_ripgrep(bundle, patterns_file))
            plain_runs.append(measure_indexer(bundle, redact=False))
            grep_runs.append(measure_grep(bundle, pattern))
        fallback = measure_indexer(bundle, "re2")
        best = min(idx_runs, key=lambda r: r["seconds"])
        if any(r["findings"] != best["findings"] for r in [*idx_runs, fallback]):
            raise SystemExit("bench: the RE2 fallback and the default matcher found different findings")
        if best["lines"] != expected_lines:
            raise SystemExit(f"bench: indexed {best['lines']} lines, the bundle holds {expected_lines}")
        uncompressed = best["bytes"]
        indexer_mbs = uncompressed / best["seconds"] / 1e6
        fallback_mbs = uncompressed / fallback["seconds"] / 1e6
        rg_seconds, rg_cpu, rg_count = min(rg_runs)
        ripgrep_mbs = uncompressed / rg_seconds / 1e6
        grep_mbs = uncompressed / min(grep_runs)[0] / 1e6
        plain_mbs = uncompressed / min(r["seconds"] for r in plain_runs) / 1e6
        cpu_on, cpu_off = min(r["cpu"] for r in idx_runs), min(r["cpu"] for r in plain_runs)
        print(  # CPU seconds depend less than wall time on what else the machine runs
            f"size {uncompressed / MIB:,.0f} MiB: redaction on {indexer_mbs:.0f} MB/s, off {plain_mbs:.0f} MB/s, "
            f"redaction_ratio {indexer_mbs / plain_mbs:.2f}; cpu on {cpu_on:.1f}s, off {cpu_off:.1f}s, "
            f"redaction_cpu_ratio {cpu_off / cpu_on:.2f}",
            flush=True,
        )
        print(
            f"size {size_mib} MiB: CPU seconds (all threads and processes, best run): indexer {best['cpu']:.2f}, "
            f"ripgrep pipeline {rg_cpu:.2f}, grep pipeline {min(grep_runs)[1]:.2f}; wall seconds of every run: "
            f"indexer {_seconds(r['seconds'] for r in idx_runs)}, ripgrep {_seconds(r[0] for r in rg_runs)}",
            flush=True,
        )
        rss_mib = max(r["rss_kib"] for r in [*idx_runs, fallback]) / 1024
        rows.append((size_mib, indexer_mbs, grep_mbs, rss_mib, ripgrep_mbs))
        print(
            f"size {uncompressed / MIB:,.0f} MiB uncompressed, {best['lines']:,} lines (all indexed): "
            f"indexer {indexer_mbs:.0f} MB/s ({engine}; {len(best['findings'])} findings, "
            f"complete={best['complete']}), RE2 fallback {fallback_mbs:.0f} MB/s (same findings), "
            f"ripgrep {ripgrep_mbs:.0f} MB/s ({rg_count} matching lines), grep {grep_mbs:.0f} MB/s, "
            f"ratio_vs_ripgrep {indexer_mbs / ripgrep_mbs:.2f}, ratio_vs_grep {indexer_mbs / grep_mbs:.2f}, "
            f"peak_rss_mib {rss_mib:.0f}",
            flush=True,
        )
    if args.dense_mib:
        bench_dense(workdir, args.dense_mib, args.runs, patterns_file)
    if args.read_mib:
        reads = bench_read(workdir, args.read_mib, repeats=5)
        for where, (indexed, plain) in reads.items():
            print(
                f"read 20 lines at the {where} of the {args.read_mib} MiB log: {indexed:.1f} ms with the line "
                f"index, {plain:.1f} ms without",
                flush=True,
            )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    largest = rows[-1]
    peak = max(r[3] for r in rows)
    print(
        f"bench: indexer {largest[1]:.0f} MB/s, baseline {largest[2]:.0f} MB/s, "
        f"ratio {largest[1] / largest[2]:.2f}, peak_rss_mib {peak:.0f}, "
        f"ratio_vs_ripgrep {min(r[1] / r[4] for r in rows):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
