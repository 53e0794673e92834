"""Container runtime artifact rules: containerd's effective configuration."""

from __future__ import annotations

from eksdiag.engine.checks._hits import artifacts_of_kind, hit_on_evidence
from eksdiag.engine.model import ArtifactMap, Evidence, Hit, Remedy, Rule, Severity

MAX_EVIDENCE = 5


def check_containerd_deprecations(artifacts: ArtifactMap) -> list[Hit]:
    """One hit per config file that sets properties containerd has deprecated."""
    hits = []
    for path, parsed in artifacts_of_kind(artifacts, "containerd-config"):
        found = [d for d in parsed.get("deprecated") or () if isinstance(d, dict)]
        if not found:
            continue
        evidence = sorted({Evidence(int(d["line"]), str(d["text"])) for d in found}, key=lambda e: e.line)
        evidence = evidence[:MAX_EVIDENCE]
        ids = sorted({str(d["id"]) for d in found})
        hits.append(
            hit_on_evidence(
                "runtime.containerd.deprecated-config",
                path,
                evidence,
                severity=Severity.LOW,
                count=len(found),
                detail={"deprecations": found[:20]},
                reason=f"{len(found)} deprecated setting(s) ({', '.join(ids)}): containerd runs with them today, "
                "but the release that removes them will refuse the configuration.",
            )
        )
    return hits


RUNTIME_RULES: tuple[Rule, ...] = (
    Rule(
        id="runtime.containerd.deprecated-config",
        severity=Severity.LOW,
        category="runtime",
        title="containerd configuration uses deprecated settings",
        files=("containerd/containerd-config.txt",),
        check=check_containerd_deprecations,
        description="Properties containerd itself reports as deprecated (ctr deprecations list), set in its "
        "effective configuration: an upgrade to the release that removes them breaks the node.",
        remedy=Remedy.CONFIGURATION,
        nma=("DeprecatedContainerdConfiguration",),
    ),
)
