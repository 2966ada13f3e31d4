"""The one way a Tempodesk process connects to Temporal: the dev server, a self-hosted
cluster (TLS, mutual TLS with a client certificate) or Temporal Cloud (mTLS or an API key),
with the payload codec when ``TEMPODESK_PAYLOAD_KEYS`` is set."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from .codec import EncryptionCodec, parse_keys
from .converter import PayloadConverter
from .settings import Settings


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS as the settings ask: off, on with the system's roots, or with files."""
    files = (
        settings.temporal_tls_ca_file,
        settings.temporal_tls_cert_file,
        settings.temporal_tls_key_file,
    )
    wanted = settings.temporal_tls or settings.temporal_api_key or any(files)
    if not wanted:
        return False
    if not any(files) and not settings.temporal_tls_server_name:
        return True

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca_file),
        client_cert=read(settings.temporal_tls_cert_file),
        client_private_key=read(settings.temporal_tls_key_file),
        domain=settings.temporal_tls_server_name or None,
    )


def data_converter(settings: Settings) -> DataConverter:
    """The SDK's converter with its type hints cached (``converter``: the same bytes),
    encrypting payloads when keys are set."""
    keys = parse_keys(settings.payload_keys)
    codec = EncryptionCodec(keys) if keys else None
    return dataclasses.replace(
        DataConverter.default, payload_converter_class=PayloadConverter, payload_codec=codec
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client for the configured Temporal address and namespace (on ``runtime``: the
    worker's, when it exports the SDK's metrics)."""
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key or None,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
