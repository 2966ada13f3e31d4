"""The payload codec: with TEMPODESK_PAYLOAD_KEYS set, a workflow round trip works and
Temporal's history holds only ciphertext; without the key nothing can read it."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tempodesk.app.devserver import TemporalDevServer
from tempodesk.core.codec import ENCODING, CodecKeyError, EncryptionCodec, parse_keys
from tempodesk.core.settings import Settings
from tempodesk.core.temporal_client import connect


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@activity.defn(name="codec_test_greet")
async def greet(name: str) -> str:
    return f"Hello {name}"


@workflow.defn(name="CodecTestWorkflow")
class GreetWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_a_workflow_round_trip_with_the_codec_leaves_only_ciphertext_in_history(
    temporal: TemporalDevServer,
) -> None:
    settings = Settings(temporal_address=temporal.address, payload_keys=new_key())  # type: ignore[call-arg]
    client = await connect(settings)
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    secret = f"jana.secret-{uuid.uuid4().hex[:8]}@customer.example"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[GreetWorkflow],
        activities=[greet],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await client.execute_workflow(
            GreetWorkflow.run, secret, id=f"codec-{uuid.uuid4().hex}", task_queue=queue
        )
        assert result == f"Hello {secret}"
        workflow_id = f"codec-{uuid.uuid4().hex}"
        await client.execute_workflow(GreetWorkflow.run, secret, id=workflow_id, task_queue=queue)
    plain = await Client.connect(temporal.address)
    history = await plain.get_workflow_handle(workflow_id).fetch_history()
    raw = history.to_json()
    assert secret not in raw and "Hello" not in raw
    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    assert payload.metadata["encoding"] == ENCODING


async def test_rotated_keys_still_decrypt_what_the_old_key_wrote() -> None:
    old, new = parse_keys(new_key())[0], parse_keys(new_key())[0]
    sealed = await EncryptionCodec([old]).encode([Payload(data=b'"jana"')])
    [opened] = await EncryptionCodec([new, old]).decode(sealed)
    assert opened.data == b'"jana"'
    with pytest.raises(CodecKeyError):
        await EncryptionCodec([new]).decode(sealed)


def test_a_key_that_is_not_32_bytes_of_base64_is_refused() -> None:
    with pytest.raises(CodecKeyError):
        parse_keys(base64.b64encode(b"short").decode())
    with pytest.raises(CodecKeyError):
        parse_keys("not base64 at all!")
    assert parse_keys("") == []
