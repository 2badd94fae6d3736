"""Builders of real-shaped Telegram Update payloads, as Telegram POSTs them to a webhook.

Shapes follow the Bot API: optional fields are left out rather than null, ``from`` and
``chat`` carry what Telegram gives for a private chat, photos come as an array of
PhotoSize from smallest to largest, a shared contact's phone number usually lacks the
``+``. File ids look like Telegram's (opaque, base64url) and are deterministic, so a test
can register the same id with ``FakeTelegram.add_file(..., file_id=...)``.
"""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

#: The bot the payloads talk to (matches ``tests.fakes.telegram_server.TEST_TOKEN``).
BOT_ID = 7000000001
BOT_USERNAME = "tps_relay_bot"
BOT_FIRST_NAME = "TPS Relay"

_FILE_ID_PREFIX = {
    "photo": "AgACAgUAAxkBAAI",
    "document": "BQACAgUAAxkBAAI",
    "thumbnail": "AAMCBQADGQEAAg",
    "sticker": "CAACAgUAAxkBAAI",
    "voice": "AwACAgUAAxkBAAI",
}
_UNIQUE_PREFIX = {
    "photo": "AQAD",
    "document": "AgAD",
    "thumbnail": "AQAD",
    "sticker": "AgAD",
    "voice": "AgAD",
}


def _b64(seed: str, length: int) -> str:
    raw = hashlib.sha256(seed.encode()).digest() + hashlib.sha256(seed[::-1].encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")[:length]


def make_file_id(kind: str, seed: str | int) -> str:
    """A Telegram-looking file_id (kind: photo, document, thumbnail, sticker, voice)."""
    return _FILE_ID_PREFIX[kind] + _b64(f"{kind}:{seed}", 60)


def make_file_unique_id(kind: str, seed: str | int) -> str:
    """A Telegram-looking file_unique_id."""
    return _UNIQUE_PREFIX[kind] + _b64(f"unique:{kind}:{seed}", 12)


def _now(date: int | None) -> int:
    return int(time.time()) if date is None else date


def user(
    user_id: int,
    first_name: str = "Siti",
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "id",
) -> dict[str, Any]:
    """A User object (a person, not a bot)."""
    out: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        out["last_name"] = last_name
    if username:
        out["username"] = username
    if language_code:
        out["language_code"] = language_code
    return out


def bot_user(bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> dict[str, Any]:
    """The bot as it appears in ``from`` of its own messages."""
    return {"id": bot_id, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": username}


def private_chat(
    chat_id: int,
    first_name: str = "Siti",
    *,
    last_name: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    """A private Chat object (its id equals the user's id)."""
    out: dict[str, Any] = {"id": chat_id, "first_name": first_name}
    if last_name:
        out["last_name"] = last_name
    if username:
        out["username"] = username
    out["type"] = "private"
    return out


def _message(
    update_id: int,
    user_id: int,
    *,
    chat_id: int | None,
    first_name: str,
    username: str | None,
    language_code: str | None,
    message_id: int | None,
    date: int | None,
    content: dict[str, Any],
) -> dict[str, Any]:
    return {
        "message_id": message_id if message_id is not None else 1000 + update_id,
        "from": user(user_id, first_name, username=username, language_code=language_code),
        "chat": private_chat(
            chat_id if chat_id is not None else user_id, first_name, username=username
        ),
        "date": _now(date),
        **content,
    }


def _text_content(text: str) -> dict[str, Any]:
    """``text`` plus the ``bot_command`` entity Telegram adds for a leading /command."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0] if text.split() else text
        content["entities"] = [
            {"offset": 0, "length": len(command.encode("utf-16-le")) // 2, "type": "bot_command"}
        ]
    return content


def text_update(
    update_id: int,
    user_id: int,
    text: str,
    chat_id: int | None = None,
    first_name: str = "Siti",
    username: str | None = None,
    language_code: str | None = "id",
    *,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A private text message (a leading ``/command`` gets its bot_command entity)."""
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        message_id=message_id,
        date=date,
        content=_text_content(text),
    )
    return {"update_id": update_id, "message": message}


def photo_sizes(
    file_id: str,
    file_unique_id: str,
    *,
    width: int = 1280,
    height: int = 960,
    file_size: int = 182_344,
    count: int = 4,
) -> list[dict[str, Any]]:
    """``count`` (3-4) PhotoSize objects, smallest first; the last is the full picture."""
    bounds = [90, 320, 800][: max(count - 1, 0)]
    out = []
    for bound in bounds:
        scale = bound / max(width, height)
        out.append(
            {
                "file_id": make_file_id("photo", f"{file_id}:{bound}"),
                "file_unique_id": make_file_unique_id("photo", f"{file_id}:{bound}"),
                "file_size": max(1, int(file_size * scale * scale)),
                "width": max(1, round(width * scale)),
                "height": max(1, round(height * scale)),
            }
        )
    out.append(
        {
            "file_id": file_id,
            "file_unique_id": file_unique_id,
            "file_size": file_size,
            "width": width,
            "height": height,
        }
    )
    return out


def photo_update(
    update_id: int,
    user_id: int,
    caption: str | None = None,
    chat_id: int | None = None,
    first_name: str = "Siti",
    username: str | None = None,
    language_code: str | None = "id",
    *,
    file_id: str | None = None,
    file_unique_id: str | None = None,
    width: int = 1280,
    height: int = 960,
    file_size: int = 182_344,
    sizes: int = 4,
    media_group_id: str | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A compressed photo: ``photo`` is 3-4 PhotoSize, the largest carries ``file_id``."""
    fid = file_id or make_file_id("photo", update_id)
    content: dict[str, Any] = {
        "photo": photo_sizes(
            fid,
            file_unique_id or make_file_unique_id("photo", fid),
            width=width,
            height=height,
            file_size=file_size,
            count=sizes,
        )
    }
    if media_group_id:
        content = {"media_group_id": media_group_id, **content}
    if caption:
        content["caption"] = caption
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        message_id=message_id,
        date=date,
        content=content,
    )
    return {"update_id": update_id, "message": message}


def document_update(
    update_id: int,
    user_id: int,
    caption: str | None = None,
    chat_id: int | None = None,
    first_name: str = "Siti",
    username: str | None = None,
    language_code: str | None = "id",
    *,
    file_id: str | None = None,
    file_unique_id: str | None = None,
    file_name: str = "IMG_20240214_101532.jpg",
    mime_type: str = "image/jpeg",
    file_size: int = 2_451_877,
    thumbnail: bool = True,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A file sent uncompressed ("send as file"): an image keeps its full resolution."""
    fid = file_id or make_file_id("document", update_id)
    document: dict[str, Any] = {"file_name": file_name, "mime_type": mime_type}
    if thumbnail:
        document["thumbnail"] = {
            "file_id": make_file_id("thumbnail", fid),
            "file_unique_id": make_file_unique_id("thumbnail", fid),
            "file_size": 14_210,
            "width": 240,
            "height": 320,
        }
    document.update(
        {
            "file_id": fid,
            "file_unique_id": file_unique_id or make_file_unique_id("document", fid),
            "file_size": file_size,
        }
    )
    content: dict[str, Any] = {"document": document}
    if caption:
        content["caption"] = caption
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        message_id=message_id,
        date=date,
        content=content,
    )
    return {"update_id": update_id, "message": message}


_OWN = object()


def contact_update(
    update_id: int,
    user_id: int,
    phone_number: str,
    contact_user_id: int | object | None = _OWN,
    first_name: str = "Siti",
    *,
    contact_first_name: str | None = None,
    contact_last_name: str | None = None,
    vcard: str | None = None,
    chat_id: int | None = None,
    username: str | None = None,
    language_code: str | None = "id",
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A shared contact. By default the sender's own (``contact.user_id == from.id``, as
    the request_contact button sends it); pass another id for someone else's Telegram
    contact, or None for a phone-book entry without a Telegram account (no user_id)."""
    own = contact_user_id is _OWN
    contact: dict[str, Any] = {
        "phone_number": phone_number,
        "first_name": contact_first_name or (first_name if own else "Budi"),
    }
    if contact_last_name:
        contact["last_name"] = contact_last_name
    if own:
        contact["user_id"] = user_id
    elif contact_user_id is not None:
        contact["user_id"] = contact_user_id
    if vcard:
        contact["vcard"] = vcard
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        message_id=message_id,
        date=date,
        content={"contact": contact},
    )
    return {"update_id": update_id, "message": message}


def inline_keyboard(*rows: list[tuple[str, str]]) -> dict[str, Any]:
    """An InlineKeyboardMarkup from rows of (text, callback_data)."""
    return {
        "inline_keyboard": [
            [{"text": text, "callback_data": data} for text, data in row] for row in rows
        ]
    }


def callback_update(
    update_id: int,
    user_id: int,
    data: str,
    message_id: int,
    message_text: str,
    first_name: str = "Siti",
    *,
    chat_id: int | None = None,
    username: str | None = None,
    language_code: str | None = "id",
    reply_markup: dict[str, Any] | None = None,
    query_id: str | None = None,
    message_date: int | None = None,
) -> dict[str, Any]:
    """A button press on an inline keyboard of the bot's message ``message_id``. The
    message's keyboard defaults to one button carrying ``data``."""
    chat = private_chat(chat_id if chat_id is not None else user_id, first_name, username=username)
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat,
        "date": _now(message_date) - (0 if message_date is not None else 30),
        "text": message_text,
        "reply_markup": reply_markup or inline_keyboard([(data, data)]),
    }
    digest = int(hashlib.sha256(f"{update_id}:{user_id}".encode()).hexdigest()[:15], 16)
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id or str(4_300_000_000_000_000_000 + digest % 10**18),
            "from": user(user_id, first_name, username=username, language_code=language_code),
            "message": message,
            "chat_instance": str(-(5_000_000_000_000_000_000 + user_id)),
            "data": data,
        },
    }


def edited_message_update(
    update_id: int,
    user_id: int,
    text: str,
    message_id: int,
    first_name: str = "Siti",
    *,
    chat_id: int | None = None,
    username: str | None = None,
    language_code: str | None = "id",
    date: int | None = None,
    edit_date: int | None = None,
) -> dict[str, Any]:
    """The user edited an earlier message ``message_id``: ``edited_message`` with edit_date."""
    sent = _now(date) - (0 if date is not None else 120)
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=username,
        language_code=language_code,
        message_id=message_id,
        date=sent,
        content={
            "edit_date": edit_date if edit_date is not None else sent + 60,
            **_text_content(text),
        },
    )
    return {"update_id": update_id, "edited_message": message}


def sticker_update(
    update_id: int,
    user_id: int,
    emoji: str = "👍",
    first_name: str = "Siti",
    *,
    chat_id: int | None = None,
    set_name: str = "HotCherry",
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A (static) sticker."""
    fid = make_file_id("sticker", update_id)
    sticker = {
        "width": 512,
        "height": 512,
        "emoji": emoji,
        "set_name": set_name,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "thumbnail": {
            "file_id": make_file_id("thumbnail", fid),
            "file_unique_id": make_file_unique_id("thumbnail", fid),
            "file_size": 5_416,
            "width": 128,
            "height": 128,
        },
        "file_id": fid,
        "file_unique_id": make_file_unique_id("sticker", fid),
        "file_size": 29_630,
    }
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=None,
        language_code="id",
        message_id=message_id,
        date=date,
        content={"sticker": sticker},
    )
    return {"update_id": update_id, "message": message}


def voice_update(
    update_id: int,
    user_id: int,
    duration: int = 4,
    first_name: str = "Siti",
    *,
    chat_id: int | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A voice note (OGG/Opus)."""
    fid = make_file_id("voice", update_id)
    voice = {
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_id": fid,
        "file_unique_id": make_file_unique_id("voice", fid),
        "file_size": 4_000 * duration,
    }
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=None,
        language_code="id",
        message_id=message_id,
        date=date,
        content={"voice": voice},
    )
    return {"update_id": update_id, "message": message}


def location_update(
    update_id: int,
    user_id: int,
    latitude: float = -6.175392,
    longitude: float = 106.827153,
    first_name: str = "Siti",
    *,
    chat_id: int | None = None,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A shared (static) location; defaults to Monas, Jakarta."""
    message = _message(
        update_id,
        user_id,
        chat_id=chat_id,
        first_name=first_name,
        username=None,
        language_code="id",
        message_id=message_id,
        date=date,
        content={"location": {"latitude": latitude, "longitude": longitude}},
    )
    return {"update_id": update_id, "message": message}


def group_text_update(
    update_id: int,
    user_id: int,
    text: str,
    chat_id: int = -1001234567890,
    chat_type: str = "supergroup",
    title: str = "KPPS TPS 001 Menteng",
    first_name: str = "Siti",
    *,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A text message in a group (``chat_type="group"``, id like -4012345678) or a
    supergroup (id like -100…)."""
    if chat_type not in ("group", "supergroup"):
        raise ValueError("chat_type must be 'group' or 'supergroup'")
    message = {
        "message_id": message_id if message_id is not None else 500 + update_id,
        "from": user(user_id, first_name),
        "chat": {"id": chat_id, "title": title, "type": chat_type},
        "date": _now(date),
        **_text_content(text),
    }
    return {"update_id": update_id, "message": message}


def channel_post_update(
    update_id: int,
    text: str,
    chat_id: int = -1009876543210,
    title: str = "Info KPU Kota",
    *,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A post in a channel the bot administers: ``channel_post``, no ``from``, sender_chat."""
    chat = {"id": chat_id, "title": title, "type": "channel"}
    post = {
        "message_id": message_id if message_id is not None else 200 + update_id,
        "sender_chat": dict(chat),
        "chat": chat,
        "date": _now(date),
        "text": text,
    }
    return {"update_id": update_id, "channel_post": post}


def my_chat_member_update(
    update_id: int,
    user_id: int,
    new_status: str = "kicked",
    old_status: str = "member",
    first_name: str = "Siti",
    *,
    date: int | None = None,
) -> dict[str, Any]:
    """The bot's membership in a private chat changed: "kicked" = the user blocked the bot,
    "member" after "kicked" = unblocked / restarted."""

    def member(status: str) -> dict[str, Any]:
        out: dict[str, Any] = {"user": bot_user(), "status": status}
        if status == "kicked":
            out["until_date"] = 0
        return out

    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": private_chat(user_id, first_name),
            "from": user(user_id, first_name),
            "date": _now(date),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        },
    }


def reaction_update(
    update_id: int,
    user_id: int,
    message_id: int,
    emoji: str = "👍",
    first_name: str = "Siti",
    *,
    date: int | None = None,
) -> dict[str, Any]:
    """``message_reaction``: PTB parses it, a relay has no use for it (only delivered when
    listed in allowed_updates)."""
    return {
        "update_id": update_id,
        "message_reaction": {
            "chat": private_chat(user_id, first_name),
            "message_id": message_id,
            "user": user(user_id, first_name),
            "date": _now(date),
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": emoji}],
        },
    }


def unknown_update(
    update_id: int,
    kind: str = "future_update_kind",
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An update type this PTB version does not know (a newer Bot API's): PTB keeps it in
    ``api_kwargs`` and every known field is None."""
    return {"update_id": update_id, kind: payload or {"id": "x1", "date": int(time.time())}}
