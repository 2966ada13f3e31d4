"""The SMS gateway's URL may not lead inside (ASVS V5.2.6): refused at save and at send."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tempodesk.app.cli import main
from tempodesk.core.db import make_engine, make_session_factory, transaction
from tempodesk.core.settings import Settings
from tempodesk.people import accounts
from tempodesk.telephony import sms, sms_net
from tests.helpers import Stack


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/sms",
        "http://localhost/sms",
        "http://10.1.2.3/sms",
        "http://192.168.0.10/sms",
        "http://[::1]/sms",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/sms",
        "http://100.100.100.200/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "ftp://sms.example.com/",
        "http://user:pass@api.example.com/",
        "http:///nohost",
    ],
)
def test_internal_loopback_link_local_and_metadata_urls_are_refused(url: str) -> None:
    assert sms_net.check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fd00:ec2::254]/"],
)
def test_link_local_and_metadata_stay_refused_even_where_private_hosts_are_allowed(
    url: str,
) -> None:
    assert sms_net.check_url(url, allow_private=True)


def test_loopback_is_allowed_only_when_the_settings_say_so() -> None:
    assert sms_net.check_url("http://127.0.0.1:9/", allow_private=True) == ""


def test_a_send_resolves_again_and_refuses_before_connecting() -> None:
    with pytest.raises(sms_net.UrlRefused):
        sms_net.post("http://127.0.0.1:9/x", b"", {}, timeout=1, allow_private=False)


def test_saving_a_gateway_that_leads_to_a_metadata_address_is_refused(stack: Stack) -> None:
    strict: Settings = stack.settings.model_copy(update={"allow_private_sms_hosts": False})
    with transaction(stack.sessions) as session, pytest.raises(sms.GatewayInvalid) as refused:
        sms.save_gateway(
            session,
            strict,
            provider="twilio",
            url="http://169.254.169.254/",
            account="AC1",
            secret="x",
            sender="+420777000111",
        )
    assert "url" in refused.value.errors


def test_create_token_with_the_sms_scope_authorises_only_the_sms_hooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPODESK_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("TEMPODESK_DATABASE_URL", raising=False)
    runner = CliRunner()
    runner.invoke(main, ["seed-demo"])
    result = runner.invoke(main, ["create-token", "admin", "--scope", "sms"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'tempodesk.db'}"))
    with sessions() as session:
        assert accounts.user_for_token(session, token, "sms") is not None
        assert accounts.user_for_token(session, token, "api") is None
