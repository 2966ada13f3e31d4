"""What a PBX tells us about a call, whichever protocol it speaks: one small vocabulary
(ringing, answered, hung up, failed) that AMI events and cloud-PBX webhooks both become."""

from __future__ import annotations

from dataclasses import dataclass

from tempodesk.telephony.ami import Message

KINDS = ("ringing", "answered", "hungup", "failed")


@dataclass(frozen=True)
class CallEvent:
    """``call_id`` is the PBX's id of the call (for our own calls: their call key);
    ``extension`` and ``caller`` say who rings whom on an incoming call."""

    call_id: str
    kind: str
    caller: str = ""
    extension: str = ""
    detail: str = ""


def from_ami(event: Message) -> CallEvent | None:
    """The call event an AMI event means (None: nothing we follow)."""
    name = event.get("Event", "")
    call_id = event.get("Linkedid") or event.get("Uniqueid") or ""
    if name == "DialBegin":
        extension = event.get("DestCallerIDNum") or event.get("DialString", "").rpartition("/")[2]
        return CallEvent(call_id, "ringing", event.get("CallerIDNum", ""), extension)
    if name == "Newstate":
        state = event.get("ChannelStateDesc", "")
        if state == "Ringing":
            return CallEvent(call_id, "ringing")
        if state == "Up":
            return CallEvent(call_id, "answered")
        return None
    if name == "DialEnd" and event.get("DialStatus") == "ANSWER":
        return CallEvent(call_id, "answered")
    if name == "Hangup":
        return CallEvent(call_id, "hungup", detail=event.get("Cause-txt", ""))
    if name == "OriginateResponse" and event.get("Response") == "Failure":
        reason = {"0": "no such extension", "1": "no answer", "3": "no answer", "5": "busy"}
        return CallEvent(
            event.get("ActionID") or call_id,
            "failed",
            detail=reason.get(event.get("Reason", ""), "not connected"),
        )
    return None
