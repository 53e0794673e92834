"""system/instance-id.txt, region.txt, availability-zone.txt."""

from __future__ import annotations

import pytest
from eksdiag.engine.parsers.metadata import parse_availability_zone, parse_instance_id, parse_region


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


@pytest.mark.parametrize("value", ["i-0123456789abcdef0", "i-049d185b673566680", "i-0a1b2c3d"])
def test_instance_id_valid(value: str) -> None:
    parsed = parse_instance_id(numbered(value + "\n"))
    assert parsed == {"kind": "instance-id", "value": value, "valid": True, "raw": value, "line": 1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "iid-datasource-none",
        "i-0123456789ABCDEF0",
        "i-0123",
        '<?xml version="1.0" encoding="iso-8859-1"?>\n<title>404 - Not Found</title>',
        "i-0123456789abcdef0\ni-0123456789abcdef1",
    ],
)
def test_instance_id_invalid_is_marked_not_raised(text: str) -> None:
    parsed = parse_instance_id(numbered(text))
    assert parsed["valid"] is False
    assert parsed["value"] is None


def test_instance_id_with_surrounding_whitespace() -> None:
    parsed = parse_instance_id([(1, ""), (2, "  i-0123456789abcdef0  ")])
    assert (parsed["value"], parsed["line"]) == ("i-0123456789abcdef0", 2)


@pytest.mark.parametrize("value", ["us-west-2", "eu-central-1", "ap-southeast-4", "us-gov-west-1", "cn-north-1"])
def test_region_valid(value: str) -> None:
    assert parse_region(numbered(value))["value"] == value


@pytest.mark.parametrize("text", ["", "us-west", "US-WEST-2", "us-west-2b", "curl: (28) Connection timed out"])
def test_region_invalid(text: str) -> None:
    parsed = parse_region(numbered(text))
    assert (parsed["kind"], parsed["valid"], parsed["value"]) == ("region", False, None)


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("us-west-2b", "us-west-2"),
        ("eu-west-1a", "eu-west-1"),
        ("us-west-2-lax-1a", "us-west-2"),
        ("us-east-1-wl1-bos-wlz-1", "us-east-1"),
    ],
)
def test_availability_zone_valid(value: str, region: str) -> None:
    parsed = parse_availability_zone(numbered(value))
    assert (parsed["value"], parsed["valid"], parsed["region"]) == (value, True, region)


@pytest.mark.parametrize("text", ["", "us-west-2", "usw2-az1", "404 - Not Found"])
def test_availability_zone_invalid(text: str) -> None:
    parsed = parse_availability_zone(numbered(text))
    assert (parsed["valid"], parsed["value"], parsed["region"]) == (False, None, None)
    assert parsed["raw"] == (text or None)
