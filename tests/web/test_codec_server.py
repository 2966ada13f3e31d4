"""The codec server the Temporal UI calls: an admin (or an ops token) reads encrypted payloads
in the clear, from the UI's origin only; agents, strangers and other origins read nothing."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from sqlalchemy import select
from temporalio.converter import DataConverter

from tempodesk.core.codec import ENCODING, EncryptionCodec, parse_keys
from tempodesk.core.db import transaction
from tempodesk.core.models import User
from tempodesk.people import accounts
from tests.helpers import Stack

SECRET = "jana.codec@customer.example"


@pytest.fixture
def keyed(stack: Stack) -> Iterator[str]:
    key = base64.b64encode(os.urandom(32)).decode()
    before = stack.settings.payload_keys
    stack.settings.payload_keys = key
    yield key
    stack.settings.payload_keys = before


def sealed(key: str) -> dict[str, Any]:
    payloads = DataConverter.default.payload_converter.to_payloads([SECRET])
    encrypted = EncryptionCodec(parse_keys(key)).encode_now(payloads)
    assert encrypted[0].metadata["encoding"] == ENCODING
    return {"payloads": [MessageToDict(p) for p in encrypted]}


def origin(stack: Stack) -> str:
    return stack.settings.temporal_ui


def test_an_admin_reads_an_encrypted_payload_through_the_codec_from_the_ui(
    stack: Stack, keyed: str
) -> None:
    admin = stack.login("admin")
    answer = admin.post("/codec/decode", json=sealed(keyed), headers={"Origin": origin(stack)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Access-Control-Allow-Origin"] == origin(stack)
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    payload = answer.get_json()["payloads"][0]
    assert base64.b64decode(payload["data"]).decode() == f'"{SECRET}"'
    preflight = stack.client().options(
        "/codec/decode",
        headers={"Origin": origin(stack), "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin(stack)
    # encode then decode is the identity
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "IjEi"}]}
    encoded = admin.post("/codec/encode", json=plain).get_json()
    assert encoded["payloads"][0]["metadata"]["encoding"] != "anNvbi9wbGFpbg=="
    assert admin.post("/codec/decode", json=encoded).get_json() == plain


def test_an_ops_token_decodes_but_agents_strangers_and_other_origins_do_not(
    stack: Stack, keyed: str
) -> None:
    body = sealed(keyed)
    with transaction(stack.sessions) as session:
        user = session.scalar(select(User).where(User.username == "agent1"))
        assert user is not None
        ops = accounts.create_token(session, user, "codec", ("ops",))
    bearer = {"Authorization": f"Bearer {ops}"}
    assert stack.client().post("/codec/decode", json=body, headers=bearer).status_code == 200
    api_only = stack.api("admin")  # the api scope is not enough, even an admin's
    assert stack.client().post("/codec/decode", json=body, headers=api_only).status_code == 403
    agent = stack.login("agent1")
    refused = agent.post("/codec/decode", json=body)
    assert refused.status_code == 403 and SECRET not in refused.get_data(as_text=True)
    assert stack.client().post("/codec/decode", json=body).status_code == 403
    admin = stack.login("admin")
    elsewhere = admin.post("/codec/decode", json=body, headers={"Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    assert "Access-Control-Allow-Origin" not in elsewhere.headers
    assert admin.post("/codec/decode", data="payloads=1").status_code == 400
    assert admin.post("/codec/decode", json={"payloads": [{"data": 5}]}).status_code == 400
    other_key = base64.b64encode(os.urandom(32)).decode()
    assert admin.post("/codec/decode", json=sealed(other_key)).status_code == 422


def test_without_payload_keys_the_codec_says_encryption_is_off(stack: Stack) -> None:
    assert not stack.settings.payload_keys
    answer = stack.login("admin").post("/codec/decode", json={"payloads": []})
    assert answer.status_code == 404
    assert "TEMPODESK_PAYLOAD_KEYS" in answer.get_json()["error"]
