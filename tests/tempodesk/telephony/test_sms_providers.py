"""Twilio's request signature, as Twilio documents it."""

from __future__ import annotations

from tempodesk.telephony.sms_providers import (
    our_status,
    twilio_signature,
    twilio_signature_valid,
)


def test_twilio_signature_matches_twilios_documented_example() -> None:
    # https://www.twilio.com/docs/usage/security#validating-requests
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert twilio_signature(url, params, "12345") == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_a_signature_over_other_parameters_or_another_token_is_refused() -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    good = twilio_signature("http://desk.test/hooks/sms/twilio/status", params, "token")
    url = "http://desk.test/hooks/sms/twilio/status"
    assert twilio_signature_valid(url, params, "token", good)
    assert not twilio_signature_valid(url, {**params, "MessageStatus": "failed"}, "token", good)
    assert not twilio_signature_valid(url, params, "other", good)
    assert not twilio_signature_valid(url, params, "token", "")


def test_provider_statuses_map_to_ours() -> None:
    assert [our_status(s) for s in ("queued", "sent", "delivered", "undelivered", "bogus")] == [
        "sent",
        "sent",
        "delivered",
        "failed",
        "",
    ]
