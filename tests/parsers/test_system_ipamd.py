"""ipamd/enis.json, metrics.json, ipam.json and the env-settings files."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eksdiag.engine.parsers.ipamd import (
    parse_checkpoint,
    parse_enis,
    parse_ipamd_env,
    parse_metrics,
    parse_networkutils_env,
    read_json,
)


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


def ip_entry(ip: str, pod: str | None) -> dict[str, Any]:
    return {
        "Address": ip,
        "IPAMKey": {"networkName": "aws-cni" if pod else "", "containerID": "", "ifName": ""},
        "IPAMMetadata": {"k8sPodNamespace": "default", "k8sPodName": pod} if pod else {},
        "AssignedTime": "2025-03-06T18:01:52.331Z" if pod else "0001-01-01T00:00:00Z",
        "UnassignedTime": "0001-01-01T00:00:00Z",
    }


def eni(eni_id: str, device: int, ips: list[tuple[str, str | None]], primary: bool = False) -> dict[str, Any]:
    return {
        "ID": eni_id,
        "IsPrimary": primary,
        "IsTrunk": False,
        "IsEFA": False,
        "DeviceNumber": device,
        "AvailableIPv4Cidrs": {
            f"{ip}/32": {
                "Cidr": {"IP": ip, "Mask": "/////w=="},
                "IPAddresses": {ip: ip_entry(ip, pod)} if pod else {},
                "IsPrefix": False,
                "AddressFamily": "4",
            }
            for ip, pod in ips
        },
        "IPv6Cidrs": {},
        "IsExcludedForPodIPs": False,
        "RouteTableID": 254 if primary else device + 1,
        "SubnetID": "subnet-0abc1234def567890",
    }


def infos(total: int, assigned: int, enis: list[dict[str, Any]]) -> dict[str, Any]:
    return {"TotalIPs": total, "AssignedIPs": assigned, "ENIs": {e["ID"]: e for e in enis}}


PRIMARY = eni(
    "eni-0a1b2c3d4e5f60718",
    0,
    [("192.168.40.17", "coredns-6b9575c64c-4x2lm"), ("192.168.40.18", None), ("192.168.40.19", "web-5d8c7")],
    primary=True,
)
SECONDARY = eni("eni-0f1e2d3c4b5a69788", 1, [("192.168.52.201", "api-7c9"), ("192.168.52.202", "api-7cb")])


def test_multi_nic_shape_compact_line() -> None:
    text = json.dumps({"0": infos(5, 4, [PRIMARY, SECONDARY])}, separators=(",", ":"))
    parsed = parse_enis(numbered(text))
    assert parsed["valid"] is True
    assert parsed["format"] == "multi-nic"
    assert (parsed["total_ips"], parsed["assigned_ips"], parsed["eni_count"]) == (5, 4, 2)
    (card,) = parsed["network_cards"]
    assert card["network_card"] == "0"
    assert card["line"] == 1
    assert '"TotalIPs":5,"AssignedIPs":4' in card["evidence"]
    first = card["enis"][0]
    assert first == {
        "id": "eni-0a1b2c3d4e5f60718",
        "is_primary": True,
        "is_trunk": False,
        "is_efa": False,
        "device_number": 0,
        "subnet_id": "subnet-0abc1234def567890",
        "route_table_id": 254,
        "ip_count": 3,
        "assigned_count": 2,
        "prefix_count": 0,
        "assigned": [
            {"ip": "192.168.40.17", "pod": "default/coredns-6b9575c64c-4x2lm"},
            {"ip": "192.168.40.19", "pod": "default/web-5d8c7"},
        ],
    }


def test_multi_nic_two_cards_each_with_its_own_line() -> None:
    doc = {"0": infos(3, 2, [PRIMARY]), "1": infos(2, 2, [SECONDARY])}
    parsed = parse_enis(numbered(json.dumps(doc, indent=2)))
    cards = parsed["network_cards"]
    assert [c["network_card"] for c in cards] == ["0", "1"]
    assert (parsed["total_ips"], parsed["assigned_ips"]) == (5, 4)
    assert cards[0]["line"] < cards[1]["line"]
    assert cards[1]["evidence"].strip() == '"TotalIPs": 2,'


def test_eniinfos_object_shape() -> None:
    parsed = parse_enis(numbered(json.dumps(infos(3, 2, [PRIMARY]))))
    assert parsed["format"] == "eniinfos"
    assert (parsed["total_ips"], parsed["assigned_ips"], parsed["eni_count"]) == (3, 2, 1)


def test_long_line_evidence_is_a_marked_window() -> None:
    many = eni("eni-0a1b2c3d4e5f60718", 0, [(f"192.168.40.{i}", f"pod-{i}") for i in range(1, 200)], primary=True)
    text = json.dumps({"0": infos(199, 199, [many])})
    card = parse_enis(numbered(text))["network_cards"][0]
    assert len(card["evidence"]) < 400
    assert card["evidence"].endswith("…")
    assert '"TotalIPs": 199' in card["evidence"]


def test_prefix_delegation_counts_prefix_addresses() -> None:
    prefixed = {
        "ID": "eni-1",
        "IsPrimary": True,
        "DeviceNumber": 0,
        "AvailableIPv4Cidrs": {
            "192.168.40.16/28": {
                "Cidr": {"IP": "192.168.40.16", "Mask": "////8A=="},
                "IPAddresses": {"192.168.40.17": ip_entry("192.168.40.17", "a")},
                "IsPrefix": True,
                "AddressFamily": "4",
            }
        },
    }
    parsed = parse_enis(numbered(json.dumps({"0": {"TotalIPs": 16, "AssignedIPs": 1, "ENIs": {"eni-1": prefixed}}})))
    summary = parsed["network_cards"][0]["enis"][0]
    assert (summary["ip_count"], summary["assigned_count"], summary["prefix_count"]) == (16, 1, 1)


def test_old_eniippools_shape() -> None:
    doc = {
        "AssignedIPs": 2,
        "ENIIPPools": {
            "eni-0248f7351c1dab6b4": {
                "AssignedIPv4Addresses": 2,
                "DeviceNumber": 2,
                "IPv4Addresses": {
                    "192.168.134.93": {"Assigned": True},
                    "192.168.135.243": {"Assigned": True},
                    "192.168.137.75": {"Assigned": False},
                },
                "Id": "eni-0248f7351c1dab6b4",
                "IsPrimary": False,
            }
        },
        "TotalIPs": 3,
    }
    parsed = parse_enis(numbered(json.dumps(doc, indent=4)))
    assert parsed["format"] == "eniippools"
    assert (parsed["total_ips"], parsed["assigned_ips"]) == (3, 2)
    summary = parsed["network_cards"][0]["enis"][0]
    assert (summary["id"], summary["ip_count"], summary["assigned_count"]) == ("eni-0248f7351c1dab6b4", 3, 2)
    assert '"TotalIPs": 3' in parsed["network_cards"][0]["evidence"]


@pytest.mark.parametrize(
    ("text", "error_start"),
    [
        ("", "empty"),
        ("404 page not found", "not JSON"),
        ('{"0":{"TotalIPs":28,"Assig', "invalid JSON"),
        ('{"AvailableCommands":["/v1/enis","/v1/eni-configs"]}', "unrecognised"),
        ("[]", "not a JSON object"),
    ],
)
def test_curl_failures_are_invalid_not_raised(text: str, error_start: str) -> None:
    parsed = parse_enis(numbered(text))
    assert parsed["valid"] is False
    assert parsed["error"].startswith(error_start)
    assert parsed["network_cards"] == []
    assert parsed["total_ips"] is None


METRICS = """\
# HELP awscni_add_ip_req_count The number of add IP address requests
# TYPE awscni_add_ip_req_count counter
awscni_add_ip_req_count 31
# HELP awscni_assigned_ip_addresses The number of IP addresses assigned
# TYPE awscni_assigned_ip_addresses gauge
awscni_assigned_ip_addresses 27
# HELP awscni_aws_api_error_count The number of times AWS API returns an error
# TYPE awscni_aws_api_error_count counter
awscni_aws_api_error_count{api="AssignPrivateIpAddresses",error="InsufficientFreeAddressesInSubnet"} 12
awscni_aws_api_error_count{api="CreateNetworkInterface",error="InsufficientFreeAddressesInSubnet"} 3
# HELP awscni_aws_api_latency_ms AWS API call latency in ms
# TYPE awscni_aws_api_latency_ms summary
awscni_aws_api_latency_ms{api="DescribeInstances",error="false",status="200",quantile="0.5"} NaN
awscni_aws_api_latency_ms_sum{api="DescribeInstances",error="false",status="200"} 912
awscni_aws_api_latency_ms_count{api="DescribeInstances",error="false",status="200"} 4
# TYPE awscni_build_info gauge
awscni_build_info{goversion="go1.22.5",version="v1.19.2"} 1
# TYPE awscni_eni_allocated gauge
awscni_eni_allocated 3
# TYPE awscni_eni_max gauge
awscni_eni_max 3
# TYPE awscni_ip_max gauge
awscni_ip_max 27
# TYPE awscni_total_ip_addresses gauge
awscni_total_ip_addresses 27
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
"""


def test_metrics_awscni_values() -> None:
    parsed = parse_metrics(numbered(METRICS))
    assert parsed["kind"] == "ipamd-metrics"
    assert parsed["valid"] is True
    metrics = parsed["metrics"]
    assert metrics["awscni_assigned_ip_addresses"] == 27
    assert metrics["awscni_total_ip_addresses"] == 27
    assert metrics["awscni_eni_allocated"] == metrics["awscni_eni_max"] == 3
    assert metrics["awscni_aws_api_error_count"] == 15
    assert metrics["awscni_aws_api_latency_ms_sum"] == 912
    assert "awscni_aws_api_latency_ms" not in metrics  # NaN quantile skipped
    assert "go_goroutines" not in metrics
    assert parsed["other_samples"] == 1


def test_metrics_keep_labelled_series_and_sample_lines() -> None:
    parsed = parse_metrics(numbered(METRICS))
    series = parsed["series"]["awscni_aws_api_error_count"]
    assert series['{api="CreateNetworkInterface",error="InsufficientFreeAddressesInSubnet"}'] == 3
    assert parsed["samples"]["awscni_assigned_ip_addresses"] == {
        "line": 6,
        "text": "awscni_assigned_ip_addresses 27",
    }


def test_metrics_legacy_names_are_mapped() -> None:
    text = "# TYPE assigned_ip_addresses gauge\nassigned_ip_addresses 46\neni_allocated 4\neni_max 4\n"
    metrics = parse_metrics(numbered(text))["metrics"]
    assert metrics == {"awscni_assigned_ip_addresses": 46, "awscni_eni_allocated": 4, "awscni_eni_max": 4}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty"),
        ("curl: (7) Failed to connect to localhost port 61678", "not Prometheus text: curl: (7)"),
    ],
)
def test_metrics_curl_failure(text: str, error: str) -> None:
    parsed = parse_metrics(numbered(text))
    assert parsed["valid"] is False
    assert parsed["error"].startswith(error)
    assert parsed["metrics"] == {}


def test_metrics_scientific_notation() -> None:
    assert parse_metrics([(1, "awscni_total_ip_addresses 2.7e+01")])["metrics"] == {"awscni_total_ip_addresses": 27}


CHECKPOINT = {
    "version": "vpc-cni-ipam/1",
    "allocations": [
        {
            "networkName": "aws-cni",
            "containerID": "9b2e5c0f",
            "ifName": "eth0",
            "ipv4": "192.168.52.201",
            "allocationTimestamp": 1741284130515312001,
            "metadata": {"k8sPodNamespace": "default", "k8sPodName": "web-5d8c7"},
        },
        {
            "networkName": "aws-cni",
            "containerID": "4be2a1f0",
            "ifName": "eth0",
            "ipv4": "192.168.40.17",
            "allocationTimestamp": 1741284112331000000,
            "metadata": {"k8sPodNamespace": "kube-system", "k8sPodName": "coredns-6b9575c64c-4x2lm"},
        },
        {"networkName": "aws-cni", "containerID": "77", "ifName": "eth0", "ipv4": "192.168.40.19"},
    ],
}


def test_checkpoint_counts_allocations() -> None:
    parsed = parse_checkpoint(numbered(json.dumps(CHECKPOINT)))
    assert parsed == {
        "kind": "ipamd-checkpoint",
        "valid": True,
        "error": None,
        "version": "vpc-cni-ipam/1",
        "allocation_count": 3,
        "ipv4_count": 3,
        "ipv6_count": 0,
        "namespaces": {"(unknown)": 1, "default": 1, "kube-system": 1},
        "allocations": [
            {"ip": "192.168.52.201", "pod": "default/web-5d8c7", "container": "9b2e5c0f"},
            {"ip": "192.168.40.17", "pod": "kube-system/coredns-6b9575c64c-4x2lm", "container": "4be2a1f0"},
            {"ip": "192.168.40.19", "pod": None, "container": "77"},
        ],
    }


@pytest.mark.parametrize("text", ["", "{}", '{"version":"vpc-cni-ipam/1","allocations":null}', "garbage"])
def test_checkpoint_without_allocations_is_invalid(text: str) -> None:
    parsed = parse_checkpoint(numbered(text))
    assert parsed["valid"] is False
    assert parsed["allocation_count"] == 0


def test_networkutils_env_settings_map() -> None:
    text = (
        '{"AWS_EXTERNAL_SERVICE_CIDRS":null,"AWS_VPC_CNI_NODE_PORT_SUPPORT":true,"AWS_VPC_ENI_MTU":9001,'
        '"AWS_VPC_K8S_CNI_CONNMARK":128,"AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS":["10.0.0.0/8"],'
        '"AWS_VPC_K8S_CNI_EXTERNALSNAT":false,"AWS_VPC_K8S_CNI_RANDOMIZESNAT":2,"AWS_VPC_K8S_CNI_VETHPREFIX":"eni"}'
    )
    parsed = parse_networkutils_env(numbered(text))
    assert parsed["kind"] == "networkutils-env-settings"
    assert parsed["valid"] is True
    settings = parsed["settings"]
    assert settings["AWS_VPC_ENI_MTU"] == 9001
    assert settings["AWS_VPC_K8S_CNI_EXTERNALSNAT"] is False
    assert settings["AWS_EXTERNAL_SERVICE_CIDRS"] is None
    assert settings["AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS"] == '["10.0.0.0/8"]'


def test_ipamd_env_settings_map() -> None:
    text = (
        '{"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG":false,"ENABLE_SUBNET_DISCOVERY":true,'
        '"WARM_ENI_TARGET":1,"WARM_IP_TARGET":0}'
    )
    parsed = parse_ipamd_env(numbered(text))
    assert parsed == {
        "kind": "ipamd-env-settings",
        "valid": True,
        "error": None,
        "settings": {
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": False,
            "ENABLE_SUBNET_DISCOVERY": True,
            "WARM_ENI_TARGET": 1,
            "WARM_IP_TARGET": 0,
        },
    }


@pytest.mark.parametrize("text", ["", "curl: (28) Operation timed out", "[1]"])
def test_env_settings_failure(text: str) -> None:
    parsed = parse_ipamd_env(numbered(text))
    assert (parsed["valid"], parsed["settings"]) == (False, {})
    assert parsed["error"]


def test_read_json_ignores_trailing_text_after_the_document() -> None:
    doc = read_json(numbered('{"a": 1}\n{"a": 2}\n'))
    assert doc.data == {"a": 1}
    assert doc.error is None


def test_read_json_line_lookup_with_non_one_start() -> None:
    doc = read_json([(10, "{"), (11, '  "k": 1'), (12, "}")])
    offset = doc.text.index('"k"')
    assert doc.line_at(offset) == 11
    assert doc.line_text(11) == '  "k": 1'


def test_oversized_document_is_refused_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import eksdiag.engine.parsers.ipamd as ipamd

    monkeypatch.setattr(ipamd, "MAX_JSON_CHARS", 64)
    text = json.dumps({"0": infos(5, 5, [PRIMARY, SECONDARY])}, indent=1)
    parsed = parse_enis(numbered(text))
    assert (parsed["valid"], parsed["error"], parsed["network_cards"]) == (False, "too large", [])
