"""The PBX behind one interface: ``dial`` places a click-to-call through whichever protocol
the settings name (``TEMPODESK_PBX``: ``ami`` for Asterisk, ``cti`` for a cloud PBX)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tempodesk.core.outbound import is_private_host
from tempodesk.core.settings import Settings
from tempodesk.telephony import ami, cti

PROVIDERS = ("ami", "cti")


class NoPbx(RuntimeError):
    """Click-to-call is not possible: no PBX is configured, or its address is refused."""


def ami_config(settings: Settings) -> ami.AmiConfig:
    """The AMI connection the settings describe (``NoPbx`` for a refused private host)."""
    if not settings.allow_private_phone_hosts and is_private_host(settings.ami_host):
        raise NoPbx(
            "The AMI host is in a private, loopback or link-local range; set "
            "TEMPODESK_ALLOW_PRIVATE_PHONE_HOSTS=true to use it."
        )
    return ami.AmiConfig(
        settings.ami_host, settings.ami_port, settings.ami_username, settings.ami_secret
    )


def dial(
    settings: Settings,
    *,
    call_key: str,
    extension: str,
    number: str,
    before_send: Callable[[], None],
) -> str:
    """Ring ``extension``, then dial ``number``; returns the provider's name. Raises
    (``NoPbx``, ``OSError``, ``ami.AmiError``, ``cti.CtiRefused``) when it could not; a
    failure before ``before_send`` was called sent nothing to the PBX."""
    if settings.pbx == "ami":
        request = ami.OriginateRequest(
            call_key=call_key,
            channel=settings.ami_channel.format(extension=extension),
            number=number,
            context=settings.ami_context,
        )
        asyncio.run(ami.originate(ami_config(settings), request, before_send))
        return "ami"
    if settings.pbx == "cti":
        if not settings.cti_call_url:
            raise NoPbx("TEMPODESK_CTI_CALL_URL is not set.")
        cti.click_to_call(
            settings.cti_call_url,
            settings.cti_token,
            call_key=call_key,
            extension=extension,
            number=number,
            allow_private=settings.allow_private_phone_hosts,
            before_send=before_send,
        )
        return "cti"
    raise NoPbx("No PBX is configured (TEMPODESK_PBX).")
