"""Container runtime artifacts: containerd's effective configuration (``containerd config dump``).

``containerd/containerd-config.txt`` is the merged TOML containerd runs with, defaults included:
every table is present, so a deprecated property counts only when it holds a value. The
deprecations are containerd's own (``pkg/deprecation`` and the CRI plugin's config validation, v1.7
and v2.x): the IDs are what ``ctr deprecations list`` reports on a live node.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eksdiag.engine.parsers.base import ArtifactSpec, Line

MAX_CONFIG_CHARS = 4 * 1024**2
CRI_V1 = "io.containerd.grpc.v1.cri"  # containerd 1.x: one CRI plugin, config version 2
CRI_IMAGES_V2 = "io.containerd.cri.v1.images"  # containerd 2.x, config version 3
CRI_RUNTIME_V2 = "io.containerd.cri.v1.runtime"
RUNTIME_V1_TYPES = frozenset({"io.containerd.runtime.v1.linux", "io.containerd.runc.v1"})


@dataclass(frozen=True)
class Deprecation:
    id: str
    """containerd's deprecation id, without the ``io.containerd.deprecation/`` prefix."""
    key: str
    """Where it is set, as a dotted TOML path."""
    removed_in: str
    advice: str


def _table(doc: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    node: Any = doc
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _registry(cri: Mapping[str, Any], key_base: str, removed_in: str) -> list[Deprecation]:
    registry = _table(cri, "registry")
    found = []
    for name, advice in (
        ("mirrors", "use config_path and hosts.toml"),
        ("configs", "use config_path and hosts.toml"),
        ("auths", "use ImagePullSecrets"),
    ):
        if _table(registry, name):
            found.append(Deprecation(f"cri-registry-{name}", f"{key_base}.registry.{name}", removed_in, advice))
    return found


def _runtimes(containerd: Mapping[str, Any], key_base: str) -> list[Deprecation]:
    found = []
    if _table(containerd, "untrusted_workload_runtime").get("runtime_type"):
        found.append(
            Deprecation(
                "cri-untrusted-workload-runtime",
                f"{key_base}.untrusted_workload_runtime",
                "v2.0",
                "define an `untrusted` runtime in runtimes",
            )
        )
    if _table(containerd, "default_runtime").get("runtime_type"):
        found.append(
            Deprecation("cri-default-runtime", f"{key_base}.default_runtime", "v2.0", "use default_runtime_name")
        )
    for name, runtime in sorted(_table(containerd, "runtimes").items()):
        if not isinstance(runtime, Mapping):
            continue
        where = f"{key_base}.runtimes.{name}"
        for prop, dep_id in (("runtime_engine", "cri-runtime-engine"), ("runtime_root", "cri-runtime-root")):
            if runtime.get(prop):
                found.append(Deprecation(dep_id, f"{where}.{prop}", "v2.0", "use a v2 runtime and its options"))
        if runtime.get("runtime_type") in RUNTIME_V1_TYPES:
            dep = "runtime-v1" if runtime["runtime_type"].endswith("linux") else "runtime-runc-v1"
            found.append(Deprecation(dep, f"{where}.runtime_type", "v2.0", "use io.containerd.runc.v2"))
        if _table(runtime, "options").get("CriuPath"):
            found.append(
                Deprecation("cri-criu-path", f"{where}.options.CriuPath", "v2.0", "put a criu binary in $PATH")
            )
    return found


def _deprecations(doc: Mapping[str, Any]) -> list[Deprecation]:
    plugins = _table(doc, "plugins")
    found: list[Deprecation] = []
    cri = _table(plugins, CRI_V1)
    if cri:
        key = f'plugins."{CRI_V1}"'
        found += _registry(cri, key, "v2.1")
        found += _runtimes(_table(cri, "containerd"), f"{key}.containerd")
        if cri.get("systemd_cgroup") is True:
            found.append(
                Deprecation(
                    "cri-systemd-cgroup-v1", f"{key}.systemd_cgroup", "v2.0", "set SystemdCgroup in the runc options"
                )
            )
    images = _table(plugins, CRI_IMAGES_V2)
    if images:
        found += _registry(images, f'plugins."{CRI_IMAGES_V2}"', "v2.4")
    if _table(plugins, CRI_RUNTIME_V2, "cni").get("bin_dir"):
        found.append(Deprecation("cri-cni-bin-dir", f'plugins."{CRI_RUNTIME_V2}".cni.bin_dir', "v2.4", "use bin_dirs"))
    if _table(plugins, "io.containerd.tracing.processor.v1.otlp").get("endpoint"):
        found.append(
            Deprecation(
                "tracing-processor-config",
                'plugins."io.containerd.tracing.processor.v1.otlp"',
                "v2.0 (v1.7) / v2.4 (v2.x)",
                "use OTEL_* environment variables",
            )
        )
    return found


def _line_of(lines: list[str], key: str) -> int:
    """Line number of the table header or key that ``key`` names (1 when it cannot be found).

    A dump writes each table once, so the last path component finds it; registry tables have
    sub-tables per host (``[...registry.mirrors."docker.io"]``), found by their prefix.
    """
    last = key.rsplit(".", 1)[-1].strip('"')
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped.startswith("[") and (stripped.rstrip("]").endswith(f".{last}") or f".{last}." in stripped):
            return number
        if stripped.startswith(f"{last} =") or stripped.startswith(f"{last}="):
            return number
    return 1


def _invalid(error: str) -> dict[str, Any]:
    return {"kind": "containerd-config", "valid": False, "error": error, "version": None, "deprecated": []}


def parse_containerd_config(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "containerd-config", "valid", "error", "version": int | None,
    "deprecated": [{"id", "key", "line", "text", "removed_in", "advice"}]}``."""
    texts: list[str] = []
    size = 0
    for _, text in lines:
        size += len(text) + 1
        if size > MAX_CONFIG_CHARS:
            return {
                "kind": "containerd-config",
                "valid": False,
                "error": "too large",
                "version": None,
                "deprecated": [],
            }
        texts.append(text)
    try:
        doc = tomllib.loads("\n".join(texts))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        return _invalid(f"invalid TOML: {str(exc)[:120]}")
    version = doc.get("version")
    return {
        "kind": "containerd-config",
        "valid": True,
        "error": None,
        "version": version if isinstance(version, int) and not isinstance(version, bool) else None,
        "deprecated": [
            {
                "id": d.id,
                "key": d.key,
                "line": (line := _line_of(texts, d.key)),
                "text": texts[line - 1] if texts else "",
                "removed_in": d.removed_in,
                "advice": d.advice,
            }
            for d in _deprecations(doc)
        ],
    }


RUNTIME_SPECS: tuple[ArtifactSpec, ...] = (
    ArtifactSpec("containerd-config", ("containerd/containerd-config.txt",), parse_containerd_config),
)
