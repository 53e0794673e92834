# ruff: noqa: E501  (real log lines are long)
"""Runtime, kubelet and systemd rules on real-format lines, their severities as evidence changes, and
the EKS Node Monitoring Agent's ContainerRuntime issues placed in a healthy bundle where the collector
puts them.

Line formats: systemd 219 (AL2) and 252 (AL2023) unit messages as journalctl prints them, klog
structured kubelet lines, logrus containerd lines (research/bundle.md §3, §4).
"""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eksdiag.engine.indexer import index_bundle
from eksdiag.engine.model import Remedy, Severity
from eksdiag.engine.parsers.runtime import parse_containerd_config
from eksdiag.engine.rules import CATALOGUE
from eksdiag.engine.scanner import compile_rules, rules_for_path

from tests.fixtures.seed import COLLECTED_EPOCH, HEALTHY_ID, bundle_name, node_files

HOST = "ip-192-168-45-12.us-west-2.compute.internal"
COLLECTED = datetime.fromtimestamp(COLLECTED_EPOCH, UTC)


def journal(when: datetime, ident: str, msg: str) -> str:
    return f"{when:%b %d %H:%M:%S} {HOST} {ident}: {msg}"


def klog(when: datetime, level: str, src: str, msg: str) -> str:
    return journal(when, "kubelet[3012]", f"{level}{when:%m%d %H:%M:%S}.{when.microsecond:06d}    3012 {src}] {msg}")


T = COLLECTED - timedelta(minutes=5)
SD = "systemd[1]"

POSITIVE = [
    # KubeletFailed: systemd 252 and 219 wording
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Main process exited, code=exited, status=1/FAILURE"),
     "systemd.kubelet.failed"),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Failed with result 'exit-code'."), "systemd.kubelet.failed"),
    ("var_log/messages", journal(T, SD, "Unit kubelet.service entered failed state."), "systemd.kubelet.failed"),
    ("var_log/messages", journal(T, SD, "kubelet.service: main process exited, code=exited, status=255/n/a"),
     "systemd.kubelet.failed"),
    ("kubelet/kubelet.log", journal(T, SD, "Failed to start kubelet.service - Kubernetes Kubelet."),
     "systemd.kubelet.failed"),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Main process exited, code=killed, status=9/KILL"),
     "systemd.kubelet.failed"),
    ("containerd/containerd-log.txt",
     journal(T, SD, "containerd.service: Main process exited, code=dumped, status=6/ABRT"), "systemd.containerd.failed"),
    # ServiceFailedToStart and RepeatedRestart, any unit
    ("var_log/messages", journal(T, SD, "Failed to start Amazon SSM Agent."), "systemd.unit.failed"),
    ("var_log/messages", f"{T:%b %e %H:%M:%S} ip-192-168-45-12 systemd: Failed to start Amazon SSM Agent.",
     "systemd.unit.failed"),
    ("nodeadm/nodeadm-run.log", journal(T, SD, "nodeadm-run.service: Failed with result 'exit-code'."),
     "systemd.unit.failed"),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Scheduled restart job, restart counter is at 7."),
     "systemd.unit.restarting"),
    ("var_log/messages", journal(T, SD, "kubelet.service holdoff time over, scheduling restart."),
     "systemd.unit.restarting"),
    # ContainerRuntimeFailed and the workload's own exec failures
    ("kubelet/kubelet.log",
     klog(T, "E", "pod_workers.go:1301", '"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"app\\" '
          'with RunContainerError: \\"failed to create containerd task: failed to create shim task: OCI runtime create '
          'failed: runc create failed: unable to start container process: error during container init: error setting '
          'cgroup config for procHooks process: unable to freeze: unknown\\""'), "runtime.oci.create-failed"),
    ("containerd/containerd-log.txt",
     journal(T, "containerd[2890]", 'time="2025-03-06T18:17:00.1Z" level=error msg="RunPodSandbox failed" '
             'error="OCI runtime start failed: cannot start an already running container: unknown"'),
     "runtime.oci.create-failed"),
    ("kubelet/kubelet.log",
     klog(T, "E", "pod_workers.go:1301", '"Error syncing pod, skipping" err="... OCI runtime create failed: runc create '
          'failed: unable to start container process: exec: \\"/app/server\\": stat /app/server: no such file or '
          'directory: unknown; executable file not found in $PATH"'), "runtime.container.exec-failed"),
    # EtcHostsMountFailed (the kubelet-managed hosts file became a directory)
    ("var_log/messages",
     journal(T, "containerd[2890]", 'time="2025-03-06T18:17:00.1Z" level=error msg="StartContainer failed" error="OCI '
             'runtime create failed: runc create failed: unable to start container process: error during container '
             'init: error mounting \\"/var/lib/kubelet/pods/c02d9022-7bc8-4df0-b899-f315edce7112/etc-hosts\\" to rootfs '
             'at \\"/etc/hosts\\": not a directory: unknown"'), "runtime.etc-hosts-mount-failed"),
    # PodStuckTerminating
    ("kubelet/kubelet.log",
     klog(T, "I", "kubelet.go:2450", '"Pod still has one or more containers in the non-exited state and will not be '
          'removed from desired state" pod="default/web-7c9d"'), "kubelet.pod.stuck-terminating"),
    # probe failures, current and older kubelet wording
    ("kubelet/kubelet.log",
     klog(T, "I", "prober.go:107", '"Probe failed" probeType="Liveness" pod="default/web-0" podUID="4f1e" '
          'containerName="web" probeResult="failure" output="Get \\"http://10.0.1.5:8080/healthz\\": context deadline '
          'exceeded"'), "kubelet.probe.liveness-failures"),
    ("kubelet/kubelet.log",
     klog(T, "I", "prober.go:107", '"Probe failed" probeType="Readiness" pod="default/web-0" podUID="4f1e" '
          'containerName="web" probeResult="failure" output="HTTP probe failed with statuscode: 503"'),
     "kubelet.probe.readiness-failures"),
    ("var_log/messages", klog(T, "I", "prober.go:116", 'Readiness probe for "web-0_default(4f1e):web" failed (failure)'),
     "kubelet.probe.readiness-failures"),
    # KubeletDiskUsageSlow
    ("kubelet/kubelet.log",
     klog(T, "W", "fsHandler.go:133", "fs: disk usage and inodes count on following dirs took 9.537338572s: "
          "[/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/412/fs /var/log/pods/default_web-0]; "
          "will not log again for this container unless duration exceeds 10s"), "kubelet.disk-usage-slow"),
    # volumes: kubelet's side, and the CSI node plugin's own log (CRI format, both copies the collector makes)
    ("kubelet/kubelet.log",
     klog(T, "E", "nestedpendingoperations.go:348", 'Operation for "{volumeName:kubernetes.io/csi/ebs.csi.aws.com^vol-0a1b '
          'podName: nodeName:}" failed. Error: MountVolume.MountDevice failed for volume "pvc-4f1e" (UniqueName: '
          '"kubernetes.io/csi/ebs.csi.aws.com^vol-0a1b") pod "db-0" (UID: "4f1e") : rpc error: code = Internal desc = '
          'could not format "/dev/nvme1n1" and mount it at "/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/'
          'a1/globalmount"'), "storage.volume.mount-failed"),
    ("kubelet/kubelet.log",
     klog(T, "E", "csi_attacher.go:350", 'kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: '
          'driver name efs.csi.aws.com not found in the list of registered CSI drivers'), "storage.volume.mount-failed"),
    ("var_log/kube-system_ebs-csi-node-x7k2p_5d1c/ebs-plugin/0.log",
     '2025-03-06T18:17:00.123456789Z stderr F E0306 18:17:00.123456       1 driver.go:108] "GRPC error" err="rpc '
     'error: code = Internal desc = could not format \"/dev/nvme1n1\": exit status 1"', "storage.csi.driver-error"),
    ("var_log/efs-csi-node-4k2mz_kube-system_efs-plugin-0a1b2c.log",
     '2025-03-06T18:17:00.123456789Z stderr F E0306 18:17:00.1       1 mount_linux.go:232] Mount failed: exit status 32',
     "storage.csi.driver-error"),
    # DeprecatedContainerdConfiguration, in containerd's own words at start
    ("containerd/containerd-log.txt",
     journal(T, "containerd[2890]", 'time="2025-03-06T18:00:59.1Z" level=warning msg="`mirrors` is deprecated, please '
             'use `config_path` instead"'), "runtime.containerd.deprecation-logged"),
]  # fmt: skip

NEGATIVE = [
    ("var_log/kube-system_ebs-csi-node-x7k2p_5d1c/ebs-plugin/0.log",
     '2025-03-06T18:17:00.123456789Z stderr F I0306 18:17:00.123456       1 node.go:214] "NodeStageVolume: called" '
     'args={"volume_id":"vol-0a1b"}'),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Deactivated successfully.")),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Main process exited, code=exited, status=0/SUCCESS")),
    ("kubelet/kubelet.log", journal(T, SD, "kubelet.service: Main process exited, code=killed, status=15/TERM")),
    ("kubelet/kubelet.log", journal(T, SD, "Started kubelet.service - Kubernetes Kubelet.")),
    ("kubelet/kubelet.log", journal(T, SD, "Stopped kubelet.service - Kubernetes Kubelet.")),
    ("kubelet/kubelet.log", klog(T, "I", "prober.go:107", '"Probe succeeded" probeType="Readiness" pod="default/web-0"')),
    ("containerd/containerd-log.txt",
     journal(T, "containerd[2890]", 'time="2025-03-06T18:00:59.1Z" level=info msg="starting cri plugin" '
             'config="{\\"registry\\":{\\"configPath\\":\\"/etc/containerd/certs.d:/etc/docker/certs.d\\"}}"')),
]  # fmt: skip


def classify(path: str, line: str) -> list[str]:
    rules = rules_for_path(path, CATALOGUE)
    return [r.id for r in compile_rules(rules).classify(line.encode())] if rules else []


@pytest.mark.parametrize(("path", "line", "rule"), POSITIVE, ids=[f"{p[2]}:{p[0]}:{i}" for i, p in enumerate(POSITIVE)])
def test_rule_matches_its_real_format_line(path: str, line: str, rule: str) -> None:
    assert rule in classify(path, line)


@pytest.mark.parametrize(("path", "line"), NEGATIVE, ids=[str(i) for i in range(len(NEGATIVE))])
def test_normal_service_and_probe_lines_match_no_rule(path: str, line: str) -> None:
    assert classify(path, line) == []


def test_kubelet_and_containerd_failures_are_not_counted_twice_as_generic_unit_failures() -> None:
    line = journal(T, SD, "kubelet.service: Failed with result 'exit-code'.")
    assert classify("var_log/messages", line) == ["systemd.kubelet.failed"]


def test_an_exec_failure_is_the_workloads_not_the_runtimes() -> None:
    line = next(p[1] for p in POSITIVE if p[2] == "runtime.container.exec-failed")
    assert classify("kubelet/kubelet.log", line) == ["runtime.container.exec-failed"]


# --- severity as evidence changes -----------------------------------------------------------------


def _bundle(tmp_path: Path, extra: dict[str, list[str]]) -> Path:
    files = node_files(faulty=False)
    for path, lines in extra.items():
        files[path] = files.get(path, "") + "\n".join(lines) + "\n"
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / bundle_name(HEALTHY_ID)
    with tarfile.open(out, "w:gz") as tar:
        for rel in sorted(files):
            data = files[rel].encode()
            info = tarfile.TarInfo(f"./{rel}")
            info.size, info.mtime = len(data), COLLECTED_EPOCH
            tar.addfile(info, io.BytesIO(data))
    return out


def _finding(tmp_path: Path, extra: dict[str, list[str]], rule: str):  # type: ignore[no-untyped-def]
    idx = index_bundle(_bundle(tmp_path, extra))
    found = [f for f in idx.findings if f.rule == rule]
    assert found, f"{rule} not found; findings: {[f.rule for f in idx.findings]}"
    return found[0]


def _restarts(start: datetime, count: int, every: timedelta) -> list[str]:
    return [
        journal(start + i * every, SD, f"kubelet.service: Scheduled restart job, restart counter is at {i + 1}.")
        for i in range(count)
    ]


def test_a_restart_loop_in_the_last_hour_outranks_one_restart_days_ago(tmp_path: Path) -> None:
    loop = _finding(
        tmp_path / "a",
        {"kubelet/kubelet.log": _restarts(COLLECTED - timedelta(minutes=30), 12, timedelta(minutes=2))},
        "systemd.unit.restarting",
    )
    once = _finding(
        tmp_path / "b", {"kubelet/kubelet.log": _restarts(COLLECTED - timedelta(days=3), 1, timedelta(0))},
        "systemd.unit.restarting",
    )  # fmt: skip
    assert loop.severity is Severity.HIGH
    assert "burst" in loop.severity_reason
    assert once.severity is Severity.LOW
    assert loop.remedy is Remedy.NODE


def test_a_probe_storm_ranks_above_one_flapping_pod(tmp_path: Path) -> None:
    def failures(n: int, every: timedelta) -> list[str]:
        start = COLLECTED - timedelta(minutes=20)
        return [
            klog(start + i * every, "I", "prober.go:107", '"Probe failed" probeType="Liveness" pod="default/web-0"')
            for i in range(n)
        ]

    storm = _finding(
        tmp_path / "a",
        {"kubelet/kubelet.log": failures(3000, timedelta(milliseconds=300))},
        "kubelet.probe.liveness-failures",
    )
    one_pod = _finding(
        tmp_path / "b", {"kubelet/kubelet.log": failures(60, timedelta(seconds=10))}, "kubelet.probe.liveness-failures"
    )  # fmt: skip
    assert storm.severity is Severity.HIGH
    assert one_pod.severity is Severity.MEDIUM
    assert storm.remedy is Remedy.WORKLOAD


# --- the NMA ContainerRuntime issues, placed where eks-log-collector.sh puts them ----------------

NMA_CASES = [
    ("KubeletFailed", "kubelet/kubelet.log",
     [journal(T, SD, "kubelet.service: Main process exited, code=exited, status=1/FAILURE"),
      journal(T, SD, "kubelet.service: Failed with result 'exit-code'.")],
     "systemd.kubelet.failed", Severity.HIGH),
    ("ServiceFailedToStart", "var_log/messages", [journal(T, SD, "Failed to start containerd-snapshotter.service.")],
     "systemd.unit.failed", Severity.MEDIUM),
    ("RepeatedRestart", "containerd/containerd-log.txt",
     [journal(T - timedelta(minutes=4 - i), SD, f"containerd.service: Scheduled restart job, restart counter is at {i}.")
      for i in range(1, 5)],
     "systemd.unit.restarting", Severity.HIGH),
    ("ContainerRuntimeFailed", "kubelet/kubelet.log",
     [klog(T, "E", "kuberuntime_manager.go:1256", '"Error syncing pod" err="OCI runtime create failed: unable to '
           'retrieve OCI runtime error"')] * 2,
     "runtime.oci.create-failed", Severity.MEDIUM),
    ("PodStuckTerminating", "kubelet/kubelet.log",
     [klog(T, "I", "kubelet.go:2450", '"Pod still has one or more containers in the non-exited state and will not be '
           'removed from desired state" pod="default/a-pod"')] * 2,
     "kubelet.pod.stuck-terminating", Severity.HIGH),
    ("EtcHostsMountFailed", "var_log/messages",
     [journal(T, "kubelet[3012]", 'error mounting "/var/lib/kubelet/pods/c02d9022/etc-hosts" to rootfs at "/etc/hosts"')],
     "runtime.etc-hosts-mount-failed", Severity.MEDIUM),
    ("KubeletDiskUsageSlow", "kubelet/kubelet.log",
     [klog(T, "W", "fsHandler.go:133", "fs: disk usage and inodes count on following dirs took 9.537338572s: [/a]")] * 3,
     "kubelet.disk-usage-slow", Severity.MEDIUM),
]  # fmt: skip


@pytest.mark.parametrize(("nma", "path", "lines", "rule", "severity"), NMA_CASES, ids=[c[0] for c in NMA_CASES])
def test_node_monitoring_agent_issue_is_found_in_a_healthy_bundle(
    nma: str, path: str, lines: list[str], rule: str, severity: Severity, tmp_path: Path
) -> None:
    finding = _finding(tmp_path, {path: lines}, rule)
    assert finding.severity is severity, finding.severity_reason
    assert nma in {n for r in CATALOGUE if r.id == rule for n in r.nma}
    assert finding.severity_reason


def test_the_healthy_seed_bundle_has_none_of_these_findings(tmp_path: Path) -> None:
    ours = {rule for *_, rule in POSITIVE} | {"runtime.containerd.deprecated-config"}
    idx = index_bundle(_bundle(tmp_path, {}))
    assert not [f.rule for f in idx.findings if f.rule in ours]


# --- containerd's effective configuration ----------------------------------------------------------

DUMP_17 = """version = 2
root = "/var/lib/containerd"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/pause:3.5"
    systemd_cgroup = false

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.default_runtime]
        runtime_type = ""

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true

      [plugins."io.containerd.grpc.v1.cri".containerd.untrusted_workload_runtime]
        runtime_type = ""

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "{config_path}"

      [plugins."io.containerd.grpc.v1.cri".registry.auths]

      [plugins."io.containerd.grpc.v1.cri".registry.configs]

      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]
{mirrors}
"""

MIRRORS = """
        [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
          endpoint = ["https://mirror.example.internal"]
"""


def _parse(text: str) -> dict:  # type: ignore[type-arg]
    return parse_containerd_config(enumerate(text.splitlines(), 1))


def test_a_default_dump_with_empty_tables_has_no_deprecation() -> None:
    parsed = _parse(DUMP_17.format(config_path="/etc/containerd/certs.d:/etc/docker/certs.d", mirrors=""))
    assert parsed["valid"] and parsed["version"] == 2
    assert parsed["deprecated"] == []


def test_registry_mirrors_are_reported_with_their_exact_line() -> None:
    text = DUMP_17.format(config_path="", mirrors=MIRRORS)
    parsed = _parse(text)
    assert [d["id"] for d in parsed["deprecated"]] == ["cri-registry-mirrors"]
    line = parsed["deprecated"][0]["line"]
    assert text.splitlines()[line - 1] == parsed["deprecated"][0]["text"]
    assert "registry.mirrors" in parsed["deprecated"][0]["text"]


def test_containerd_2_keys_and_v1_runtimes_are_reported() -> None:
    text = """version = 3
[plugins."io.containerd.cri.v1.images".registry.configs."registry.local".tls]
  insecure_skip_verify = true
[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dir = "/opt/cni/bin"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.old]
  runtime_type = "io.containerd.runtime.v1.linux"
  runtime_engine = "/usr/bin/runc"
"""
    ids = [d["id"] for d in _parse(text)["deprecated"]]
    assert ids == ["cri-runtime-engine", "runtime-v1", "cri-registry-configs", "cri-cni-bin-dir"]


@pytest.mark.parametrize("text", ["", "not = [toml", "version = 'x'\n[plugins]\nfoo = 1", "\x00" * 10])
def test_a_broken_or_odd_dump_never_raises(text: str) -> None:
    parsed = _parse(text)
    assert parsed["kind"] == "containerd-config"
    assert isinstance(parsed["deprecated"], list)


def test_deprecated_config_becomes_a_low_finding_citing_the_real_line(tmp_path: Path) -> None:
    text = DUMP_17.format(config_path="", mirrors=MIRRORS)
    finding = _finding(
        tmp_path, {"containerd/containerd-config.txt": text.splitlines()}, "runtime.containerd.deprecated-config"
    )
    assert finding.severity is Severity.LOW
    assert finding.remedy is Remedy.CONFIGURATION
    assert finding.evidence[0].text == text.splitlines()[finding.line - 1]
    assert "cri-registry-mirrors" in finding.severity_reason


def test_a_csi_error_in_a_rotated_gz_pod_log_is_found(tmp_path: Path) -> None:
    import gzip

    line = next(p[1] for p in POSITIVE if p[2] == "storage.csi.driver-error")
    member = "var_log/kube-system_ebs-csi-node-x7k2p_5d1c/ebs-plugin/0.log.20250306-181700.gz"
    out = tmp_path / bundle_name(HEALTHY_ID)
    with tarfile.open(out, "w:gz") as tar:
        for rel, data in [*((r, t.encode()) for r, t in node_files(faulty=False).items()),
                          (member, gzip.compress((line + "\n").encode()))]:  # fmt: skip
            info = tarfile.TarInfo(f"./{rel}")
            info.size, info.mtime = len(data), COLLECTED_EPOCH
            tar.addfile(info, io.BytesIO(data))
    found = [f for f in index_bundle(out).findings if f.rule == "storage.csi.driver-error"]
    assert [(f.file, f.count) for f in found] == [(member, 1)]
