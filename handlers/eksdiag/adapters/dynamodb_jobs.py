"""JobStore on DynamoDB: one table with string keys ``pk``/``sk`` and TTL attribute ``expires_at``.

Items (Powertools Idempotency shares the table under its own ``idempotency#...`` partition):

* ``pk=BUNDLE#<bid>  sk=JOB``            the job itself (all fields as attributes)
* ``pk=INSTANCE#<iid> sk=JOB#<bid>``     per-node listing entry (bundle ids sort by creation time)
* ``pk=JOBS          sk=JOB#<bid>``      fleet-wide listing entry
* ``pk=INSTANCE#<iid> sk=LATEST``        pointer to the node's latest indexed bundle
* ``pk=<KIND>#<id>   sk=RECORD``         small records (batches, captures)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from eksdiag.tools.base import ToolError

RETENTION = timedelta(days=30)
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

    def update_job(self, bundle_id: str, **fields: Any) -> None:
        if not fields:
            return
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        for i, (key, value) in enumerate(sorted(fields.items())):
            names[f"#f{i}"] = key
            values[f":v{i}"] = _SER.serialize(_to_dynamo(value))
            sets.append(f"#f{i} = :v{i}")
        names["#bid"] = "bundle_id"
        values[":bid"] = _SER.serialize(bundle_id)
        sets.append("#bid = if_not_exists(#bid, :bid)")
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"BUNDLE#{bundle_id}"}, "sk": {"S": "JOB"}},
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get_job(self, bundle_id: str) -> dict[str, Any] | None:
        return self._get_item(f"BUNDLE#{bundle_id}", "JOB")

    def set_latest(self, instance_id: str, bundle_id: str) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_item(
                {
                    "pk": f"INSTANCE#{instance_id}",
                    "sk": "LATEST",
                    "instance_id": instance_id,
                    "bundle_id": bundle_id,
                    "expires_at": self._expires(),
                }
            ),
        )

    def get_latest(self, instance_id: str) -> str | None:
        latest = self._get_item(f"INSTANCE#{instance_id}", "LATEST")
        return str(latest["bundle_id"]) if latest else None

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
