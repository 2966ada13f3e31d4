"""A stand-in PBX speaking real AMI on a loopback port: `make dev` and the tests use it.

It sends the banner, takes Login/Logoff/Ping, answers Originate (the agent's channel rings,
then "answers" and "hangs up" on command) and sends the events Asterisk sends for it:
Newchannel, Newstate, DialBegin, DialEnd, OriginateResponse, Hangup. ``ring`` plays a
test caller ringing an agent's extension. Besides the real ``Hangup`` action it takes two
of its own, so the Phone lab can drive it over AMI from another process: ``LabRing``
(Extension, CallerID) and ``LabAnswer`` (Uniqueid).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from tempodesk.telephony.ami import Message, encode, read_message

BANNER = b"Asterisk Call Manager/5.0.1\r\n"


@dataclass
class _Call:
    uniqueid: str
    channel: str
    extension: str
    caller: str
    incoming: bool
    action_id: str = ""
    state: str = "ringing"  # ringing | up | gone


@dataclass
class _Peer:
    writer: asyncio.StreamWriter
    logged_in: bool = False


@dataclass
class AmiStandIn:
    """Start with ``start()`` (a thread with its own loop); ``port`` 0 picks a free one."""

    username: str = "tempodesk"
    secret: str = "tempodesk"
    port: int = 0
    host: str = "127.0.0.1"
    originated: list[Message] = field(default_factory=list)
    refuse_originate: bool = False
    # Faults (R16): drop this many logins unanswered (nothing reached the PBX), and this many
    # Originates after taking them (the call rings; the client never hears back).
    drop_logins: int = 0
    drop_after_originate: int = 0
    mute: bool = False  # a hung PBX: connections stay open, actions go unanswered
    _calls: dict[str, _Call] = field(default_factory=dict)
    _peers: list[_Peer] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # Running

    def start(self) -> AmiStandIn:
        started = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, self.port)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            loop.run_forever()

        threading.Thread(target=main, name="ami-standin", daemon=True).start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        self._run(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop()

    # Commands (from any thread): a test caller, answering, hanging up, a network fault

    def ring(self, extension: str, caller: str) -> str:
        """A caller rings ``extension``; returns the call's Uniqueid."""
        return str(self._run(self._ring(extension, caller)))

    def answer(self, uniqueid: str) -> None:
        self._run(self._answer(uniqueid))

    def hangup(self, uniqueid: str) -> None:
        self._run(self._hangup(uniqueid, "16", "Normal Clearing"))

    def drop_connections(self) -> None:
        """Close every client's connection, as a network fault or a PBX restart would."""
        self._run(self._drop())

    def clients(self) -> int:
        """How many clients are logged in (the monitor, once it follows the events)."""
        return sum(1 for peer in self._peers if peer.logged_in)

    def live_calls(self) -> list[str]:
        return [c.uniqueid for c in self._calls.values() if c.state != "gone"]

    async def _drop(self) -> None:
        for peer in list(self._peers):
            peer.writer.close()
        self._peers.clear()

    # The AMI server

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _Peer(writer)
        self._peers.append(peer)
        writer.write(BANNER)
        try:
            while (message := await read_message(reader)) is not None:
                await self._handle(peer, message)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self._peers.remove(peer)
            writer.close()

    async def _handle(self, peer: _Peer, message: Message) -> None:
        if self.mute:
            return
        action = message.get("Action", "").lower()
        reply: Message = {"ActionID": message.get("ActionID", "")}
        if action == "login":
            if self.drop_logins > 0:
                self.drop_logins -= 1
                peer.writer.close()
                return
            if (message.get("Username"), message.get("Secret")) != (self.username, self.secret):
                await self._send(
                    peer, {"Response": "Error", "Message": "Authentication failed", **reply}
                )
                peer.writer.close()
                return
            peer.logged_in = True
            await self._send(
                peer, {"Response": "Success", "Message": "Authentication accepted", **reply}
            )
            return
        if not peer.logged_in:
            await self._send(peer, {"Response": "Error", "Message": "Permission denied", **reply})
            return
        handlers = {
            "logoff": self._logoff,
            "ping": self._ping,
            "originate": self._originate,
            "hangup": self._hangup_action,
            "labring": self._lab_ring,
            "labanswer": self._lab_answer,
        }
        handler = handlers.get(action)
        if handler is None:
            await self._send(
                peer, {"Response": "Error", "Message": "Invalid/unknown command", **reply}
            )
            return
        await handler(peer, message, reply)

    async def _send(self, peer: _Peer, message: Message) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            peer.writer.write(encode(message))
            await peer.writer.drain()

    async def _broadcast(self, event: Message) -> None:
        for peer in list(self._peers):
            if peer.logged_in:
                await self._send(peer, event)

    async def _logoff(self, peer: _Peer, message: Message, reply: Message) -> None:
        await self._send(
            peer, {"Response": "Goodbye", "Message": "Thanks for all the fish.", **reply}
        )
        peer.writer.close()

    async def _ping(self, peer: _Peer, message: Message, reply: Message) -> None:
        await self._send(peer, {"Response": "Success", "Ping": "Pong", **reply})

    async def _originate(self, peer: _Peer, message: Message, reply: Message) -> None:
        self.originated.append(dict(message))
        if self.refuse_originate:
            await self._send(peer, {"Response": "Error", "Message": "Originate failed", **reply})
            return
        uniqueid = message.get("ChannelId") or f"standin.{uuid.uuid4().hex[:12]}"
        if uniqueid in self._calls:
            await self._send(peer, {"Response": "Error", "Message": "ChannelId in use", **reply})
            return
        channel = f"{message.get('Channel', 'PJSIP/unknown')}-{next(self._ids):08x}"
        call = _Call(
            uniqueid,
            channel,
            extension=message.get("Channel", "").rpartition("/")[2],
            caller=message.get("Exten", ""),
            incoming=False,
            action_id=message.get("ActionID", ""),
        )
        self._calls[uniqueid] = call
        if self.drop_after_originate > 0:
            self.drop_after_originate -= 1
            peer.writer.close()  # taken, but the answer is lost
        else:
            await self._send(
                peer, {"Response": "Success", "Message": "Originate successfully queued", **reply}
            )
        await self._broadcast(self._channel_event("Newchannel", call, "Down"))
        await self._broadcast(self._channel_event("Newstate", call, "Ringing"))

    async def _hangup_action(self, peer: _Peer, message: Message, reply: Message) -> None:
        wanted = message.get("Uniqueid") or message.get("Channel", "")
        call = self._calls.get(wanted) or next(
            (c for c in self._calls.values() if c.channel == wanted), None
        )
        if call is None or call.state == "gone":
            await self._send(peer, {"Response": "Error", "Message": "No such channel", **reply})
            return
        await self._send(peer, {"Response": "Success", "Message": "Channel Hungup", **reply})
        await self._hangup(call.uniqueid, "16", "Normal Clearing")

    async def _lab_ring(self, peer: _Peer, message: Message, reply: Message) -> None:
        uniqueid = await self._ring(message.get("Extension", ""), message.get("CallerID", ""))
        await self._send(peer, {"Response": "Success", "Uniqueid": uniqueid, **reply})

    async def _lab_answer(self, peer: _Peer, message: Message, reply: Message) -> None:
        uniqueid = message.get("Uniqueid", "")
        if uniqueid not in self._calls:
            await self._send(peer, {"Response": "Error", "Message": "No such channel", **reply})
            return
        await self._send(peer, {"Response": "Success", **reply})
        await self._answer(uniqueid)

    # What the PBX does

    async def _ring(self, extension: str, caller: str) -> str:
        uniqueid = f"lab.{uuid.uuid4().hex[:12]}"  # unique across restarts, as Asterisk's
        call = _Call(uniqueid, f"PJSIP/trunk-{next(self._ids):08x}", extension, caller, True)
        self._calls[uniqueid] = call
        await self._broadcast(self._channel_event("Newchannel", call, "Ring"))
        await self._broadcast(
            {
                **self._channel_event("DialBegin", call, "Ring"),
                "DestChannel": f"PJSIP/{extension}-{next(self._ids):08x}",
                "DestCallerIDNum": extension,
                "DestUniqueid": f"{uniqueid}.dest",
                "DestLinkedid": uniqueid,
                "DialString": extension,
            }
        )
        return uniqueid

    async def _answer(self, uniqueid: str) -> None:
        call = self._calls.get(uniqueid)
        if call is None or call.state != "ringing":
            return
        call.state = "up"
        if call.incoming:
            await self._broadcast(
                {**self._channel_event("DialEnd", call, "Up"), "DialStatus": "ANSWER"}
            )
        await self._broadcast(self._channel_event("Newstate", call, "Up"))
        if call.action_id:
            await self._broadcast(self._originate_response(call, "Success", "4"))

    async def _hangup(self, uniqueid: str, cause: str, text: str) -> None:
        call = self._calls.get(uniqueid)
        if call is None or call.state == "gone":
            return
        if call.action_id and call.state == "ringing":
            await self._broadcast(self._originate_response(call, "Failure", "3"))
        call.state = "gone"
        await self._broadcast(
            {**self._channel_event("Hangup", call, "Down"), "Cause": cause, "Cause-txt": text}
        )

    def _channel_event(self, name: str, call: _Call, state: str) -> Message:
        caller = call.caller if call.incoming else call.extension
        return {
            "Event": name,
            "Privilege": "call,all",
            "Channel": call.channel,
            "ChannelState": {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}.get(state, "0"),
            "ChannelStateDesc": state,
            "CallerIDNum": caller,
            "ConnectedLineNum": call.extension if call.incoming else call.caller,
            "Exten": call.extension if call.incoming else call.caller,
            "Uniqueid": call.uniqueid,
            "Linkedid": call.uniqueid,
        }

    def _originate_response(self, call: _Call, response: str, reason: str) -> Message:
        return {
            "Event": "OriginateResponse",
            "ActionID": call.action_id,
            "Response": response,
            "Channel": call.channel,
            "Reason": reason,
            "Uniqueid": call.uniqueid,
            "Exten": call.caller,
        }
