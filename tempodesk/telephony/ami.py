"""The Asterisk Manager Interface (AMI) over TCP: the wire format, a connection, Originate,
and a monitor that follows the PBX's events and reconnects after a dropped connection.

AMI is line based: on connect the server sends a banner line (``Asterisk Call Manager/x``);
then each message is ``Key: Value`` lines ended by an empty line. An action carries an
``ActionID`` that its ``Response`` repeats; events (``Event: Newstate`` …) come on their own.
Values are checked for CR and LF before they are written (no header injection).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

Message = dict[str, str]
MAX_LINE = 8192
MAX_FIELDS = 200


class AmiError(Exception):
    """The PBX refused an action (``Response: Error``) or spoke something else than AMI."""


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str
    timeout: float = 10.0


def encode(fields: Mapping[str, str]) -> bytes:
    """One AMI message; a CR or LF inside a key or value is refused, never sent."""
    lines = []
    for key, value in fields.items():
        text = str(value)
        if any(c in key + text for c in "\r\n") or ":" in key:
            raise ValueError(f"AMI field {key!r} holds a line break")
        lines.append(f"{key}: {text}\r\n")
    return ("".join(lines) + "\r\n").encode("utf-8")


async def read_message(reader: asyncio.StreamReader) -> Message | None:
    """The next message (None at the end of the stream). Lines without a colon (a command's
    output) are skipped; a message is at most ``MAX_FIELDS`` lines."""
    message: Message = {}
    count = 0
    while True:
        line = await reader.readline()
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise AmiError("AMI line too long")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, colon, value = text.partition(":")
        if colon:
            message.setdefault(key.strip(), value.strip())
        count += 1
        if count > MAX_FIELDS:
            raise AmiError("AMI message too long")


class AmiConnection:
    """One logged-in AMI session: actions answered by ActionID, events queued in order."""

    _ids = itertools.count(1)

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float):
        self._reader, self._writer, self._timeout = reader, writer, timeout
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._events: asyncio.Queue[Message | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._read())
        self.closed = False

    @classmethod
    async def log_in(cls, config: AmiConfig) -> AmiConnection:
        """Connect, read the banner and log in (``AmiError`` if refused)."""
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(config.host, config.port, limit=MAX_LINE * 2), config.timeout
        )
        try:
            banner = await asyncio.wait_for(reader.readline(), config.timeout)
            if not banner.startswith(b"Asterisk Call Manager"):
                raise AmiError(f"not an AMI server: {banner[:60]!r}")
        except BaseException:
            writer.close()
            raise
        connection = cls(reader, writer, config.timeout)
        try:
            await connection.action("Login", Username=config.username, Secret=config.secret)
        except BaseException:
            await connection.close(logoff=False)
            raise
        return connection

    async def action(self, name: str, action_id: str = "", **fields: str) -> Message:
        """Send an action and wait for its response; ``Response: Error`` raises ``AmiError``."""
        if self.closed:
            raise ConnectionError("AMI connection closed")
        action_id = action_id or f"td-{next(self._ids)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        try:
            self._writer.write(encode({"Action": name, "ActionID": action_id, **fields}))
            await self._writer.drain()
            response = await asyncio.wait_for(future, self._timeout)
        finally:
            self._pending.pop(action_id, None)
        if response.get("Response", "").lower() == "error":
            raise AmiError(response.get("Message", "refused"))
        return response

    async def next_event(self) -> Message | None:
        """The next event; None once the connection is gone."""
        return await self._events.get()

    async def _read(self) -> None:
        try:
            while (message := await read_message(self._reader)) is not None:
                waiting = self._pending.get(message.get("ActionID", ""))
                if "Event" not in message and waiting is not None and not waiting.done():
                    waiting.set_result(message)
                elif "Event" in message:
                    self._events.put_nowait(message)
        except (OSError, AmiError) as exc:
            log.info("AMI connection lost: %s", exc)
        finally:
            self.closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("AMI connection closed"))
            self._events.put_nowait(None)

    async def close(self, *, logoff: bool = True) -> None:
        if logoff and not self.closed:
            with contextlib.suppress(Exception):
                await self.action("Logoff")
        self.closed = True
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task


@dataclass(frozen=True)
class OriginateRequest:
    """Click-to-call: ring the agent's ``channel`` first, then dial ``number`` from
    ``context``. ``call_key`` is the ActionID and the new channel's Uniqueid (ChannelId),
    so every event of the call carries it."""

    call_key: str
    channel: str
    number: str
    context: str
    caller_id: str = ""
    ring_seconds: int = 30


async def originate(
    config: AmiConfig, request: OriginateRequest, before_send: Callable[[], None] | None = None
) -> Message:
    """Log in, call ``before_send`` (the caller records that the call may now exist), send
    the Originate and return its response. A failure before ``before_send`` sent nothing."""
    connection = await AmiConnection.log_in(config)
    try:
        if before_send is not None:
            before_send()
        return await connection.action(
            "Originate",
            action_id=request.call_key,
            Channel=request.channel,
            Exten=request.number,
            Context=request.context,
            Priority="1",
            CallerID=request.caller_id or request.number,
            Timeout=str(request.ring_seconds * 1000),
            ChannelId=request.call_key,
            Variable=f"TEMPODESK_CALL={request.call_key}",
            Async="true",
        )
    finally:
        await connection.close()


async def monitor(
    config: AmiConfig,
    on_event: Callable[[Message], Awaitable[None]],
    stop: asyncio.Event,
    *,
    retry_seconds: float = 1.0,
    max_retry_seconds: float = 30.0,
    ping_seconds: float = 30.0,
    on_connected: Callable[[], None] | None = None,
) -> None:
    """Follow the PBX's events until ``stop``; a refused or dropped connection is tried
    again after a pause that doubles up to ``max_retry_seconds``. A quiet connection is
    pinged every ``ping_seconds``: one that does not answer (half-open, a PBX that hangs)
    is dropped and made again."""
    delay = retry_seconds
    while not stop.is_set():
        try:
            connection = await AmiConnection.log_in(config)
        except (OSError, AmiError, TimeoutError, ConnectionError) as exc:
            log.warning(
                "AMI %s:%s unavailable (%s); again in %ss", config.host, config.port, exc, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, max_retry_seconds)
            continue
        delay = retry_seconds
        if on_connected is not None:
            on_connected()
        try:
            await _follow(connection, on_event, stop, ping_seconds)
        finally:
            await connection.close(logoff=False)


async def _follow(
    connection: AmiConnection,
    on_event: Callable[[Message], Awaitable[None]],
    stop: asyncio.Event,
    ping_seconds: float,
) -> None:
    stopping = asyncio.create_task(stop.wait())
    nxt: asyncio.Task[Message | None] | None = None
    try:
        while True:
            nxt = nxt or asyncio.create_task(connection.next_event())
            done, _ = await asyncio.wait(
                {nxt, stopping}, timeout=ping_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if stopping in done:
                return
            if not done:  # quiet: is the PBX still there?
                try:
                    await connection.action("Ping")
                except (AmiError, ConnectionError, TimeoutError, OSError):
                    log.warning("AMI connection does not answer; connecting again")
                    return
                continue
            event, nxt = nxt.result(), None
            if event is None:
                return  # dropped: the monitor connects again
            try:
                await on_event(event)
            except Exception:  # one bad event must not end the monitor
                log.exception("AMI event %s not applied", event.get("Event"))
    finally:
        stopping.cancel()
        if nxt is not None:
            nxt.cancel()


async def send_action(config: AmiConfig, name: str, **fields: str) -> Message:
    """One action on a connection of its own (log in, act, log off): the Phone lab's way."""
    connection = await AmiConnection.log_in(config)
    try:
        return await connection.action(name, **fields)
    finally:
        await connection.close()
