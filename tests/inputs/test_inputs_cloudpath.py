"""Cloudpath DPSK export JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from workflows.inputs import (
    CloudpathPassphrase,
    parse_cloudpath_json,
    parse_zoned_datetime,
    validate_cloudpath,
)

Details = Callable[..., list[str]]
DENVER = ZoneInfo("America/Denver")


def test_good_export(data_dir: Path) -> None:
    export = parse_cloudpath_json(data_dir / "cloudpath_good.json")
    assert export.metadata == {"exportedBy": "Cloudpath 5.12", "exportDate": "2025-11-02T10:00:00Z"}
    pool = export.pool
    assert pool is not None
    assert pool.display_name == "Residents"
    assert pool.ssid_list == ["Residents", "Residents-5G"]
    assert pool.enforce_device_count_limit is True and pool.device_count_limit == 5
    first, second, third = export.dpsks
    assert first.name == "unit-101" and first.guid == "AccountAdmin-Pool-1-0001"
    assert first.passphrase.get_secret_value() == "kx7-Secret-101"
    assert first.vlan_id == 101 and second.vlan_id is None and third.vlan_id == 4094
    assert first.expiration_date_time == datetime(2026, 6, 15, tzinfo=DENVER)
    assert second.expiration_date_time is None
    assert third.expiration_date_time == datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert first.use_device_count_limit and first.device_count_limit == 3
    assert third.ssid_list == [] and third.status == "EXPIRED"


def test_bare_array(data_dir: Path) -> None:
    export = parse_cloudpath_json(data_dir / "cloudpath_bare.json")
    assert export.pool is None and export.metadata is None
    assert [d.name for d in export.dpsks] == ["alice", "bob"]
    moment = export.dpsks[0].expiration_date_time
    assert moment is not None and moment.utcoffset() == timedelta(hours=-6)  # MDT fold


def test_bad_export_all_errors_located(data_dir: Path, details_of: Details) -> None:
    details = details_of(parse_cloudpath_json, data_dir / "cloudpath_bad.json")
    assert details == [
        "cloudpath_bad.json:3 pool.displayName: required",
        "cloudpath_bad.json:6 dpsks[1].vlanid: must be a VLAN id 1-4094, or empty (got '5000')",
        "cloudpath_bad.json:6 dpsks[1].name: duplicate name (first at dpsks[0], line 5)"
        " (got 'unit-1')",
        "cloudpath_bad.json:6 dpsks[1].guid: duplicate guid (first at dpsks[0], line 5)"
        " (got 'g-1')",
        "cloudpath_bad.json:7 dpsks[2].passphrase: must not be empty (got '••••')",
        "cloudpath_bad.json:8 dpsks[2].expirationDateTime: unknown time zone 'Mars/Olympus'"
        " (got '2026-06-15T00:00[Mars/Olympus]')",
        "cloudpath_bad.json:9 dpsks[3].vlanid: must be a VLAN id 1-4094, or empty (got 'ten')",
        "cloudpath_bad.json:10 dpsks[3].expirationDateTime: must include a UTC offset or a"
        " [Zone] (got '2026-06-15')",
        "cloudpath_bad.json:10 dpsks[3].deviceCount: must be at least 0 (got -1)",
        "cloudpath_bad.json:11 dpsks[4].name: required",
        "cloudpath_bad.json:11 dpsks[4].passphrase: must be a string (got '••••')",
    ]
    assert "Hunter2" not in " ".join(details) and "12345678" not in " ".join(details)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"pool": {"displayName": "P"}}', "<input>:1 dpsks: required (the list of passphrases)"),
        ('{"dpsks": {}}', "<input>:1 dpsks: expected a list of passphrases, got an object"),
        ('{"dpsks": []}', "<input>:1 dpsks: no passphrases"),
        ("true", "<input>:1 $: expected an export object or a list of passphrases, got a boolean"),
        ('{"dpsks": [\n 1]}', "<input>:2 dpsks[0]: must be an object, got a number"),
        ('{"dpsks": [}', "<input>:1:12 json: invalid JSON: Expecting value"),
    ],
)
def test_malformed_exports(text: str, expected: str, details_of: Details) -> None:
    assert details_of(parse_cloudpath_json, text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The zone wins; local wall time is kept (Java ZonedDateTime semantics).
        ("2026-06-15T00:00-07:00[America/Denver]", datetime(2026, 6, 15, tzinfo=DENVER)),
        ("2026-06-15T00:00-06:00[America/Denver]", datetime(2026, 6, 15, tzinfo=DENVER)),
        ("2026-06-15T00:00[America/Denver]", datetime(2026, 6, 15, tzinfo=DENVER)),
        ("2026-06-15T08:30:00+02:00", datetime(2026, 6, 15, 6, 30, tzinfo=UTC)),
        ("2026-06-15T08:30Z", datetime(2026, 6, 15, 8, 30, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_zoned_datetimes(text: str | None, expected: datetime | None) -> None:
    assert parse_zoned_datetime(text) == expected


def test_zoned_datetime_offset_picks_dst_fold() -> None:
    early = parse_zoned_datetime("2026-11-01T01:30-06:00[America/Denver]")
    late = parse_zoned_datetime("2026-11-01T01:30-07:00[America/Denver]")
    assert early is not None and late is not None
    assert early.utcoffset() == timedelta(hours=-6) and late.utcoffset() == timedelta(hours=-7)
    assert isinstance(early.tzinfo, ZoneInfo) and early.tzinfo.key == "America/Denver"


@pytest.mark.parametrize(
    "text",
    ["2026-06-15", "2026-13-01T00:00Z", "tomorrow", "2026-06-15T00:00Z[]", "x[America/Denver]"],
)
def test_bad_zoned_datetimes(text: str) -> None:
    with pytest.raises(ValidationError):
        CloudpathPassphrase.model_validate(
            {"name": "n", "passphrase": "p", "expirationDateTime": text}
        )


def test_vlanid_forms() -> None:
    def vlan(value: object) -> int | None:
        return CloudpathPassphrase.model_validate(
            {"name": "n", "passphrase": "p", "vlanid": value}
        ).vlan_id

    assert vlan("") is None and vlan(None) is None and vlan(" ") is None
    assert vlan("12") == 12 and vlan(12) == 12
    for bad in ["0", "4095", "1.5", True]:
        with pytest.raises(ValidationError):
            vlan(bad)


def test_validate_cloudpath_for_params(details_of: Details) -> None:
    export = validate_cloudpath([{"name": "a", "passphrase": "secret-a"}])
    assert export.dpsks[0].name == "a"
    assert details_of(
        validate_cloudpath, {"dpsks": [{"name": "a", "passphrase": "secret-zz", "vlanid": "x"}]}
    ) == ["export dpsks[0].vlanid: must be a VLAN id 1-4094, or empty (got 'x')"]
