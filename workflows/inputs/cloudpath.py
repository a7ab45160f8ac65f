"""Cloudpath DPSK export JSON: `{metadata, pool: {...}, dpsks: [...]}` or a bare `dpsks` array.

Field names follow the export (camelCase aliases); Python names are snake_case.
Unknown keys are tolerated (exports vary); required ones are checked:
`pool.displayName`, and each passphrase's `name` and `passphrase`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic_core import PydanticCustomError

from engine.bounds import MAX_UNITS_PER_JOB

from .errors import ErrorCollector, Where, add_validation_errors, type_name
from .jsondoc import JsonDoc, format_path
from .models import check_vlan
from .source import Source, read_source

NAME_MAX = 255
_ZONED = re.compile(r"(?P<local>[^\[\]]+?)(?:\[(?P<zone>[^\[\]]+)\])?")


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("cloudpath", message)


def parse_zoned_datetime(value: Any) -> datetime | None:
    """'2026-06-15T00:00-07:00[America/Denver]' -> aware datetime in that zone.

    Like Java's ZonedDateTime: the zone wins; the offset only picks between the
    two readings of an ambiguous (DST fold) local time. Without a `[Zone]`,
    the offset is required. None/'' -> None.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _fail("must include a UTC offset or a [Zone]")
        return value
    if not isinstance(value, str):
        raise _fail("must be a date-time string")
    match = _ZONED.fullmatch(value.strip())
    if match is None:
        raise _fail("must be an ISO date-time, e.g. 2026-06-15T00:00-07:00[America/Denver]")
    try:
        moment = datetime.fromisoformat(match["local"])
    except ValueError:
        raise _fail(
            "must be an ISO date-time, e.g. 2026-06-15T00:00-07:00[America/Denver]"
        ) from None
    zone_name = match["zone"]
    if zone_name is None:
        if moment.tzinfo is None:
            raise _fail("must include a UTC offset or a [Zone]")
        return moment
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _fail(f"unknown time zone {zone_name!r}") from None
    offset = moment.utcoffset()
    local = moment.replace(tzinfo=None)
    for fold in (0, 1):
        candidate = local.replace(tzinfo=zone, fold=fold)
        if offset is None or candidate.utcoffset() == offset:
            return candidate
    return local.replace(tzinfo=zone)


def _int_like(value: Any) -> Any:
    """Counts may come as numbers or digit strings; '' / null -> None."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if re.fullmatch(r"[0-9]{1,9}", text):
            return int(text)
        raise _fail("must be a whole number")
    return value


def _bool_like(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _list_or_empty(value: Any) -> Any:
    return [] if value is None else value


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("must be a string")
    text = value.strip()
    if not text:
        raise _fail("must not be empty")
    if len(text) > NAME_MAX:
        raise _fail(f"must be at most {NAME_MAX} characters")
    if not all(ch.isprintable() for ch in text):
        raise _fail("must not contain control characters")
    return text


def _passphrase(value: Any) -> SecretStr:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise _fail("must be a string")
    if not value:
        raise _fail("must not be empty")
    if not value.isprintable():
        raise _fail("must not contain control characters")
    return SecretStr(value)


def _vlan(value: Any) -> int | None:
    try:
        return check_vlan(value)
    except PydanticCustomError:
        raise _fail("must be a VLAN id 1-4094, or empty") from None


NonNegative = Annotated[int, Field(ge=0)]
Count = Annotated[NonNegative | None, BeforeValidator(_int_like)]
Flag = Annotated[bool, BeforeValidator(_bool_like)]
SsidList = Annotated[list[str], BeforeValidator(_list_or_empty)]
_CONFIG = ConfigDict(
    strict=True,
    extra="ignore",
    frozen=True,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    hide_input_in_errors=True,
)


class CloudpathPool(BaseModel):
    """The exported DPSK pool's settings."""

    model_config = _CONFIG

    display_name: Annotated[str, BeforeValidator(_name)] = Field(
        alias="displayName",
        description="The pool's name in Cloudpath (1-255 characters); the R1 DPSK pool's "
        "name unless options.pool_name says otherwise.",
    )
    description: str | None = Field(
        default=None, description="The pool's free-text description (informational)."
    )
    phrase_default_length: Count = Field(
        default=None,
        alias="phraseDefaultLength",
        description="Length of generated passphrases (a whole number, e.g. 12); null: "
        "options.passphrase_length.",
    )
    phrase_random_characters_type: str | None = Field(
        default=None,
        alias="phraseRandomCharactersType",
        description="Cloudpath's character set of generated passphrases, e.g. "
        '"ALPHANUMERIC_MIXED" (informational; options.passphrase_format decides in R1).',
    )
    ssid_list: SsidList = Field(
        default_factory=list,
        alias="ssidList",
        description="SSIDs the pool served in Cloudpath (informational; a list of names).",
    )
    enforce_expiration_date: Flag = Field(
        default=False,
        alias="enforceExpirationDate",
        description="Whether the pool's passphrases expire (true/false, or the text).",
    )
    expiration_date_type: str | None = Field(
        default=None,
        alias="expirationDateType",
        description='How expiry is counted in Cloudpath, e.g. "SPECIFIED_DATE" (Cloudpath value).',
    )
    expiration_date_value: int | str | None = Field(
        default=None,
        alias="expirationDateValue",
        description="The expiry amount or date that goes with expirationDateType.",
    )
    enforce_device_count_limit: Flag = Field(
        default=False,
        alias="enforceDeviceCountLimit",
        description="Whether the pool limits devices per passphrase (true/false).",
    )
    device_count_limit: Count = Field(
        default=None,
        alias="deviceCountLimit",
        description="Devices allowed per passphrase (a whole number), used when "
        "enforceDeviceCountLimit and options.device_limit is not set; null: unlimited.",
    )
    default_access: str | None = Field(
        default=None,
        alias="defaultAccess",
        description='Cloudpath\'s default access policy, e.g. "ACCEPT" (informational).',
    )


class CloudpathPassphrase(BaseModel):
    """One exported DPSK passphrase (the secret is a SecretStr)."""

    model_config = _CONFIG

    guid: str | None = Field(
        default=None,
        description="The passphrase's Cloudpath id (unique in the export when given).",
    )
    name: Annotated[str, BeforeValidator(_name)] = Field(
        description="The passphrase's user name, unique in the export (1-255 printable "
        'characters, e.g. "unit-101"): the R1 passphrase username and the unit\'s key.'
    )
    passphrase: Annotated[SecretStr, BeforeValidator(_passphrase)] = Field(
        description="The passphrase itself (printable, non-empty). Secret: stored sealed, "
        "never echoed."
    )
    status: str | None = Field(
        default=None,
        description='Cloudpath status, e.g. "ACTIVE" or "REVOKED"; REVOKED passphrases are '
        "skipped unless options.include_revoked.",
    )
    ssid_list: SsidList = Field(
        default_factory=list,
        alias="ssidList",
        description="SSIDs the passphrase was valid on in Cloudpath (informational).",
    )
    expiration_date_time: Annotated[datetime | None, BeforeValidator(parse_zoned_datetime)] = Field(
        default=None,
        alias="expirationDateTime",
        description="When the passphrase expires: an ISO date-time with a UTC offset or a "
        '[Zone], e.g. "2026-06-15T00:00-07:00[America/Denver]"; null or empty: never.',
    )
    use_device_count_limit: Flag = Field(
        default=False,
        alias="useDeviceCountLimit",
        description="Whether deviceCountLimit applies to this passphrase (true/false).",
    )
    device_count_limit: Count = Field(
        default=None,
        alias="deviceCountLimit",
        description="Devices allowed on this passphrase (a whole number), used when "
        "useDeviceCountLimit; otherwise the pool's limit applies.",
    )
    device_count: Count = Field(
        default=None,
        alias="deviceCount",
        description="Devices using it at export time (informational).",
    )
    vlan_id: Annotated[int | None, BeforeValidator(_vlan)] = Field(
        default=None,
        alias="vlanid",
        description="VLAN id 1-4094 assigned to this passphrase's devices; null or empty: "
        "the network's VLAN.",
    )


class CloudpathExport(BaseModel):
    """A whole export; `pool` is None when the file was a bare array of passphrases."""

    model_config = _CONFIG

    metadata: dict[str, Any] | None = Field(
        default=None, description="The export's metadata object (informational)."
    )
    pool: CloudpathPool | None = Field(
        default=None, description="The exported pool's settings; null for a bare array."
    )
    dpsks: list[CloudpathPassphrase] = Field(description="The exported passphrases.")


SECRET_CLOUDPATH_FIELDS = frozenset({"passphrase"})


def _validate_item(
    model: type[BaseModel],
    item: Any,
    path: tuple[str | int, ...],
    doc_locate: Any,
    errors: ErrorCollector,
) -> Any:
    if not isinstance(item, dict):
        where, label = doc_locate(path)
        errors.add(where, label, f"must be an object, got {type_name(item)}")
        return None
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        add_validation_errors(
            errors,
            exc,
            lambda loc: doc_locate((*path, *loc)),
            secret_fields=SECRET_CLOUDPATH_FIELDS,
        )
        return None


def cloudpath_from_data(data: Any, errors: ErrorCollector, locate: Any) -> CloudpathExport:
    """Validate a decoded export (object or bare array); all problems in one InputError."""
    pool: CloudpathPool | None = None
    metadata: dict[str, Any] | None = None
    base: tuple[str | int, ...] = ()
    if isinstance(data, dict):
        if "dpsks" not in data:
            where, _ = locate(())
            errors.fail(where, "dpsks", "required (the list of passphrases)")
        if "pool" in data and data["pool"] is not None:
            pool = _validate_item(CloudpathPool, data["pool"], ("pool",), locate, errors)
        raw_meta = data.get("metadata")
        if raw_meta is not None and not isinstance(raw_meta, dict):
            where, label = locate(("metadata",))
            errors.add(where, label, f"must be an object, got {type_name(raw_meta)}")
        metadata = raw_meta if isinstance(raw_meta, dict) else None
        base, data = ("dpsks",), data["dpsks"]
    if not isinstance(data, list):
        where, label = locate(base)
        expected = "a list of passphrases" if base else "an export object or a list of passphrases"
        errors.fail(where, label, f"expected {expected}, got {type_name(data)}")
    if not data:
        where, label = locate(base)
        errors.fail(where, label, "no passphrases")
    if len(data) > MAX_UNITS_PER_JOB:  # one unit each
        where, label = locate(base)
        errors.fail(where, label, f"{len(data)} passphrases; at most {MAX_UNITS_PER_JOB} per job")
    passphrases: list[CloudpathPassphrase] = []
    names: dict[str, str] = {}
    guids: dict[str, str] = {}
    for index, item in enumerate(data):
        path = (*base, index)
        entry = _validate_item(CloudpathPassphrase, item, path, locate, errors)
        ok = entry is not None
        if isinstance(item, dict):
            ref = _ref(locate, path)
            name, guid = item.get("name"), item.get("guid")
            if isinstance(name, str) and name.strip():
                ok &= _unique(name.strip(), names, ref, (*path, "name"), "name", locate, errors)
            if isinstance(guid, str) and guid:
                ok &= _unique(guid, guids, ref, (*path, "guid"), "guid", locate, errors)
        if ok and entry is not None:
            passphrases.append(entry)
    errors.raise_if_any()
    return CloudpathExport(metadata=metadata, pool=pool, dpsks=passphrases)


def _ref(locate: Any, path: tuple[str | int, ...]) -> str:
    where, label = locate(path)
    return label + (f", line {where.line}" if where.line else "")


def _unique(
    value: str,
    seen: dict[str, str],
    ref: str,
    path: tuple[str | int, ...],
    what: str,
    locate: Any,
    errors: ErrorCollector,
) -> bool:
    if value not in seen:
        seen[value] = ref
        return True
    where, label = locate(path)
    errors.add(where, label, f"duplicate {what} (first at {seen[value]})", value=value)
    return False


def parse_cloudpath_json(
    path_or_text: Source, *, source_name: str | None = None
) -> CloudpathExport:
    """Parse and validate a Cloudpath DPSK export; every problem in one InputError."""
    text, source = read_source(path_or_text, source_name)
    doc = JsonDoc(text, source)
    return cloudpath_from_data(doc.data, ErrorCollector(source), doc.locate)


def validate_cloudpath(data: Any, *, source_name: str = "export") -> CloudpathExport:
    """Validate an already-decoded export (e.g. JSON-RPC params)."""

    def locate(path: Any) -> tuple[Where, str]:
        return Where(source_name), format_path(path)

    return cloudpath_from_data(data, ErrorCollector(source_name), locate)
