"""The tools framework: errors, settings, validators, registry, dispatch, contexts and the stores."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from eksdiag.adapters import safe_member_path
from eksdiag.tools import validate
from eksdiag.tools.base import ERROR_CODES, Settings, ToolContext, ToolError, new_bundle_id
from eksdiag.tools.dispatch import call_tool, validate_arguments
from eksdiag.tools.registry import split_name, tools
from eksdiag.tools.schemas_io import GROUPS, schema_files
from jsonschema import Draft202012Validator

from tests.tools.conftest import FIXED_NOW

EXPECTED_TOOLS = {
    "nodelog": {"collect", "status", "history", "batch_collect", "batch_status", "cluster_health"},
    "findings": {
        "validate",
        "errors",
        "search",
        "read",
        "correlate",
        "summarize",
        "compare_nodes",
        "network_diagnostics",
        "storage_diagnostics",
        "artifact",
    },
    "capture": {"tcpdump_capture", "tcpdump_analyze"},
    "runbooks": {"list_sops", "get_sop"},
}


# ---------------------------------------------------------------- ToolError, Settings


@pytest.mark.parametrize("code", ERROR_CODES)
def test_tool_error_result_shape(code: str) -> None:
    plain = ToolError(code, "what went wrong").to_result()
    assert plain == {"error": {"code": code, "message": "what went wrong", "retryable": False}}
    detailed = ToolError(code, "m", retryable=True, details={"x": 1}).to_result()
    assert detailed["error"]["retryable"] is True and detailed["error"]["details"] == {"x": 1}


def test_tool_error_refuses_unknown_codes() -> None:
    with pytest.raises(ValueError, match="unknown tool error code"):
        ToolError("Oops", "m")


def test_settings_from_env() -> None:
    s = Settings.from_env(
        {
            "BUCKET_NAME": "b",
            "TABLE_NAME": "t",
            "ALLOWED_REGIONS": "us-west-2, eu-west-1,",
            "AWS_REGION": "us-west-2",
            "PRESIGN_GET_SECONDS": "300",
        }
    )
    assert (s.bucket, s.table, s.allowed_regions, s.default_region) == (
        "b",
        "t",
        ("us-west-2", "eu-west-1"),
        "us-west-2",
    )
    assert (s.presign_put_seconds, s.presign_get_seconds) == (900, 300)
    assert Settings.from_env({"AWS_REGION": "eu-north-1"}).allowed_regions == ("eu-north-1",)


@pytest.mark.parametrize(
    "env", [{"PRESIGN_GET_SECONDS": "901"}, {"PRESIGN_GET_SECONDS": "soon"}, {"PRESIGN_PUT_SECONDS": "0"}]
)
def test_settings_reject_bad_numbers(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="PRESIGN"):
        Settings.from_env(env)


# ---------------------------------------------------------------- validators


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (
            validate.instance_id,
            ["i-0123abcd", "i-0123456789abcdef0"],
            ["i-0123", "i-0123456789ABCDEF0", "i-0123456789abcdef", "x", "", None, 5],
        ),
        (
            validate.bundle_id,
            [new_bundle_id(FIXED_NOW), "b-20260101120000-1a2b3c4d"],
            ["b-1", "B-20260101120000-1a2b3c4d", "b-20260101120000-1a2b3c4d/.."],
        ),
        (
            validate.execution_id,
            ["01234567-89ab-cdef-0123-456789abcdef"],
            ["01234567", "01234567-89AB-cdef-0123-456789abcdef"],
        ),
        (validate.finding_id, ["F-0123456789abcdef"], ["F-0123", "f-0123456789abcdef", "F-0123456789abcdeg"]),
        (validate.cluster_name, ["prod", "prod-east_1", "a" * 100], ["-prod", "a" * 101, "prod east", ""]),
    ],
    ids=["instance", "bundle", "execution", "finding", "cluster"],
)
def test_id_validators(check: Any, good: list[str], bad: list[Any]) -> None:
    for value in good:
        assert check(value) == value
    for value in bad:
        with pytest.raises(ToolError) as info:
            check(value)
        assert info.value.code == "InvalidArgument"


def test_region_validator_uses_the_allow_list() -> None:
    settings = Settings(allowed_regions=("us-west-2", "eu-west-1"), default_region="us-west-2")
    assert validate.region(None, settings) == "us-west-2" and validate.region("eu-west-1", settings) == "eu-west-1"
    for bad in ("us-east-1", "us-west-2a", "US-WEST-2", 3):
        with pytest.raises(ToolError) as info:
            validate.region(bad, settings)
        assert info.value.code == "InvalidArgument"


@pytest.mark.parametrize(
    ("value", "ok"), [(1, True), (10, True), (0, False), (11, False), (True, False), (2.0, False), ("3", False)]
)
def test_bounded_int(value: Any, ok: bool) -> None:
    if ok:
        assert validate.bounded_int(value, "n", 1, 10) == value
    else:
        with pytest.raises(ToolError):
            validate.bounded_int(value, "n", 1, 10)
    assert validate.bounded_int(None, "n", 1, 10, default=5) == 5


def test_new_bundle_ids_sort_by_time_and_differ() -> None:
    from datetime import timedelta

    first, second = new_bundle_id(FIXED_NOW), new_bundle_id(FIXED_NOW + timedelta(seconds=1))
    assert first < second and new_bundle_id(FIXED_NOW) != first and first.startswith("b-20260306183000-")


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("kubelet/kubelet.log", True),
        ("var_log/pods/kube-system_aws-node-x_1/aws-node/0.log", True),
        ("./kernel/dmesg.current", True),
        ("../index.json", False),
        ("/etc/passwd", False),
        ("a/../../b", False),
        ("a\\b", False),
        ("a\x00b", False),
        ("a\nb", False),
        ("", False),
    ],
)
def test_safe_member_path(path: str, ok: bool) -> None:
    if ok:
        assert safe_member_path(path) == path.removeprefix("./")
    else:
        with pytest.raises(ToolError):
            safe_member_path(path)


# ---------------------------------------------------------------- registry and schemas


def test_registry_discovers_every_tool_with_its_schema() -> None:
    found: dict[str, set[str]] = {}
    for full_name, spec in tools().items():
        assert full_name == f"{spec.group}___{spec.name}" and split_name(full_name) == (spec.group, spec.name)
        found.setdefault(spec.group, set()).add(spec.name)
    assert found == EXPECTED_TOOLS
    assert {(g, n) for g, n, _ in schema_files()} == {(g, n) for g, names in EXPECTED_TOOLS.items() for n in names}
    assert set(GROUPS) == set(EXPECTED_TOOLS)


def test_split_name_without_a_target() -> None:
    assert split_name("errors") == ("", "errors") and split_name("a___b___c") == ("a", "b___c")


@pytest.mark.parametrize("full_name", sorted(tools()))
def test_schema_files_are_strict_full_json_schemas(full_name: str) -> None:
    spec = tools()[full_name]
    for key in ("inputSchema", "outputSchema"):
        schema = spec.schema[key]
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object" and schema.get("additionalProperties") is False, key
        for name, prop in schema.get("properties", {}).items():
            assert prop.get("description"), f"{full_name}.{key}.{name} needs a description"
    assert len(spec.description) > 40


ID_PATTERNS = {
    "instanceId": validate.INSTANCE_ID_PATTERN,
    "bundleId": validate.BUNDLE_ID_PATTERN,
    "executionId": validate.EXECUTION_ID_PATTERN,
    "findingId": validate.FINDING_ID_PATTERN,
    "pivotFindingId": validate.FINDING_ID_PATTERN,
    "baselineBundleId": validate.BUNDLE_ID_PATTERN,
    "region": validate.REGION_PATTERN,
    "clusterName": validate.CLUSTER_NAME_PATTERN,
}


#: Tools that take the node of a bundle (EC2 or hybrid), not only an EC2 instance to act on.
NODE_ID_TOOLS = {name for name in tools() if name.startswith("findings___")} | {
    "nodelog___collect",
    "nodelog___history",
}


@pytest.mark.parametrize("full_name", sorted(tools()))
def test_id_arguments_use_the_validators_patterns(full_name: str) -> None:
    props = tools()[full_name].input_schema.get("properties", {})
    for name, pattern in ID_PATTERNS.items():
        if name in props:
            if name == "instanceId" and full_name in NODE_ID_TOOLS:
                pattern = validate.NODE_ID_PATTERN
            assert props[name].get("pattern") == pattern, f"{full_name}.{name}"


# ---------------------------------------------------------------- dispatch


def test_validation_applies_defaults_without_touching_the_caller_args() -> None:
    schema = tools()["findings___errors"].input_schema
    args = {"bundleId": "b-20260101120000-1a2b3c4d"}
    clean = validate_arguments(schema, args)
    assert clean["pageSize"] == 50 and clean["minSeverity"] == "LOW" and clean["includeNoise"] is False
    assert args == {"bundleId": "b-20260101120000-1a2b3c4d"}


@pytest.mark.parametrize("args", [None, {}])
def test_missing_arguments_are_an_empty_object(args: Any) -> None:
    assert validate_arguments(tools()["runbooks___list_sops"].input_schema, args) == {}


@pytest.mark.parametrize("args", [[], "x", 3])
def test_arguments_must_be_an_object(args: Any) -> None:
    with pytest.raises(ToolError, match="JSON object"):
        validate_arguments(tools()["runbooks___list_sops"].input_schema, args)


def test_a_fault_in_a_tool_raises_and_a_too_large_result_is_refused(
    local_ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tools()["runbooks___list_sops"]

    def boom(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        call_tool(spec, {}, local_ctx, run=boom)
    huge = call_tool(spec, {}, local_ctx, run=lambda a, c: {"blob": "x" * 5_100_000})
    assert huge["error"]["code"] == "InvalidArgument" and "limit" in huge["error"]["message"]


# ---------------------------------------------------------------- contexts


def test_aws_clients_are_lazy_and_cached(aws_env: dict[str, Any]) -> None:
    from eksdiag.adapters.context import aws_context

    made: list[tuple[str, str | None]] = []

    def factory(service: str, region: str | None) -> Any:
        made.append((service, region))
        return aws_env["clients"](service, region)

    ctx = aws_context(aws_env["env"], client_factory=factory)
    assert made == []
    assert ctx.aws("s3") is ctx.aws("s3") and ctx.aws("s3", "us-east-1") is not ctx.aws("s3")
    assert made == [("s3", "us-west-2"), ("s3", "us-east-1")]


def test_local_context_refuses_aws_with_a_structured_error(local_ctx: ToolContext) -> None:
    with pytest.raises(ToolError) as info:
        local_ctx.aws("ssm")
    assert info.value.code == "Upstream" and "local" in info.value.message


def test_aws_tools_answer_upstream_when_serving_local_bundles(local_ctx: ToolContext, run: Any) -> None:
    result = run(local_ctx, "nodelog___cluster_health", {"clusterName": "prod"})
    assert result["error"]["code"] == "Upstream"


# ---------------------------------------------------------------- stores (same contract, both kinds)


@pytest.fixture(params=["local", "aws"])
def stores(request: pytest.FixtureRequest, local_ctx: ToolContext) -> ToolContext:
    return local_ctx if request.param == "local" else request.getfixturevalue("aws_ctx")


def test_job_store_contract(stores: ToolContext) -> None:
    jobs = stores.jobs
    older, newer = "b-20260101120000-00000001", "b-20260102120000-00000002"
    other = "b-20260103120000-00000003"
    for bid, iid in ((older, "i-0123456789abcdef0"), (newer, "i-0123456789abcdef0"), (other, "i-0fedcba9876543210")):
        jobs.create_job({"bundle_id": bid, "instance_id": iid, "state": "collecting", "progress": 0.5})
    with pytest.raises(ToolError) as info:
        jobs.create_job({"bundle_id": older, "instance_id": "i-0123456789abcdef0", "state": "collecting"})
    assert info.value.code == "Conflict"
    jobs.update_job(older, state="indexed", counts={"CRITICAL": 1, "findings": 3})
    job = jobs.get_job(older)
    assert job["state"] == "indexed" and job["counts"] == {"CRITICAL": 1, "findings": 3} and job["progress"] == 0.5
    assert jobs.get_job("b-20260104120000-00000004") is None
    assert [j["bundle_id"] for j in jobs.list_jobs("i-0123456789abcdef0", 10)] == [newer, older]
    assert [j["bundle_id"] for j in jobs.list_jobs(None, 2)] == [other, newer]
    assert jobs.get_latest("i-0123456789abcdef0") is None
    jobs.set_latest("i-0123456789abcdef0", newer)
    assert jobs.get_latest("i-0123456789abcdef0") == newer
    jobs.put_record("batches", "batch-1", {"nodes": ["a", "b"], "ratio": 0.25})
    assert jobs.get_record("batches", "batch-1") == {"nodes": ["a", "b"], "ratio": 0.25}
    assert jobs.get_record("batches", "batch-2") is None


def test_bundle_store_contract(stores: ToolContext) -> None:
    store, bid = stores.store, "b-20260101120000-00000001"
    assert store.load_index(bid) is None and store.file_size(bid, "a/b.txt") is None
    index = {"schema": "eksdiag.index/1", "bundle": {"id": bid}, "findings": [], "files": [], "n": 1}
    store.save_index(bid, index)
    assert store.load_index(bid) == index
    with pytest.raises(ToolError) as damaged:  # an index of another bundle is not this bundle's index
        store.save_index(bid, {**index, "bundle": {"id": "b-20260101120000-00000002"}})
        store.load_index(bid)
    assert damaged.value.code == "Corrupt"
    store.save_index(bid, index)
    data = bytes(range(256)) * 5000
    sink = store.file_sink(bid)
    with sink.open("a/b.txt") as handle:
        handle.write(data[:1000])
        handle.write(data[1000:])
    sink.wait()
    assert store.file_size(bid, "a/b.txt") == len(data)
    assert store.read_range(bid, "a/b.txt", 10, 20) == data[10:20]
    assert store.read_range(bid, "a/b.txt", len(data) - 5, len(data) + 100) == data[-5:]
    assert store.read_range(bid, "a/b.txt", 5, 5) == b""
    assert b"".join(store.iter_chunks(bid, "a/b.txt", chunk=4096)) == data
    with pytest.raises(ToolError) as info:
        store.read_range(bid, "a/missing.txt", 0, 10)
    assert info.value.code == "NotFound"
    assert store.upload_key("i-0123456789abcdef0", bid) == f"uploads/i-0123456789abcdef0/{bid}.tar.gz"
    assert store.file_key(bid, "a/b.txt") == f"bundles/{bid}/files/a/b.txt"


def test_s3_presigned_put_signs_sse_kms_for_exactly_one_key(aws_ctx: ToolContext, aws_env: dict[str, Any]) -> None:
    key = aws_ctx.store.upload_key("i-0123456789abcdef0", "b-20260101120000-00000001")
    url = aws_ctx.store.presign_put(key, 900)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith("/" + key) and query["X-Amz-Expires"] == ["900"]
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    assert "x-amz-server-side-encryption" in signed and "x-amz-server-side-encryption-aws-kms-key-id" in signed
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def test_s3_presigned_get_is_capped_at_fifteen_minutes(aws_ctx: ToolContext) -> None:
    url = aws_ctx.store.presign_get("bundles/b-20260101120000-00000001/files/a.txt", 3600)
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["900"]


def test_dynamodb_items_use_the_table_keys(aws_ctx: ToolContext) -> None:
    aws_ctx.jobs.create_job(
        {"bundle_id": "b-20260101120000-00000001", "instance_id": "i-0123456789abcdef0", "state": "collecting"}
    )
    items = aws_ctx.aws("dynamodb").scan(TableName=aws_ctx.settings.table)["Items"]
    keys = sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)
    assert keys == [
        ("BUNDLE#b-20260101120000-00000001", "JOB"),
        ("INSTANCE#i-0123456789abcdef0", "JOB#b-20260101120000-00000001"),
        ("JOBS", "JOB#b-20260101120000-00000001"),
    ]
    assert all(int(i["expires_at"]["N"]) > 0 for i in items)


def test_s3_sink_uploads_in_parallel_and_reports_a_failed_upload(aws_ctx: ToolContext) -> None:
    from botocore.exceptions import ClientError
    from eksdiag.adapters.s3_store import S3BundleStore

    store = aws_ctx.store
    sink = store.file_sink("b-20260101120000-00000001")
    for n in range(40):
        with sink.open(f"var_log/file-{n}.log") as handle:
            handle.write(f"line {n}\n".encode())
    sink.wait()
    assert all(
        store.file_size("b-20260101120000-00000001", f"var_log/file-{n}.log") == len(f"line {n}\n") for n in range(40)
    )

    broken = S3BundleStore("no-such-bucket", "", lambda: aws_ctx.aws("s3")).file_sink("b-20260101120000-00000001")
    with broken.open("a.txt") as handle:
        handle.write(b"x")
    with pytest.raises(ClientError):
        broken.wait()
