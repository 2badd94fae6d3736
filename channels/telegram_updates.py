"""Translate a Telegram Update into a channel-neutral Incoming message.

Everything Telegram can send maps to text, photos, or a neutral event the conversation
understands; what we cannot use is kept (stored raw) and answered politely or ignored
on purpose, never an error.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import Message, Update

from channels.base import Incoming

CHANNEL = "telegram"
# "/status" and friends map onto the SMS grammar's words.
COMMANDS = {
    "status": "STATUS",
    "cek": "CEK",
    "bantuan": "BANTUAN",
    "help": "HELP",
    "bahasa": "BAHASA",
    "language": "BAHASA",
    "batal": "BATAL",
    "ya": "YA",
    "koreksi": "KOREKSI",
}
UNSUPPORTED = (
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "animation",
    "location",
    "venue",
    "poll",
    "dice",
    "game",
    "story",
)


def from_update(data: dict[str, Any]) -> Incoming:
    update = Update.de_json(data, None)
    payload = json.dumps(data, ensure_ascii=False)
    base = {"channel": CHANNEL, "provider_id": str(update.update_id), "payload": payload}
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message if isinstance(query.message, Message) else None
        return Incoming(
            sender=str(query.from_user.id),
            text=query.data or "",
            event={
                "type": "callback",
                "id": query.id,
                "message_id": message.message_id if message else None,
                "message_text": message.text if message else None,
            },
            **base,
        )
    if update.my_chat_member is not None:
        member = update.my_chat_member
        blocked = member.new_chat_member.status in ("kicked", "left")
        event_type = "blocked" if blocked else "unblocked"
        if member.chat.type != "private":
            event_type = "ignored"
        return Incoming(
            sender=str(member.from_user.id), text="", event={"type": event_type}, **base
        )
    if update.edited_message is not None:
        edited = update.edited_message
        private = edited.chat.type == "private" and edited.from_user is not None
        return Incoming(
            sender=str(edited.from_user.id if edited.from_user else edited.chat.id),
            text="",
            event={"type": "edited" if private else "ignored"},
            **base,
        )
    message = update.message
    if message is None or message.from_user is None or message.chat.type != "private":
        # Channel posts, group chats and update kinds we do not use: kept, not answered.
        chat = update.effective_chat
        return Incoming(
            sender=str(chat.id) if chat else "unknown", text="", event={"type": "ignored"}, **base
        )
    return _from_private_message(message, base)


def _from_private_message(message: Message, base: dict[str, Any]) -> Incoming:
    sender = str(message.from_user.id)  # type: ignore[union-attr]
    if message.contact is not None:
        contact = message.contact
        own = contact.user_id is not None and contact.user_id == message.from_user.id  # type: ignore[union-attr]
        return Incoming(
            sender=sender,
            text="",
            event={"type": "contact", "phone": contact.phone_number, "own": own},
            **base,
        )
    if message.photo:
        largest = message.photo[-1]
        item = {
            "file_id": largest.file_id,
            "file_unique_id": largest.file_unique_id,
            "file_size": largest.file_size,
            "width": largest.width,
            "height": largest.height,
            "content_type": "image/jpeg",
        }
        return Incoming(sender=sender, text=message.caption or "", media=[item], **base)
    if message.document is not None:
        document = message.document
        mime = (document.mime_type or "").lower()
        if not mime.startswith("image/"):
            return Incoming(
                sender=sender,
                text=message.caption or "",
                event={"type": "not_an_image", "content_type": mime or "?"},
                **base,
            )
        item = {
            "file_id": document.file_id,
            "file_unique_id": document.file_unique_id,
            "file_size": document.file_size,
            "file_name": document.file_name,
            "content_type": mime,
        }
        return Incoming(sender=sender, text=message.caption or "", media=[item], **base)
    if any(getattr(message, kind, None) for kind in UNSUPPORTED):
        return Incoming(sender=sender, text="", event={"type": "unsupported"}, **base)
    text = message.text or ""
    if text.startswith("/"):
        return Incoming(sender=sender, **_command(text), **base)
    return Incoming(sender=sender, text=text, **base)


def _command(text: str) -> dict[str, Any]:
    """`/status@TpsRelayBot` → STATUS; `/start` is registration; unknown commands pass as text."""
    head, _, rest = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    if name == "start":
        return {"text": "", "event": {"type": "start"}}
    word = COMMANDS.get(name)
    if word is None:
        return {"text": text}
    return {"text": f"{word} {rest}".strip()}
