"""The AMI client against the stand-in PBX over real TCP: Originate, the call's events, a
refused login, and the monitor reconnecting after the connection drops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tempodesk.telephony import ami
from tempodesk.telephony.events import CallEvent, from_ami
from tempodesk.telephony.standin import AmiStandIn


@pytest.fixture
def pbx() -> Iterator[AmiStandIn]:
    server = AmiStandIn(username="desk", secret="s3cret").start()
    yield server
    server.stop()


def config(pbx: AmiStandIn, secret: str = "s3cret", timeout: float = 5) -> ami.AmiConfig:
    return ami.AmiConfig("127.0.0.1", pbx.port, "desk", secret, timeout=timeout)


class Follower:
    """The monitor in a task, collecting what the PBX's events mean."""

    def __init__(self, pbx: AmiStandIn, timeout: float = 5, ping_seconds: float = 30):
        self.events: list[CallEvent] = []
        self.connected = 0
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            ami.monitor(
                config(pbx, timeout=timeout),
                self._on_event,
                self.stop,
                retry_seconds=0.05,
                ping_seconds=ping_seconds,
                on_connected=self._up,
            )
        )

    def _up(self) -> None:
        self.connected += 1

    async def _on_event(self, event: ami.Message) -> None:
        meant = from_ami(event)
        if meant is not None:
            self.events.append(meant)

    async def until(self, check: object, what: str) -> None:
        for _ in range(500):
            if callable(check) and check():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never: {what}")

    async def close(self) -> None:
        self.stop.set()
        await self.task


async def test_originate_rings_the_agent_first_under_the_call_key(pbx: AmiStandIn) -> None:
    follower = Follower(pbx)
    await follower.until(lambda: follower.connected == 1, "connected")
    sent: list[str] = []
    request = ami.OriginateRequest("td.HD-1.4", "PJSIP/101", "+420605111222", "from-internal")
    response = await ami.originate(config(pbx), request, before_send=lambda: sent.append("now"))
    assert response["Response"] == "Success" and sent == ["now"]
    [originate] = pbx.originated
    assert originate["ActionID"] == "td.HD-1.4" and originate["ChannelId"] == "td.HD-1.4"
    assert (originate["Channel"], originate["Exten"]) == ("PJSIP/101", "+420605111222")
    await follower.until(lambda: follower.events, "ringing")
    pbx.answer("td.HD-1.4")
    pbx.hangup("td.HD-1.4")
    await follower.until(lambda: len(follower.events) >= 3, "hung up")
    assert [(e.call_id, e.kind) for e in follower.events] == [
        ("td.HD-1.4", "ringing"),
        ("td.HD-1.4", "answered"),
        ("td.HD-1.4", "hungup"),
    ]
    await follower.close()


async def test_a_call_to_an_extension_is_seen_ringing_with_its_caller(pbx: AmiStandIn) -> None:
    follower = Follower(pbx)
    await follower.until(lambda: follower.connected == 1, "connected")
    uniqueid = await asyncio.to_thread(pbx.ring, "102", "+420777000111")
    await follower.until(lambda: follower.events, "ringing")
    assert follower.events[0] == CallEvent(uniqueid, "ringing", "+420777000111", "102")
    await asyncio.to_thread(pbx.hangup, uniqueid)
    await follower.until(lambda: follower.events[-1].kind == "hungup", "hung up")
    await follower.close()


async def test_a_dropped_connection_is_established_again_and_events_flow(
    pbx: AmiStandIn,
) -> None:
    follower = Follower(pbx)
    await follower.until(lambda: follower.connected == 1, "connected")
    await asyncio.to_thread(pbx.drop_connections)
    await follower.until(lambda: follower.connected == 2, "connected again")
    uniqueid = await asyncio.to_thread(pbx.ring, "103", "+420777000222")
    await follower.until(lambda: follower.events, "ringing after the drop")
    assert follower.events[0].call_id == uniqueid
    await follower.close()


async def test_a_pbx_that_stops_answering_is_pinged_and_connected_again(
    pbx: AmiStandIn,
) -> None:
    follower = Follower(pbx, timeout=0.3, ping_seconds=0.1)
    await follower.until(lambda: follower.connected == 1, "connected")
    pbx.mute = True  # the connection stays open, nothing answers
    await asyncio.sleep(0.6)
    pbx.mute = False
    await follower.until(lambda: follower.connected >= 2, "connected again after a silent PBX")
    await follower.close()


def test_a_private_pbx_host_is_refused_unless_allowed() -> None:
    from tempodesk.core.settings import Settings
    from tempodesk.telephony import pbx as pbx_module

    with pytest.raises(pbx_module.NoPbx):
        pbx_module.ami_config(Settings(ami_host="169.254.169.254"))
    allowed = Settings(ami_host="127.0.0.1", allow_private_phone_hosts=True)
    assert pbx_module.ami_config(allowed).host == "127.0.0.1"


async def test_a_wrong_secret_is_refused(pbx: AmiStandIn) -> None:
    with pytest.raises(ami.AmiError, match="Authentication failed"):
        await ami.AmiConnection.log_in(config(pbx, secret="wrong"))


async def test_the_monitor_waits_for_a_pbx_that_is_not_there_yet() -> None:
    pbx = AmiStandIn(username="desk", secret="s3cret")
    from tempodesk.app.devserver import free_port

    pbx.port = free_port()
    follower = Follower(pbx)
    await asyncio.sleep(0.2)
    assert follower.connected == 0
    await asyncio.to_thread(pbx.start)
    try:
        await follower.until(lambda: follower.connected == 1, "connected once it is up")
    finally:
        await follower.close()
        pbx.stop()


def test_a_line_break_in_a_value_is_never_sent() -> None:
    with pytest.raises(ValueError):
        ami.encode({"Action": "Originate", "Exten": "123\r\nAction: Command"})
