"""Artifact parsers (system): storage, instance metadata, kubelet config, VPC CNI ipamd files.

The parsers live in ``df``, ``metadata``, ``kubelet_config`` and ``ipamd``; this module routes
bundle paths to them. Log files are not artifacts (the indexer's line scanner reads them, with the
helpers in ``logline``).
"""

from __future__ import annotations

from eksdiag.engine.parsers.base import ArtifactSpec
from eksdiag.engine.parsers.df import parse_inodes, parse_mounts
from eksdiag.engine.parsers.ipamd import (
    parse_checkpoint,
    parse_enis,
    parse_ipamd_env,
    parse_metrics,
    parse_networkutils_env,
)
from eksdiag.engine.parsers.kubelet_config import parse_kubelet_config
from eksdiag.engine.parsers.metadata import parse_availability_zone, parse_instance_id, parse_region

SYSTEM_SPECS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec("mounts", ("storage/mounts.txt",), parse_mounts),
    ArtifactSpec("inodes", ("storage/inodes.txt",), parse_inodes),
    ArtifactSpec("instance-id", ("system/instance-id.txt",), parse_instance_id),
    ArtifactSpec("region", ("system/region.txt",), parse_region),
    ArtifactSpec("availability-zone", ("system/availability-zone.txt",), parse_availability_zone),
    ArtifactSpec("kubelet-config", ("kubelet/config.json", "kubelet/kubelet-config.json"), parse_kubelet_config),
    ArtifactSpec("ipamd-enis", ("ipamd/enis.json",), parse_enis),
    ArtifactSpec("ipamd-metrics", ("ipamd/metrics.json",), parse_metrics),
    ArtifactSpec("ipamd-checkpoint", ("ipamd/ipam.json", "ipamd/ipam-nic-*.json"), parse_checkpoint),
    ArtifactSpec("ipamd-env-settings", ("ipamd/ipamd-env-settings.json",), parse_ipamd_env),
    ArtifactSpec("networkutils-env-settings", ("ipamd/networkutils-env-settings.json",), parse_networkutils_env),
)
