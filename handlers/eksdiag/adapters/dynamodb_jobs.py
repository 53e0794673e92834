"""JobStore on DynamoDB: one table with string keys ``pk``/``sk`` and TTL attribute ``expires_at``.

Items (Powertools Idempotency shares the table under its own ``idempotency#...`` partition):

* ``pk=BUNDLE#<bid>  sk=JOB``            the job itself (all fields as attributes)
* ``pk=INSTANCE#<iid> sk=JOB#<bid>``     per-node listing entry (bundle ids sort by creation time)
* ``pk=JOBS          sk=JOB#<bid>``      fleet-wide listing entry
* ``pk=INSTANCE#<iid> sk=LATEST``        pointer to the node's latest indexed bundle
* ``pk=<KIND>#<id>   sk=RECORD``         small records (batches, captures)

Everything that must happen once is a conditional write: a job is created only if its item does not
exist, a record is claimed only if absent (or superseded by name), a job moves from one state to the
next only if it still holds the values its caller read (compare-and-set), and the latest pointer
only moves forward. An item of the wrong shape reads as a failed job, never as a fault.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from eksdiag.adapters import check_job
from eksdiag.tools.base import ToolError

RETENTION = timedelta(days=30)
#: ``b-<yyyymmddHHMMSS>``: the part of a bundle id that says when it was made.
TIME_PREFIX = 16
_SER = TypeSerializer()
_DESER = TypeDeserializer()
_KEYS = ("pk", "sk", "expires_at")


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


def _item(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(_to_dynamo(v)) for k, v in data.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_DESER.deserialize(v)) for k, v in item.items() if k not in _KEYS}


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _refused(err: ClientError) -> bool:
    """The write's condition did not hold (someone else got there first)."""
    return _code(err) in ("ConditionalCheckFailedException", "TransactionCanceledException")


def _denied(err: ClientError) -> PermissionError:
    return PermissionError(f"DynamoDB refused the write ({_code(err)}); this function may only read jobs")


class _Expression:
    """Builds the names and values of one DynamoDB expression (``#n0`` names, ``:v0`` values)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, key: str) -> str:
        ref = f"#n{len(self.names)}"
        self.names[ref] = key
        return ref

    def value(self, value: Any) -> str:
        ref = f":v{len(self.values)}"
        self.values[ref] = _SER.serialize(_to_dynamo(value))
        return ref

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ExpressionAttributeNames": self.names}
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


class DynamoJobStore:
    def __init__(self, table: str, client: Callable[[], Any], now: Callable[[], datetime]) -> None:
        if not table:
            raise ValueError("DynamoJobStore needs a table name (TABLE_NAME)")
        self.table = table
        self._client = client
        self._now = now

    @property
    def client(self) -> Any:
        return self._client()

    def _expires(self) -> int:
        return int((self._now().astimezone(UTC) + RETENTION).timestamp())

    def _get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        """The item at (``pk``, ``sk``) as plain values (a consistent read), or None."""
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": pk}, "sk": {"S": sk}},
            ConsistentRead=True,
        ).get("Item")
        return _plain(item) if item else None

    def create_job(self, job: dict[str, Any]) -> None:
        bid, iid = job["bundle_id"], job["instance_id"]
        expires = self._expires()
        entry = {"bundle_id": bid, "instance_id": iid, "expires_at": expires}
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": _item({**job, "pk": f"BUNDLE#{bid}", "sk": "JOB", "expires_at": expires}),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": _item({**entry, "pk": f"INSTANCE#{iid}", "sk": f"JOB#{bid}"}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": _item({**entry, "pk": "JOBS", "sk": f"JOB#{bid}"}),
                        }
                    },
                ]
            )
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                raise ToolError("Conflict", f"job {bid} already exists") from None
            raise

    @staticmethod
    def _update_expression(expr: _Expression, bundle_id: str, fields: Mapping[str, Any]) -> str:
        sets = [f"{expr.name(k)} = {expr.value(v)}" for k, v in sorted(fields.items()) if v is not None]
        if "bundle_id" not in fields:
            ref = expr.name("bundle_id")
            sets.append(f"{ref} = if_not_exists({ref}, {expr.value(bundle_id)})")
        removes = [expr.name(k) for k, v in sorted(fields.items()) if v is None]
        return "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")

    def update_job(self, bundle_id: str, **fields: Any) -> None:
        if not fields:
            return
        expr = _Expression()
        update = self._update_expression(expr, bundle_id, fields)
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"BUNDLE#{bundle_id}"}, "sk": {"S": "JOB"}},
            UpdateExpression=update,
            **expr.kwargs(),
        )

    def transition(self, bundle_id: str, expect: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
        """Apply ``fields`` (None removes one) only if the job still has the ``expect`` values (None:
        absent); True when applied. Raises PermissionError where the role may only read jobs."""
        expr = _Expression()
        update = self._update_expression(expr, bundle_id, fields)
        conditions = ["attribute_exists(pk)"]
        for key, value in sorted(expect.items()):
            ref = expr.name(key)
            conditions.append(f"attribute_not_exists({ref})" if value is None else f"{ref} = {expr.value(value)}")
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"BUNDLE#{bundle_id}"}, "sk": {"S": "JOB"}},
                UpdateExpression=update,
                ConditionExpression=" AND ".join(conditions),
                **expr.kwargs(),
            )
        except ClientError as err:
            if _refused(err):
                return False
            if _code(err) == "AccessDeniedException":
                raise _denied(err) from None
            raise
        return True

    def get_job(self, bundle_id: str) -> dict[str, Any] | None:
        item = self._get_item(f"BUNDLE#{bundle_id}", "JOB")
        return None if item is None else check_job(item, bundle_id)

    # ownership: a Lambda invocation cannot be asked whether it still runs; its deadline ends its claim
    def new_owner(self) -> str:
        return f"lambda:{uuid.uuid4()}"

    def owner_alive(self, owner: str | None) -> bool:
        return bool(owner)

    def _latest_item(self, instance_id: str, bundle_id: str) -> dict[str, Any]:
        return _item(
            {
                "pk": f"INSTANCE#{instance_id}",
                "sk": "LATEST",
                "instance_id": instance_id,
                "bundle_id": bundle_id,
                "made": bundle_id[:TIME_PREFIX],
                "expires_at": self._expires(),
            }
        )

    def set_latest(self, instance_id: str, bundle_id: str) -> None:
        self.client.put_item(TableName=self.table, Item=self._latest_item(instance_id, bundle_id))

    def advance_latest(self, instance_id: str, bundle_id: str) -> bool:
        """Point the node at ``bundle_id`` unless it already points at a newer one (ids sort by time)."""
        expr = _Expression()
        made = expr.name("made")
        # ids start with their creation time: a pointer made in a later second is kept; one of the
        # wrong type (damaged) or of the same second is replaced
        condition = f"attribute_not_exists(pk) OR NOT attribute_type({made}, {expr.value('S')}) OR {made} <= "
        condition += expr.value(bundle_id[:TIME_PREFIX])
        try:
            self.client.put_item(
                TableName=self.table,
                Item=self._latest_item(instance_id, bundle_id),
                ConditionExpression=condition,
                **expr.kwargs(),
            )
        except ClientError as err:
            if _refused(err):
                return False
            raise
        return True

    def get_latest(self, instance_id: str) -> str | None:
        latest = self._get_item(f"INSTANCE#{instance_id}", "LATEST")
        value = (latest or {}).get("bundle_id")
        return value if isinstance(value, str) and value else None

    def list_jobs(self, instance_id: str | None, limit: int) -> list[dict[str, Any]]:
        pk = f"INSTANCE#{instance_id}" if instance_id else "JOBS"
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":job": {"S": "JOB#"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        jobs: list[dict[str, Any]] = []
        for entry in resp.get("Items", []):
            job = self.get_job(_plain(entry)["bundle_id"])
            if job is not None:
                jobs.append(job)
        return jobs

    def put_record(self, kind: str, record_id: str, record: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_item({**record, "pk": f"{kind.upper()}#{record_id}", "sk": "RECORD", "expires_at": self._expires()}),
        )

    def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        return self._get_item(f"{kind.upper()}#{record_id}", "RECORD")

    def claim_record(
        self, kind: str, record_id: str, record: dict[str, Any], supersede: str | None = None
    ) -> dict[str, Any]:
        """Store ``record`` if the name is free (or the stored record names the bundle ``supersede``);
        return the record stored now: ours, or the one that was there first."""
        expr = _Expression()
        expires = self._expires()
        condition = "attribute_not_exists(pk)"
        if supersede is not None:
            condition += f" OR {expr.name('bundle_id')} = {expr.value(supersede)}"
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_item({**record, "pk": f"{kind.upper()}#{record_id}", "sk": "RECORD", "expires_at": expires}),
                ConditionExpression=condition,
                **(expr.kwargs() if expr.names else {}),
            )
        except ClientError as err:
            if not _refused(err):
                raise
            stored = self.get_record(kind, record_id)
            if stored is None:  # it expired between the two calls: try once more
                return self.claim_record(kind, record_id, record, supersede)
            return stored
        return dict(record)
