"""Property tests: malformed or random CSV/JSON gives valid units or a clean,
located InputError; never another exception, never a secret in a message."""

from __future__ import annotations

import csv
import io
import json
import re
import string
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InputError
from workflows.inputs import (
    CloudpathExport,
    UnitInput,
    load_units,
    parse_cloudpath_json,
    parse_units_csv,
    parse_units_json,
    validate_units,
)
from workflows.inputs.samples import sample_cloudpath_data
from workflows.inputs.writers import units_to_csv

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DETAIL = re.compile(r"^(?P<src>fuzz\.(csv|json))(?P<line>:\d+(:\d+)?)? (?P<field>.+?): .+")
MORE = re.compile(r"^\.\.\. and \d+ more error\(s\) not shown$")
MARK = "ZqX7"  # every generated secret carries it; nothing else does


def outcome(parse: Callable[[], Any]) -> InputError | Any:
    """Run a parser: its result, or the InputError it raised (anything else fails)."""
    try:
        return parse()
    except InputError as exc:
        return exc


def assert_clean(error: InputError, *, secrets: list[str], need_line: bool) -> None:
    assert error.details, "an InputError must carry details"
    for detail in error.details:
        if MORE.match(detail):
            continue
        match = DETAIL.match(detail)
        assert match, f"badly formed detail: {detail!r}"
        if need_line:
            assert match["line"] or match["field"] in ("file", "json", "$"), detail
    text = str(error) + repr(error.details)
    for secret in secrets:  # whole, or what is left of it after a corruption
        assert secret not in text and MARK not in text, f"secret leaked in: {text}"


def check(result: Any, *, secrets: list[str] | None = None, need_line: bool = True) -> None:
    """`result` is valid units / an export, or a clean InputError without `secrets`."""
    if isinstance(result, InputError):
        assert_clean(result, secrets=secrets or [], need_line=need_line)
    elif isinstance(result, CloudpathExport):
        assert result.dpsks
    else:
        assert isinstance(result, list) and result
        assert all(isinstance(unit, UnitInput) for unit in result)


# --- strategies ---------------------------------------------------------------

secret_text = st.text(
    alphabet=string.ascii_letters + string.digits + " !#$%&()*+-./:<=>?@[]^_{|}~,;\"'\té\n",
    max_size=70,
).map(lambda s: MARK + s)

valid_secret = secret_text.filter(
    lambda s: 8 <= len(s) <= 63 and s == s.strip() and all(" " <= c <= "~" for c in s)
)
csv_noise = st.text(alphabet=',;"\r\n \t\ufeffaAbZ09-_/\\x\x00é', max_size=200)
header_names = st.sampled_from(
    [
        "unit_number",
        "ap_identifiers",
        "ap_serial_or_name",
        "ssid_name",
        "ssid_password",
        "security_type",
        "default_vlan",
        " Unit Number ",
        "color",
        "",
    ]
)


@st.composite
def unit_rows(draw: st.DrawFn) -> tuple[list[UnitInput], list[str]]:
    """Valid units (secrets marked) to be written out and then corrupted."""
    count = draw(st.integers(1, 6))
    units, secrets = [], []
    for index in range(count):
        password = draw(st.one_of(st.none(), valid_secret))
        if password is not None:
            secrets.append(password)
        units.append(
            UnitInput(
                unit_number=str(100 + index),
                ap_serials=[f"92100000{index:02d}{j:02d}" for j in range(draw(st.integers(0, 3)))],
                ssid_name=draw(st.sampled_from(["Unit", "Résidence", "a b", "x" * 32])),
                ssid_password=password,
                security_type=draw(st.sampled_from(["WPA2", "WPA3", "WPA2/WPA3"])),
                default_vlan=draw(st.one_of(st.none(), st.integers(1, 4094))),
            )
        )
    return units, secrets


@st.composite
def mutated(draw: st.DrawFn, text: str, max_edits: int = 1) -> str:
    """Apply 1..max_edits random edits: delete/insert/replace a char, drop/swap/dup lines."""
    for _ in range(draw(st.integers(1, max_edits))):
        kind = draw(st.sampled_from(["del", "ins", "rep", "drop", "swap", "dup", "cut"]))
        lines = text.split("\n")
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        char = draw(st.sampled_from(list(',;"\n\r \t{}[]:x0\\\ufeff')))
        if kind == "del":
            text = text[:pos] + text[pos + 1 :]
        elif kind == "ins":
            text = text[:pos] + char + text[pos:]
        elif kind == "rep":
            text = text[:pos] + char + text[pos + 1 :]
        elif kind == "cut":
            text = text[:pos]
        else:
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if kind == "drop":
                del lines[i]
            elif kind == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
unit_keys = st.sampled_from(
    [
        "unit_number",
        "ap_identifiers",
        "ap_serials",
        "ssid_name",
        "ssid_password",
        "security_type",
        "default_vlan",
        "extra",
    ]
)
near_units = st.lists(st.dictionaries(unit_keys, json_values, max_size=7), max_size=5)
dpsk_keys = st.sampled_from(
    [
        "guid",
        "name",
        "passphrase",
        "status",
        "ssidList",
        "expirationDateTime",
        "useDeviceCountLimit",
        "deviceCountLimit",
        "deviceCount",
        "vlanid",
        "other",
    ]
)
near_dpsks = st.lists(st.dictionaries(dpsk_keys, json_values, max_size=10), max_size=5)


# --- CSV ----------------------------------------------------------------------


@FUZZ
@given(body=csv_noise, header=st.lists(header_names, max_size=8), with_header=st.booleans())
def test_random_csv_never_crashes(body: str, header: list[str], with_header: bool) -> None:
    text = (",".join(header) + "\n" + body) if with_header else body
    check(outcome(lambda: parse_units_csv(text, source_name="fuzz.csv")))


@FUZZ
@given(data=st.data(), units=unit_rows(), one_per_row=st.booleans())
def test_corrupted_csv_is_clean_and_never_leaks(
    data: st.DataObject, units: tuple[list[UnitInput], list[str]], one_per_row: bool
) -> None:
    original, secrets = units
    text = units_to_csv(original, one_ap_per_row=one_per_row)
    assert parse_units_csv(text) == original
    broken = data.draw(mutated(text))
    check(outcome(lambda: parse_units_csv(broken, source_name="fuzz.csv")), secrets=secrets)


@FUZZ
@given(data=st.data(), passwords=st.lists(secret_text, min_size=1, max_size=5))
def test_bad_passwords_in_csv_never_leak(data: st.DataObject, passwords: list[str]) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(units_to_csv([]).strip().split(","))
    for index, password in enumerate(passwords):
        writer.writerow([100 + index, f"abc{index:03d}", "S", password, "WPA2", "7"])
    text = out.getvalue()
    if data.draw(st.booleans()):
        text = data.draw(mutated(text))
    check(outcome(lambda: parse_units_csv(text, source_name="fuzz.csv")), secrets=passwords)


@FUZZ
@given(data=st.data(), units=unit_rows())
def test_heavily_corrupted_csv_is_clean(
    data: st.DataObject, units: tuple[list[UnitInput], list[str]]
) -> None:
    broken = data.draw(mutated(units_to_csv(units[0]), max_edits=6))
    encoded = broken.encode("utf-8", "surrogatepass")
    check(outcome(lambda: parse_units_csv(encoded, source_name="fuzz.csv")))


@FUZZ
@given(raw=st.binary(max_size=200))
def test_random_bytes_never_crash(raw: bytes) -> None:
    check(outcome(lambda: parse_units_csv(raw, source_name="fuzz.csv")))
    check(outcome(lambda: parse_units_json(raw, source_name="fuzz.json")))


# --- JSON ---------------------------------------------------------------------


@FUZZ
@given(value=json_values, wrap=st.booleans())
def test_random_json_never_crashes(value: Any, wrap: bool) -> None:
    text = json.dumps({"units": value} if wrap else value)
    check(outcome(lambda: parse_units_json(text, source_name="fuzz.json")))
    check(outcome(lambda: parse_cloudpath_json(text, source_name="fuzz.json")))
    check(outcome(lambda: validate_units(value, source_name="fuzz.json")), need_line=False)


@FUZZ
@given(items=near_units, password=secret_text, index=st.integers(0, 4))
def test_near_valid_unit_json_never_leaks(
    items: list[dict[str, Any]], password: str, index: int
) -> None:
    if items:
        items[index % len(items)]["ssid_password"] = password
    text = json.dumps(items, indent=1)
    check(outcome(lambda: parse_units_json(text, source_name="fuzz.json")), secrets=[password])


@FUZZ
@given(items=near_dpsks, passphrase=secret_text, index=st.integers(0, 4), bare=st.booleans())
def test_near_valid_cloudpath_never_leaks(
    items: list[dict[str, Any]], passphrase: str, index: int, bare: bool
) -> None:
    for item in items:
        item.setdefault("name", f"n{id(item)}")
    if items:
        items[index % len(items)]["passphrase"] = passphrase
    doc: Any = items if bare else {"metadata": {}, "pool": {"displayName": "P"}, "dpsks": items}
    text = json.dumps(doc, indent=1)
    check(
        outcome(lambda: parse_cloudpath_json(text, source_name="fuzz.json")), secrets=[passphrase]
    )


@FUZZ
@given(data=st.data(), units=unit_rows())
def test_corrupted_unit_json_is_clean_and_never_leaks(
    data: st.DataObject, units: tuple[list[UnitInput], list[str]]
) -> None:
    original, secrets = units
    text = json.dumps(
        [
            {
                "unit_number": u.unit_number,
                "ap_identifiers": u.ap_serials,
                "ssid_name": u.ssid_name,
                "ssid_password": u.ssid_password.get_secret_value() if u.ssid_password else None,
                "default_vlan": u.default_vlan,
            }
            for u in original
        ],
        indent=1,
    )
    broken = data.draw(mutated(text))
    check(outcome(lambda: load_units(broken, source_name="fuzz.json")), secrets=secrets)


@FUZZ
@given(data=st.data(), seed=st.integers(0, 1000))
def test_corrupted_cloudpath_is_clean_and_never_leaks(data: st.DataObject, seed: int) -> None:
    doc = sample_cloudpath_data(3, seed=seed)
    secrets = [entry["passphrase"] for entry in doc["dpsks"]]
    broken = data.draw(mutated(json.dumps(doc, indent=1)))
    check(outcome(lambda: parse_cloudpath_json(broken, source_name="fuzz.json")), secrets=secrets)
