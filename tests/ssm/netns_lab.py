"""A small EKS-like worker node built from Linux network namespaces, for the real-kernel tests.

Topology (all addresses live only inside the namespaces this module creates):

    client pod ns          node ns                                   coredns pod ns
    eth0 10.0.1.20/32 ---- eniclient       eth0 10.0.0.10/20 (veth, peer vpc0)
                           enicoredns ------------------------------ eth0 10.0.1.30/32
                                                                     DNS responder :53

Like the VPC CNI: host-side veths have no address and a /32 route to the pod; pods route through
169.254.1.1 with a permanent neighbour entry for the host veth's MAC. Like kube-proxy (iptables
mode): nat PREROUTING -> KUBE-SERVICES -> KUBE-SVC -> KUBE-SEP DNATs the cluster DNS service IP
10.100.0.10:53 to the coredns pod.

The seed incident (`break_node`) inserts DROP rules into the node's FORWARD chain for pod-to-pod
and service-CIDR traffic and adds `blackhole 10.100.0.0/16`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HELPERS = Path(__file__).resolve().parent / "helpers"
REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "ssm" / "scripts"

NODE_IP = "10.0.0.10"
NODE_SUBNET = "10.0.0.10/20"
CLIENT_IP = "10.0.1.20"
COREDNS_IP = "10.0.1.30"
VPC_CIDR = "10.0.0.0/16"
SERVICE_CIDR = "10.100.0.0/16"
DNS_SERVICE_IP = "10.100.0.10"
ANSWER_IP = "10.0.9.9"
INSTANCE_ID = "i-0123456789abcdef0"

KUBE_DNS_SVC = "KUBE-SVC-TCOU7JCQXEZGVUNU"
KUBE_DNS_SEP = "KUBE-SEP-IT2ZTR26TO4XFPTO"


def run(*args: str, check: bool = True, timeout: float = 30, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def netns_unavailable_reason() -> str | None:
    """Why the real-kernel tests cannot run here (None when they can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, iptables)"
    for tool in ("ip", "iptables", "iptables-save", "sysctl"):
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install iproute2 iptables procps)"
    probe = f"eksdiag-probe-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        run("ip", "netns", "add", probe)
    except (RuntimeError, OSError) as exc:
        return f"`ip netns add` is not available: {exc}"
    try:
        run("ip", "netns", "exec", probe, "iptables", "-L", "-n")
    except RuntimeError as exc:
        return f"iptables does not work in a network namespace: {exc}"
    finally:
        run("ip", "netns", "del", probe, check=False)
    return None


@dataclass
class Node:
    """One node namespace plus two pod namespaces; always call `destroy` (fixtures do)."""

    tag: str
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"eksdiag-{self.tag}-node"

    @property
    def client(self) -> str:
        return f"eksdiag-{self.tag}-client"

    @property
    def coredns(self) -> str:
        return f"eksdiag-{self.tag}-coredns"

    @property
    def namespaces(self) -> tuple[str, str, str]:
        return (self.node, self.client, self.coredns)

    # -- lifecycle ---------------------------------------------------------------------------
    def build(self) -> None:
        for ns in self.namespaces:
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        self.node_exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
        # The primary ENI: a veth whose peer stays in the node namespace (no dummy module needed).
        run("ip", "-n", self.node, "link", "add", "eth0", "type", "veth", "peer", "name", "vpc0")
        run("ip", "-n", self.node, "addr", "add", NODE_SUBNET, "dev", "eth0")
        run("ip", "-n", self.node, "link", "set", "vpc0", "up")
        run("ip", "-n", self.node, "link", "set", "eth0", "up")
        self._pod(self.client, "eniclient", CLIENT_IP)
        self._pod(self.coredns, "enicoredns", COREDNS_IP)
        self._kube_proxy()
        self.start(
            "ip", "netns", "exec", self.coredns, sys.executable, str(HELPERS / "dns_responder.py"),
            COREDNS_IP, "53", ANSWER_IP, ready="ready",
        )  # fmt: skip

    def _pod(self, pod_ns: str, veth: str, ip: str) -> None:
        run("ip", "-n", self.node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod_ns)
        run("ip", "-n", self.node, "link", "set", veth, "up")
        run("ip", "-n", pod_ns, "addr", "add", f"{ip}/32", "dev", "eth0")
        run("ip", "-n", pod_ns, "link", "set", "eth0", "up")
        run("ip", "-n", pod_ns, "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
        run("ip", "-n", pod_ns, "route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
        mac = json.loads(run("ip", "-j", "-n", self.node, "link", "show", veth))[0]["address"]
        run("ip", "-n", pod_ns, "neigh", "add", "169.254.1.1", "lladdr", mac, "dev", "eth0", "nud", "permanent")
        run("ip", "-n", self.node, "route", "add", f"{ip}/32", "dev", veth, "scope", "link")

    def _kube_proxy(self) -> None:
        nat = ("iptables", "-w", "5", "-t", "nat")
        for chain in ("KUBE-SERVICES", KUBE_DNS_SVC, KUBE_DNS_SEP):
            self.node_exec(*nat, "-N", chain)
        portal = ("-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES")
        self.node_exec(*nat, "-A", "PREROUTING", *portal)
        self.node_exec(*nat, "-A", "OUTPUT", *portal)
        self.node_exec(
            *nat, "-A", "KUBE-SERVICES", "-d", f"{DNS_SERVICE_IP}/32", "-p", "udp",
            "-m", "comment", "--comment", "kube-system/kube-dns:dns cluster IP",
            "-m", "udp", "--dport", "53", "-j", KUBE_DNS_SVC,
        )  # fmt: skip
        self.node_exec(
            *nat, "-A", KUBE_DNS_SVC, "-m", "comment", "--comment", f"kube-system/kube-dns:dns -> {COREDNS_IP}:53",
            "-j", KUBE_DNS_SEP,
        )  # fmt: skip
        self.node_exec(
            *nat, "-A", KUBE_DNS_SEP, "-p", "udp", "-m", "comment", "--comment", "kube-system/kube-dns:dns",
            "-m", "udp", "-j", "DNAT", "--to-destination", f"{COREDNS_IP}:53",
        )  # fmt: skip

    def break_node(self) -> None:
        """The seed incident: FORWARD drops for pod-to-pod and service traffic, blackholed services."""
        self.node_exec("iptables", "-w", "5", "-I", "FORWARD", "1", "-s", VPC_CIDR, "-d", VPC_CIDR, "-j", "DROP")
        self.node_exec("iptables", "-w", "5", "-I", "FORWARD", "1", "-d", SERVICE_CIDR, "-j", "DROP")
        run("ip", "-n", self.node, "route", "add", "blackhole", SERVICE_CIDR)

    def start(self, *args: str, ready: str | None = None, timeout: float = 10) -> subprocess.Popen[str]:
        proc = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.processes.append(proc)
        if ready is not None:
            assert proc.stdout is not None
            deadline = time.monotonic() + timeout
            line = proc.stdout.readline()
            if ready not in line or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{args[-4:]} did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        return proc

    def destroy(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        for ns in self.namespaces:
            for pid in run("ip", "netns", "pids", ns, check=False).split():
                run("kill", "-9", pid, check=False)
            run("ip", "netns", "del", ns, check=False)

    # -- actions -----------------------------------------------------------------------------
    def node_exec(self, *args: str, timeout: float = 30) -> str:
        return run("ip", "netns", "exec", self.node, *args, timeout=timeout)

    def dns_queries(self, count: int, timeout: float = 0.3, name: str = "kubernetes.default.svc.cluster.local") -> dict:
        out = run(
            "ip", "netns", "exec", self.client, sys.executable, str(HELPERS / "dns_query.py"),
            DNS_SERVICE_IP, str(count), str(timeout), name, timeout=count * (timeout + 1) + 10,
        )  # fmt: skip
        return json.loads(out)

    def collect(self, outdir: Path) -> Path:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "EKSDIAG_SKIP_IMDS": "1",
            "EKSDIAG_SKIP_ELC": "1",
            "EKSDIAG_INSTANCE_ID": INSTANCE_ID,
            "EKSDIAG_MIN_FREE_MB": "50",
            "EKSDIAG_CMD_TIMEOUT": "20",
        }
        out = run(
            "ip", "netns", "exec", self.node, "sh", str(SCRIPTS / "collect-node-diagnostics.sh"), str(outdir),
            env=env, timeout=300,
        )  # fmt: skip
        return Path(out.strip().splitlines()[-1])


def new_tag() -> str:
    """Unique per test run and per node, short enough for namespace names."""
    return f"{os.getpid() % 100000}{secrets.token_hex(3)}"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for https://127.0.0.1 (openssl CLI), for the local PUT server."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    )  # fmt: skip
    return cert, key


class PutServer:
    """The HTTPS PUT server helper on 127.0.0.1 of the node namespace (or of the root namespace).

    The process is owned by ``node`` and stopped by ``node.destroy()``.
    """

    def __init__(self, node: Node, directory: Path, in_node: bool = True) -> None:
        self.directory = directory
        self.cert, key = self_signed_certificate(directory)
        self.received = directory / "received"
        self.received.mkdir()
        prefix = ("ip", "netns", "exec", node.node) if in_node else ()
        node.start(
            *prefix, sys.executable, str(HELPERS / "put_server.py"), str(self.received), str(self.cert), str(key),
            ready="ready",
        )  # fmt: skip
        self.port = int((self.received / "port").read_text())

    def url(self, key: str) -> str:
        return f"https://127.0.0.1:{self.port}/{key}?X-Amz-Expires=900&X-Amz-Signature=0123456789abcdef"

    def requests(self) -> list[dict]:
        log = self.received / "requests.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]
