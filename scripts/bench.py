"""Benchmark the indexer against `gzip -dc | grep -c -E`, in the same run, at two sizes.

Generates bundles of realistic journal mix (kubelet klog, containerd logrus, ipamd zap JSON,
kernel dmesg, CRI pod logs) with incident lines sprinkled through them, packed exactly like
eks-log-collector. Measures, per size:
- the indexer: uncompressed MB/s and peak RSS (a fresh process per run);
- the baseline: `gzip -dc BUNDLE | grep -c -E PATTERN`, PATTERN being the catalogue's line rules
  rewritten as one POSIX ERE alternation (the same work: every line against every rule).
The last line is exactly: bench: indexer <X> MB/s, baseline <Y> MB/s, ratio <X/Y>, peak_rss_mib <M>
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shlex
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import isal.igzip as igzip

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import seed  # noqa: E402

MIB = 1024**2
HOST = seed.HOST

KUBELET = [
    'I0306 {t}.511207    3456 kubelet.go:2337] "SyncLoop UPDATE" source="api" pods=["default/web-{n}-{r}"]',
    'I0306 {t}.611207    3456 prober.go:107] "Probe failed" probeType="Readiness" pod="default/web-{n}" '
    'podUID="{r}-3f1c-{n}" containerName="app" probeResult="failure" output="HTTP probe failed with statuscode: 503"',
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
]
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
    """A stream of ``size`` bytes made of freshly generated blocks (never the whole file in memory)."""

    def __init__(self, make, size: int) -> None:
        self._make, self._left, self._start, self._buf = make, size, 0, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._left <= 0:
            return 0
        if not self._buf:
            self._buf = self._make(self._start)
            self._start += 8000
        n = min(len(buffer), len(self._buf), self._left)
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._left -= n
        return n


def generate(path: Path, total_bytes: int) -> None:
    files = seed.node_files(faulty=True)
    with igzip.open(path, "wb", compresslevel=2) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        for name in sorted(files):
            if any(name == m[0] for m in MIX):
                continue
            data = files[name].encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mtime = len(data), seed.COLLECTED_EPOCH
            tar.addfile(info, io.BytesIO(data))
        for name, share, make in MIX:
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mtime = int(total_bytes * share), seed.COLLECTED_EPOCH
            tar.addfile(info, io.BufferedReader(_Repeat(make, info.size), MIB))


def ere_pattern() -> str:
    """The catalogue's line rules as one POSIX ERE: the same matching work for grep."""
    from eksdiag.engine.rules import LINE_RULES

    parts = []
    for rule in LINE_RULES:
        pattern = rule.pattern or ""
        pattern = pattern.replace("(?:", "(").replace(r"\d", "[0-9]").replace(r"\S", "[^ ]")
        pattern = pattern.replace(r"[^\n]", ".").replace(r"[0-9a-fA-F.:\[\]]", "[][0-9a-fA-F.:]")
        pattern = pattern.replace('\\"', '"')
        parts.append(f"({pattern})")
    return "|".join(parts)


INDEX_ONE = (
    "import json, resource, sys, time\n"
    "from eksdiag.engine.indexer import index_bundle\n"
    "redact = sys.argv[2] == 'redact'\n"
    "t = time.perf_counter(); idx = index_bundle(sys.argv[1], redact=redact); dt = time.perf_counter() - t\n"
    "print(json.dumps({'seconds': dt, 'bytes': idx.bundle['bytes_uncompressed'], 'findings': len(idx.findings),"
    " 'complete': idx.bundle['complete'], 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " 'cpu': resource.getrusage(resource.RUSAGE_SELF).ru_utime + resource.getrusage(resource.RUSAGE_SELF).ru_stime}))\n"
)


def measure_indexer(bundle: Path, *, redact: bool = True) -> dict[str, float]:
    """One fresh-process indexing run; ``redact=False`` measures the same run without redaction."""
    argv = [sys.executable, "-c", INDEX_ONE, str(bundle), "redact" if redact else "plain"]
    out = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def measure_baseline(bundle: Path, pattern: str) -> float:
    cmd = f"gzip -dc {shlex.quote(str(bundle))} | LC_ALL=C grep -c -E {shlex.quote(pattern)}"
    start = time.perf_counter()
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd + " || [ $? -eq 1 ]"], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mib", default=os.environ.get("BENCH_SIZES_MIB", "1024,2048"))
    parser.add_argument("--workdir", default=str(ROOT / ".bench"))
    parser.add_argument("--runs", type=int, default=2, help="best of N runs for each side")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    pattern = ere_pattern()
    print(f"baseline pattern: {pattern.count('|') + 1} alternatives, {len(pattern)} characters")
    rows = []
    for size_mib in (int(s) for s in args.sizes_mib.split(",")):
        bundle = workdir / f"bench-{size_mib}mib.tar.gz"
        if not bundle.exists():
            t = time.perf_counter()
            generate(bundle, size_mib * MIB)
            print(
                f"generated {bundle.name}: {bundle.stat().st_size / MIB:.0f} MiB compressed "
                f"in {time.perf_counter() - t:.0f}s"
            )
        idx_runs = [measure_indexer(bundle) for _ in range(args.runs)]
        plain_runs = [measure_indexer(bundle, redact=False) for _ in range(args.runs)]
        base_runs = [measure_baseline(bundle, pattern) for _ in range(args.runs)]
        best = min(idx_runs, key=lambda r: r["seconds"])
        uncompressed = best["bytes"]
        indexer_mbs = uncompressed / best["seconds"] / 1e6
        baseline_mbs = uncompressed / min(base_runs) / 1e6
        rss_mib = max(r["rss_kib"] for r in idx_runs) / 1024
        plain_mbs = uncompressed / min(r["seconds"] for r in plain_runs) / 1e6
        cpu_on, cpu_off = min(r["cpu"] for r in idx_runs), min(r["cpu"] for r in plain_runs)
        rows.append((size_mib, indexer_mbs, baseline_mbs, rss_mib))
        print(  # CPU seconds depend less than wall time on what else the machine runs
            f"size {uncompressed / MIB:,.0f} MiB: redaction on {indexer_mbs:.0f} MB/s, off {plain_mbs:.0f} MB/s, "
            f"redaction_ratio {indexer_mbs / plain_mbs:.2f}; cpu on {cpu_on:.1f}s, off {cpu_off:.1f}s, "
            f"redaction_cpu_ratio {cpu_off / cpu_on:.2f}"
        )
        print(
            f"size {uncompressed / MIB:,.0f} MiB uncompressed: indexer {indexer_mbs:.0f} MB/s "
            f"({best['findings']} findings, complete={best['complete']}), baseline {baseline_mbs:.0f} MB/s, "
            f"ratio {indexer_mbs / baseline_mbs:.2f}, peak_rss_mib {rss_mib:.0f}"
        )
    largest = rows[-1]
    peak = max(r[3] for r in rows)
    print(
        f"bench: indexer {largest[1]:.0f} MB/s, baseline {largest[2]:.0f} MB/s, "
        f"ratio {largest[1] / largest[2]:.2f}, peak_rss_mib {peak:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
