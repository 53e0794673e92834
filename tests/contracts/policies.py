"""The IAM statements of the rendered module, and the few questions the contract tests ask of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .iam_reference import action, condition_key_known
from .support import Rendered


@dataclass(frozen=True)
class Statement:
    document: str  # address of the aws_iam_policy_document
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)
    principals: bool

    @property
    def where(self) -> str:
        return f"{self.document} {self.sid or '(no sid)'}"


def statements(rendered: Rendered) -> list[Statement]:
    found = []
    for document in rendered.data("aws_iam_policy_document"):
        for s in document["values"].get("statement") or []:
            found.append(
                Statement(
                    document=document["address"],
                    sid=s.get("sid") or "",
                    effect=s.get("effect") or "Allow",
                    actions=tuple(s.get("actions") or ()),
                    resources=tuple(s.get("resources") or ()),
                    conditions=tuple((c["test"], c["variable"], tuple(c["values"])) for c in s.get("condition") or []),
                    principals=bool(s.get("principals")),
                )
            )
    return found


def identity_policies(rendered: Rendered) -> dict[str, list[Statement]]:
    """Policy documents attached to roles (no principals), by document address."""
    by_document: dict[str, list[Statement]] = {}
    for statement in statements(rendered):
        by_document.setdefault(statement.document, []).append(statement)
    return {d: s for d, s in by_document.items() if not any(x.principals for x in s)}


def statements_of(rendered: Rendered, document: str) -> list[Statement]:
    """The statements of one policy document, by address
    (``module.tools.data.aws_iam_policy_document.this["capture"]``)."""
    found = [s for s in statements(rendered) if s.document == document]
    assert found, f"no policy document {document}"
    return found


def iam_glob(pattern: str, value: str) -> bool:
    """IAM's matching of a Resource element: ``*`` any run of characters, ``?`` any one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def bucket_of(object_arn: str) -> str | None:
    head, slash, _ = object_arn.partition("/")
    return head if slash and head.startswith("arn:") and ":s3:::" in head else None


def applies_to_object_requests(st: Statement) -> bool:
    """A ListBucket grant counts for GetObject/HeadObject only when its conditions use keys those
    requests carry (global keys, or GetObject's own per the reference); s3:prefix is not one."""
    get_object = action("s3:GetObject")
    assert get_object is not None
    return all(condition_key_known(key, get_object) for _t, key, _v in st.conditions)


def may_list_for_object_requests(statements: list[Statement], bucket_arn: str) -> bool:
    """True when an Allow s3:ListBucket on ``bucket_arn`` applies to GetObject/HeadObject requests."""
    return any(
        st.effect == "Allow"
        and "s3:ListBucket" in st.actions
        and any(iam_glob(r, bucket_arn) for r in st.resources)
        and applies_to_object_requests(st)
        for st in statements
    )
