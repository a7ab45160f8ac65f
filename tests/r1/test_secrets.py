"""Secrets (client secret, bearer token, passphrases) never reach logs, reprs or
exception text, at DEBUG, on success and on failure paths."""

from __future__ import annotations

import logging

import httpx
import pytest

from workflows.r1 import PassphraseRow, R1AuthError, R1Error, R1TransientError
from workflows.r1.transport import redact
from workflows.sim import SimConfig, Simulator

from .helpers import SECRET, TOKEN_PREFIX, MockR1
from .simharness import SimTarget, serve, tracked

pytestmark = pytest.mark.anyio

PASSPHRASE = "very-secret-passphrase-42"


def leaks(text: str) -> list[str]:
    return [s for s in (SECRET, TOKEN_PREFIX, PASSPHRASE) if s in text]


def test_redact_masks_nested_secret_keys() -> None:
    body = {
        "name": "n",
        "wlan": {"ssid": "s", "passphrase": PASSPHRASE, "saePassphrase": PASSPHRASE},
        "rows": [{"passphrase": PASSPHRASE, "username": "u"}],
    }
    assert leaks(str(redact(body))) == []
    assert redact(body)["wlan"]["ssid"] == "s"


async def test_no_secret_in_logs_reprs_or_errors(
    mock_r1: MockR1, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    mock_r1.on(
        "POST",
        "/wifiNetworks",
        lambda r: httpx.Response(202, json={"requestId": "q1", "response": {"id": "n1"}}),
    )
    mock_r1.on(
        "POST",
        "/dpskServices/p1/passphrases",
        lambda r: httpx.Response(400, json={"message": "bad passphrase"}),
    )
    mock_r1.on(
        "POST",
        "/dpskServices/p1/passphrases/csvFiles",
        lambda r: httpx.Response(503, json={"message": "busy"}),
    )
    errors: list[BaseException] = []
    async with make_client() as r1:
        accepted = await r1.create_wifi_network("net", "ssid", passphrase=PASSPHRASE)
        assert accepted.id == "n1" and accepted.request_id == "q1"
        try:
            await r1.create_passphrase("p1", PassphraseRow(username="u", passphrase=PASSPHRASE))
        except R1Error as exc:
            errors.append(exc)
        try:
            await r1.import_passphrases_csv(
                "p1", [PassphraseRow(username="u", passphrase=PASSPHRASE)]
            )
        except R1TransientError as exc:
            errors.append(exc)
        texts = [
            repr(r1),
            repr(r1.config),
            str(r1.config),
            repr(r1.auth),
            repr(r1.auth.current),
            repr(r1.stats),
            repr(r1.activities),
        ]
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


async def test_no_secret_leaks_over_real_http(caplog: pytest.LogCaptureFixture) -> None:
    """The whole stack at DEBUG (ours, httpx, httpcore) against a live simulator."""
    client_secret = "zq-client-secret-5150"
    sim = Simulator(SimConfig(profile="instant", seed=3, client_secret=client_secret))
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with serve(sim) as url:
        target = SimTarget(sim, url, "http")
        async with tracked(target.client(creds={"client_secret": client_secret})) as h:
            r1 = h.client
            await h.ok(await r1.create_wifi_network("psk-net", "psk", passphrase=PASSPHRASE))
            ident = await h.ok(await r1.create_identity_group("ig"))
            pool = await h.ok(await r1.create_dpsk_pool(ident.id, "pool"))
            await h.ok(
                await r1.create_passphrase(
                    pool.id, PassphraseRow(username="a", passphrase=PASSPHRASE)
                )
            )
            await h.ok(
                await r1.import_passphrases_csv(
                    pool.id, [PassphraseRow(username="b", passphrase=PASSPHRASE + "-b")]
                )
            )
            failed = await h.fails(
                await r1.create_passphrase(
                    pool.id, PassphraseRow(username="dup", passphrase=PASSPHRASE)
                )
            )  # already in the pool
            phrases = await r1.list_passphrases(pool.id)
            nets = await r1.list_wifi_networks()
            token = r1.auth.current.value.get_secret_value()
            texts += [
                str(failed),
                repr(failed),
                repr(phrases),
                repr(nets),
                repr(r1),
                repr(r1.auth),
                str(r1.stats.snapshot()),
            ]
        async with target.client(creds={"client_secret": "wrong-" + client_secret}) as bad:
            with pytest.raises(R1AuthError) as info:
                await bad.list_venues()
            texts += [str(info.value), repr(info.value)]
    assert len(phrases) == 2
    assert phrases[0].passphrase.get_secret_value().startswith(PASSPHRASE)
    records = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "httpcore" in records or "httpx" in records  # the transport did log at DEBUG
    for secret in (client_secret, token, PASSPHRASE):
        assert secret not in records
        assert secret not in "\n".join(texts)
