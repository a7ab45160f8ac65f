"""Secrets (client secret, bearer token, passphrases) never reach logs, reprs or
exception text, at DEBUG, on success and on failure paths."""

from __future__ import annotations

import logging

import httpx
import pytest

from workflows.r1 import PassphraseRow, R1Error, R1TransientError
from workflows.r1.transport import redact

from .helpers import SECRET, TOKEN_PREFIX, MockR1

pytestmark = pytest.mark.anyio

PASSPHRASE = "very-secret-passphrase-42"


def leaks(text: str) -> list[str]:
    return [s for s in (SECRET, TOKEN_PREFIX, PASSPHRASE) if s in text]


def test_redact_masks_nested_secret_keys() -> None:
    body = {"name": "n", "wlan": {"ssid": "s", "passphrase": PASSPHRASE,
                                  "saePassphrase": PASSPHRASE},
            "rows": [{"passphrase": PASSPHRASE, "username": "u"}]}
    assert leaks(str(redact(body))) == []
    assert redact(body)["wlan"]["ssid"] == "s"


async def test_no_secret_in_logs_reprs_or_errors(
    mock_r1: MockR1, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mock_r1.on("POST", "/wifiNetworks", lambda r: httpx.Response(
        202, json={"requestId": "q1", "response": {"id": "n1"}}))
    mock_r1.on("POST", "/dpskServices/p1/passphrases", lambda r: httpx.Response(
        400, json={"message": "bad passphrase"}))
    mock_r1.on("POST", "/dpskServices/p1/passphrases/csvFiles", lambda r: httpx.Response(
        503, json={"message": "busy"}))
    errors: list[BaseException] = []
    async with make_client() as r1:
        accepted = await r1.create_wifi_network("net", "ssid", passphrase=PASSPHRASE)
        assert accepted.id == "n1" and accepted.request_id == "q1"
        try:
            await r1.create_passphrase("p1", PassphraseRow(username="u", passphrase=PASSPHRASE))
        except R1Error as exc:
            errors.append(exc)
        try:
            await r1.import_passphrases_csv("p1", [PassphraseRow(username="u",
                                                                 passphrase=PASSPHRASE)])
        except R1TransientError as exc:
            errors.append(exc)
        texts = [repr(r1), repr(r1.config), str(r1.config), repr(r1.auth),
                 repr(r1.auth.current), repr(r1.stats), repr(r1.activities)]
    assert len(errors) == 2
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [repr(PassphraseRow(username="u", passphrase=PASSPHRASE))]
    log_text = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "POST /wifiNetworks" in log_text  # requests are logged at DEBUG...
    assert "***" in log_text  # ...with the passphrase in the body redacted
    assert leaks(log_text) == []
    assert leaks("\n".join(texts)) == []
    # and the secret was really sent where it belonged
    sent = mock_r1.calls("POST", "/wifiNetworks")[0].content.decode()
    assert PASSPHRASE in sent
