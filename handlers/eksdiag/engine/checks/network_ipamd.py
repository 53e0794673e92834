"""The VPC CNI's daemons seen from their state files: ipamd down, ipamd's records disagreeing, and the
network add-on containers (aws-node, its network policy agent, kube-proxy) restarting.

eks-log-collector.sh asks ipamd for its state (``curl --silent`` on 61679 and 61678): with ipamd
down the files are there but empty. That is only a finding where the VPC CNI is installed (its
conflist, checkpoint or pod logs are in the bundle); a node on another CNI has the same empty files.

Kubelet names a container's current log ``<restart count>.log``, so the bundle's pod log folders
tell how often each container has restarted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksdiag.engine.checks._hits import artifacts_of_kind
from eksdiag.engine.checks.network_common import Item, aggregate, get, single
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Severity
from eksdiag.engine.parsers.network_podlogs import pod_log_location

RESTART_THRESHOLD = 5
"""The EKS node monitoring agent reports a restarting IPAMD or network policy agent from 5 restarts."""
RESTART_HIGH = 20
RESTART_RULES = {
    "aws-node": ("vpc-cni.aws-node-restarting", "aws-node (ipamd)",
                 "pods on this node cannot get or release IP addresses while it is down"),
    "aws-eks-nodeagent": ("vpc-cni.network-policy-agent-restarting", "the network policy agent",
                          "network policies are not enforced or updated while it is down"),
    "kube-proxy": ("network.kube-proxy.restarting", "kube-proxy", "Service rules are not updated while it is down"),
}  # fmt: skip


def vpc_cni_installed(artifacts: ArtifactMap) -> bool:
    """The VPC CNI is this node's CNI: its conflist, its checkpoint, or its pods' logs are there."""
    if any(config.get("aws_cni") for _p, config in artifacts_of_kind(artifacts, "cni-config")):
        return True
    if any(c.get("valid") for _p, c in artifacts_of_kind(artifacts, "ipamd-checkpoint")):
        return True
    return any(
        (location := pod_log_location(path)) is not None and location.container in ("aws-node", "aws-vpc-cni-init")
        for path, _log in artifacts_of_kind(artifacts, "pod-log")
    )


def check_ipamd_not_running(artifacts: ArtifactMap) -> list[Hit]:
    """IPAMDNotRunning: the introspection answers are empty while the VPC CNI is installed."""
    enis = get(artifacts, "ipamd/enis.json", "ipamd-enis")
    if enis is None or enis.get("valid") or not vpc_cni_installed(artifacts):
        return []
    metrics = get(artifacts, "ipamd/metrics.json", "ipamd-metrics")
    metrics_down = metrics is not None and not metrics.get("valid")
    checkpoint = next((c for _p, c in artifacts_of_kind(artifacts, "ipamd-checkpoint") if c.get("valid")), None)
    pods = checkpoint.get("allocation_count", 0) if checkpoint else 0
    answer = f"ipamd/enis.json is {enis.get('error') or 'unreadable'}"
    also = " and so is ipamd/metrics.json" if metrics_down else ""
    held = f"; its checkpoint still holds {pods} pod addresses" if pods else ""
    reason = (
        f"The VPC CNI is installed but ipamd did not answer the collector ({answer}{also}){held}: "
        "new pods on this node cannot get an IP address."
    )
    detail = {"enis": enis.get("error"), "metrics": metrics.get("error") if metrics else None, "checkpoint_pods": pods}
    return single("vpc-cni.ipamd-not-running", "ipamd/enis.json", Item(Severity.HIGH, Evidence(1, ""), detail, reason))


def check_ipamd_inconsistent(artifacts: ArtifactMap) -> list[Hit]:
    """IPAMDInconsistentState: ipamd's datastore and its on-disk checkpoint disagree about a pod's address."""
    enis = get(artifacts, "ipamd/enis.json", "ipamd-enis")
    if enis is None or not enis.get("valid"):
        return []
    datastore: dict[str, str | None] = {}
    for card in enis.get("network_cards") or ():
        for eni in card.get("enis") or ():
            for entry in eni.get("assigned") or ():
                datastore[entry["ip"]] = entry.get("pod")
    by_pod = {pod: ip for ip, pod in datastore.items() if pod}
    hits: list[Hit] = []
    for path, checkpoint in artifacts_of_kind(artifacts, "ipamd-checkpoint"):
        if not checkpoint.get("valid"):
            continue
        items: list[Item] = []
        for entry in checkpoint.get("allocations") or ():
            ip, pod = entry["ip"], entry.get("pod")
            conflict: str | None = None
            if ip in datastore and pod and datastore[ip] and datastore[ip] != pod:
                conflict = f"{ip} is {pod}'s in the checkpoint but {datastore[ip]}'s in ipamd's datastore"
            elif pod and pod in by_pod and by_pod[pod] != ip:
                conflict = f"{pod} has {ip} in the checkpoint but {by_pod[pod]} in ipamd's datastore"
            if conflict is None:
                continue
            detail = {"ip": ip, "pod": pod, "datastore_pod": datastore.get(ip), "conflict": conflict}
            items.append(Item(Severity.MEDIUM, Evidence(1, ""), detail, f"ipamd's state is inconsistent: {conflict}."))
        if len(items) >= 3:
            items = [i._replace(severity=Severity.HIGH) for i in items]
        hits.extend(aggregate("vpc-cni.ipamd-state-inconsistent", path, items))
    return hits


def check_addon_restarts(artifacts: ArtifactMap) -> list[Hit]:
    """IPAMDRepeatedlyRestart, NPARepeatedlyRestart, kube-proxy crash loops: restart counts from the
    pod log file names."""
    hits: list[Hit] = []
    for path, log in artifacts_of_kind(artifacts, "pod-log"):
        location = pod_log_location(path)
        if location is None or location.restarts is None or location.restarts < RESTART_THRESHOLD:
            continue
        rule = RESTART_RULES.get(location.container)
        if rule is None:
            continue
        rule_id, what, impact = rule
        severity = Severity.HIGH if location.restarts >= RESTART_HIGH else Severity.MEDIUM
        since = f" (current run logging since {log['first_time']})" if log.get("first_time") else ""
        reason = f"{what} in pod {location.pod} has restarted {location.restarts} times{since}; {impact}."
        last: Mapping[str, Any] | None = log.get("last")
        evidence = Evidence(last["line"], last["text"]) if last else Evidence(1, "")
        detail = {"pod": location.pod, "container": location.container, "restarts": location.restarts}
        hits.extend(single(rule_id, path, Item(severity, evidence, detail, reason)))
    return hits
