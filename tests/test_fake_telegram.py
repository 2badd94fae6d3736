"""The fake Telegram Bot API behaves like the real one, checked through python-telegram-bot."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest
import requests
from PIL import Image
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest

from tests.fakes import telegram_updates as tu
from tests.fakes.telegram_server import TEST_TOKEN, FakeTelegram, too_many_requests_body

T = TypeVar("T")
USER = 811223344


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22's future behaviour (durations as timedelta), without deprecation warnings."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TEST_TOKEN) as server:
        yield server


def run(fake: FakeTelegram, fn: Callable[[Bot], Awaitable[T]], token: str = TEST_TOKEN) -> T:
    """One asyncio.run with a fresh Bot whose HTTP clients are closed afterwards."""

    async def main() -> T:
        request, updates_request = HTTPXRequest(read_timeout=5), HTTPXRequest(read_timeout=5)
        bot = Bot(
            token,
            base_url=fake.base_url,
            base_file_url=fake.base_file_url,
            request=request,
            get_updates_request=updates_request,
        )
        try:
            return await fn(bot)
        finally:
            await request.shutdown()
            await updates_request.shutdown()

    return asyncio.run(main())


def jpeg(width: int = 400, height: int = 300) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 200, 200)).save(out, "JPEG")
    return out.getvalue()


CONFIRM = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✅ Benar", callback_data="ok:17"),
            InlineKeyboardButton("✏️ Koreksi", callback_data="fix:17"),
        ]
    ]
)


# --- methods through the real client -------------------------------------------------------


def test_get_me(fake: FakeTelegram) -> None:
    me = run(fake, lambda bot: bot.get_me())
    assert (me.id, me.is_bot, me.username) == (7000000001, True, "tps_relay_bot")
    (req,) = fake.wait_for_method("getMe")
    assert req.method == "POST" and req.path == f"/bot{TEST_TOKEN}/getMe"


def test_send_message_with_inline_keyboard(fake: FakeTelegram) -> None:
    async def send(bot: Bot) -> list[Any]:
        first = await bot.send_message(USER, "PPWP TPS 001: benar?", reply_markup=CONFIRM)
        second = await bot.send_message(USER, "Terima kasih")
        other = await bot.send_message(USER + 1, "Halo")
        return [first, second, other]

    first, second, other = run(fake, send)
    assert [first.message_id, second.message_id, other.message_id] == [1, 2, 1]
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.from_user.id == fake.bot_id and first.from_user.is_bot
    assert first.text == "PPWP TPS 001: benar?" and first.date is not None
    assert first.reply_markup == CONFIRM and second.reply_markup is None
    sent = fake.sent_messages(chat_id=USER)
    assert sent[0] == {
        "method": "sendMessage",
        "chat_id": USER,
        "text": "PPWP TPS 001: benar?",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"callback_data": "ok:17", "text": "✅ Benar"},
                    {"callback_data": "fix:17", "text": "✏️ Koreksi"},
                ]
            ]
        },
        "message_id": 1,
    }
    assert [m["text"] for m in sent] == ["PPWP TPS 001: benar?", "Terima kasih"]
    assert len(fake.sent_messages()) == 3


def test_send_message_with_request_contact_keyboard(fake: FakeTelegram) -> None:
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Kirim nomor HP", request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    message = run(
        fake, lambda bot: bot.send_message(USER, "Bagikan nomor HP", reply_markup=keyboard)
    )
    assert message.reply_markup is None  # Telegram echoes inline keyboards only
    (sent,) = fake.sent_messages()
    assert sent["reply_markup"] == {
        "keyboard": [[{"request_contact": True, "text": "Kirim nomor HP"}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    assert sent["chat_id"] == USER and isinstance(sent["chat_id"], int)


def test_send_message_rejects_what_telegram_rejects(fake: FakeTelegram) -> None:
    too_long = "x" * 4097
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        run(fake, lambda bot: bot.send_message(USER, too_long))
    big = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        run(fake, lambda bot: bot.send_message(USER, "x", reply_markup=big))
    fake.forget_chat(USER)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        run(fake, lambda bot: bot.send_message(USER, "x"))
    assert fake.sent_messages() == [] and len(fake.calls("sendMessage")) == 3


def test_send_photo_uploads_bytes(fake: FakeTelegram) -> None:
    content = jpeg(400, 300)

    async def send(bot: Bot) -> tuple[Any, bytearray]:
        message = await bot.send_photo(USER, content, caption="Foto C1 diterima")
        file = await bot.get_file(message.photo[-1].file_id)
        return message, await file.download_as_bytearray()

    message, downloaded = run(fake, send)
    assert message.caption == "Foto C1 diterima" and message.message_id == 1
    sizes = [(p.width, p.height) for p in message.photo]
    assert sizes[-1] == (400, 300) and sizes == sorted(sizes)
    assert bytes(downloaded) == content
    (sent,) = fake.sent_messages(USER)
    assert sent["method"] == "sendPhoto" and sent["photo"] == content
    assert sent["caption"] == "Foto C1 diterima"


def test_edit_message_text_and_markup(fake: FakeTelegram) -> None:
    async def flow(bot: Bot) -> Any:
        sent = await bot.send_message(USER, "PPWP TPS 001: benar?", reply_markup=CONFIRM)
        edited = await bot.edit_message_text("✅ Dikonfirmasi", USER, sent.message_id)
        return sent, edited

    sent, edited = run(fake, flow)
    assert edited.message_id == sent.message_id and edited.text == "✅ Dikonfirmasi"
    assert edited.edit_date is not None and edited.reply_markup is None  # keyboard removed
    assert fake.edits() == [
        {
            "method": "editMessageText",
            "chat_id": USER,
            "message_id": sent.message_id,
            "text": "✅ Dikonfirmasi",
        }
    ]
    assert fake.message(USER, sent.message_id)["text"] == "✅ Dikonfirmasi"

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        run(fake, lambda bot: bot.edit_message_text("✅ Dikonfirmasi", USER, sent.message_id))
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        run(fake, lambda bot: bot.edit_message_text("x", USER, 999))

    fake.seed_message(USER, 999, "PPWP TPS 002: benar?", CONFIRM.to_dict())
    cleared = run(fake, lambda bot: bot.edit_message_reply_markup(USER, 999))
    assert cleared.reply_markup is None and cleared.text == "PPWP TPS 002: benar?"
    assert fake.edits()[-1] == {
        "method": "editMessageReplyMarkup",
        "chat_id": USER,
        "message_id": 999,
    }


def test_answer_callback_query_once(fake: FakeTelegram) -> None:
    payload = tu.callback_update(5, USER, "ok:17", message_id=1, message_text="benar?")
    query_id = payload["callback_query"]["id"]
    assert run(fake, lambda bot: bot.answer_callback_query(query_id, text="Tersimpan"))
    assert fake.callback_answers() == [{"callback_query_id": query_id, "text": "Tersimpan"}]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        run(fake, lambda bot: bot.answer_callback_query(query_id))


def test_send_chat_action(fake: FakeTelegram) -> None:
    assert run(fake, lambda bot: bot.send_chat_action(USER, "typing"))
    assert fake.chat_actions() == [{"chat_id": USER, "action": "typing"}]


def test_get_file_and_download(fake: FakeTelegram) -> None:
    content = jpeg()
    payload = tu.photo_update(9, USER, caption="C1 PPWP")
    update = Update.de_json(payload, None)
    file_id = update.message.photo[-1].file_id
    assert fake.add_file(content, "photos/x.jpg", file_id=file_id) == file_id

    async def fetch(bot: Bot) -> tuple[Any, bytearray]:
        file = await bot.get_file(file_id)
        return file, await file.download_as_bytearray()

    file, downloaded = run(fake, fetch)
    assert bytes(downloaded) == content and file.file_size == len(content)
    assert file.file_path == f"{fake.base_file_url}{TEST_TOKEN}/photos/file_0.jpg"
    assert not Path("photos/file_0.jpg").exists()
    download = fake.requests[-1]
    assert download.method == "GET" and unquote(download.path) == (
        f"/file/bot{TEST_TOKEN}/photos/file_0.jpg"
    )
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        run(fake, lambda bot: bot.get_file("AgACAgUAAxkBAAInope"))
    wrong = requests.get(f"{fake.url}/file/botWRONG/photos/file_0.jpg", timeout=5)
    assert wrong.status_code == 401


def test_webhook_set_info_delete(fake: FakeTelegram) -> None:
    url = "https://relay.example/webhooks/telegram"

    async def flow(bot: Bot) -> tuple[Any, ...]:
        assert await bot.set_webhook(
            url, secret_token="s3cr3t_Token-1", allowed_updates=["message", "callback_query"]
        )
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
            await bot.set_webhook("http://relay.example/hook")
        with pytest.raises(BadRequest, match=r"(?i)unallowed characters"):
            await bot.set_webhook(url, secret_token="has space")
        assert await bot.delete_webhook()
        return info, await bot.get_webhook_info()

    fake.queue_update(tu.text_update(1, USER, "/start"))
    info, after = run(fake, flow)
    assert info.url == url and info.pending_update_count == 1
    assert info.allowed_updates == ("message", "callback_query")
    assert after.url == "" and fake.webhook == {"url": ""}
    (set_call, *_) = fake.calls("setWebhook")
    assert set_call["secret_token"] == "s3cr3t_Token-1"
    assert set_call["allowed_updates"] == ["message", "callback_query"]


def test_webhook_property_and_headers(fake: FakeTelegram) -> None:
    run(fake, lambda bot: bot.set_webhook("https://relay.example/h", secret_token="abc_123"))
    assert fake.webhook == {"url": "https://relay.example/h", "secret_token": "abc_123"}
    assert fake.webhook_headers() == {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": "abc_123",
    }


def test_get_updates_offset_and_limit(fake: FakeTelegram) -> None:
    ids = [
        fake.queue_update(tu.text_update(100, USER, "/start")),
        fake.queue_update(tu.contact_update(101, USER, "6281234567801")),
        fake.queue_update(tu.callback_update(102, USER, "ok:1", 7, "benar?")),
    ]
    assert ids == [100, 101, 102]

    async def poll(bot: Bot) -> tuple[Any, ...]:
        first = await bot.get_updates(limit=2)
        rest = await bot.get_updates(offset=first[-1].update_id + 1)
        again = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)
        return first, rest, again

    first, rest, again = run(fake, poll)
    assert [u.update_id for u in first] == [100, 101]
    assert first[0].message.text == "/start" and first[1].message.contact.user_id == USER
    assert [u.update_id for u in rest] == [102] and rest[0].callback_query.data == "ok:1"
    assert again == () and fake.pending_updates() == []
    assert fake.calls("getUpdates")[1]["offset"] == 102


def test_get_updates_long_poll_wakes_on_new_update(fake: FakeTelegram) -> None:
    def later() -> None:
        deadline = time.monotonic() + 5
        while fake.polls_waiting() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        fake.queue_update(tu.text_update(7, USER, "PPWP 01=120 02=95"))

    thread = threading.Thread(target=later)
    thread.start()
    updates = run(fake, lambda bot: bot.get_updates(timeout=5))
    thread.join()
    assert [u.message.text for u in updates] == ["PPWP 01=120 02=95"]
    assert fake.calls("getUpdates") == [{"method": "getUpdates", "timeout": 5}]


def test_get_updates_long_poll_returns_empty_when_nothing_arrives() -> None:
    with FakeTelegram(max_poll_wait=0.2) as fake:
        assert run(fake, lambda bot: bot.get_updates(timeout=30)) == ()


def test_second_poller_terminates_the_first(fake: FakeTelegram) -> None:
    url = f"{fake.url}/bot{TEST_TOKEN}/getUpdates"
    answers: list[requests.Response] = []
    first = threading.Thread(
        target=lambda: answers.append(requests.post(url, json={"timeout": 2}, timeout=5))
    )
    first.start()
    deadline = time.monotonic() + 5
    while fake.polls_waiting() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = requests.post(url, json={"timeout": 0}, timeout=5)
    first.join()
    assert second.json() == {"ok": True, "result": []}
    assert answers[0].status_code == 409
    assert answers[0].json()["description"].startswith("Conflict: terminated by other getUpdates")


# --- errors ---------------------------------------------------------------------------------


def test_429_raises_retry_after(fake: FakeTelegram) -> None:
    fake.throttle_next(1, retry_after=7, method="sendMessage")
    with pytest.raises(RetryAfter) as err:
        run(fake, lambda bot: bot.send_message(USER, "x"))
    assert err.value.retry_after == timedelta(seconds=7)
    (req,) = fake.wait_for_method("sendMessage")
    assert req.status == 429 and req.outcome == "scripted"
    assert run(fake, lambda bot: bot.send_message(USER, "x")).message_id == 1
    assert len(fake.calls("sendMessage")) == 2 and len(fake.sent_messages()) == 1


def test_fail_next_matches_a_method_name(fake: FakeTelegram) -> None:
    fake.fail_next(1, 429, body=too_many_requests_body(3), match="/sendMessage")
    assert run(fake, lambda bot: bot.get_me()).is_bot  # other methods unaffected
    with pytest.raises(RetryAfter, match="Retry in 0:00:03"):
        run(fake, lambda bot: bot.send_message(USER, "x"))
    body = requests.post(f"{fake.url}/bot{TEST_TOKEN}/sendMessage", json={}, timeout=5).json()
    assert body == {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}


def test_blocked_user_is_forbidden(fake: FakeTelegram) -> None:
    fake.block_user(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        run(fake, lambda bot: bot.send_message(USER, "x"))
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        run(fake, lambda bot: bot.send_photo(USER, jpeg()))
    assert fake.sent_messages() == []
    fake.unblock_user(USER)
    assert run(fake, lambda bot: bot.send_message(USER, "x")).message_id == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_network_errors(fake: FakeTelegram, status: int) -> None:
    fake.fail_next(1, status, match="sendMessage")
    with pytest.raises(NetworkError) as err:
        run(fake, lambda bot: bot.send_message(USER, "x"))
    assert not isinstance(err.value, TimedOut)
    assert fake.requests[-1].status == status


def test_dropped_connection_is_network_error(fake: FakeTelegram) -> None:
    fake.fail_next(1, drop=True, match="sendMessage")
    with pytest.raises(NetworkError):
        run(fake, lambda bot: bot.send_message(USER, "x"))
    assert fake.requests[-1].outcome == "dropped" and fake.sent_messages() == []


def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        run(fake, lambda bot: bot.get_me(), token="7000000001:wrong")
    wrong = requests.post(f"{fake.url}/bot7000000001:wrong/getMe", timeout=5)
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    unknown = requests.post(f"{fake.url}/bot{TEST_TOKEN}/sendTelepathy", timeout=5)
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )


def test_plain_json_and_query_string_calls(fake: FakeTelegram) -> None:
    base = f"{fake.url}/bot{TEST_TOKEN}"
    sent = requests.post(
        f"{base}/sendMessage",
        json={"chat_id": USER, "text": "123", "reply_markup": CONFIRM.to_dict()},
        timeout=5,
    ).json()
    assert sent["ok"] and sent["result"]["text"] == "123"
    assert sent["result"]["reply_markup"] == CONFIRM.to_dict()
    me = requests.get(f"{base}/getme", timeout=5).json()  # method names ignore case
    assert me["result"]["username"] == "tps_relay_bot"
    assert fake.sent_messages()[0]["text"] == "123"  # a string, not the number 123
    as_string = {"chat_id": str(USER), "text": "dua"}
    assert requests.get(f"{base}/sendMessage", params=as_string, timeout=5).json()["ok"]
    assert [m["text"] for m in fake.sent_messages(USER)] == ["123", "dua"]
    fake.clear()
    assert fake.sent_messages() == [] and fake.requests == []
    assert fake.message(USER, 2)["text"] == "dua"  # the chat history survives clear()


# --- update builders ----------------------------------------------------------------------------


def _check_text(u: Update) -> None:
    assert u.message.text == "/start" and u.message.entities[0].type == "bot_command"
    assert u.effective_user.id == USER and u.effective_chat.type == "private"
    assert u.effective_user.language_code == "id"


def _check_photo(u: Update) -> None:
    photo = u.message.photo
    assert 3 <= len(photo) <= 4 and u.message.caption == "C1 PPWP"
    assert [p.width for p in photo] == sorted(p.width for p in photo)
    assert [p.file_size for p in photo] == sorted(p.file_size for p in photo)
    assert len({p.file_id for p in photo}) == len(photo)


def _check_document(u: Update) -> None:
    doc = u.message.document
    assert doc.mime_type == "image/jpeg" and doc.file_name.endswith(".jpg")
    assert doc.file_size > 0 and doc.thumbnail.width == 240


def _check_own_contact(u: Update) -> None:
    contact = u.message.contact
    assert contact.user_id == u.message.from_user.id and contact.phone_number == "6281234567801"


def _check_other_contact(u: Update) -> None:
    assert u.message.contact.user_id == 999 != u.message.from_user.id


def _check_phonebook_contact(u: Update) -> None:
    assert u.message.contact.user_id is None and u.message.contact.phone_number == "+6281299"


def _check_callback(u: Update) -> None:
    query = u.callback_query
    assert query.data == "ok:17" and query.message.message_id == 41 and query.id
    assert query.message.from_user.is_bot and query.message.text == "PPWP benar?"
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "ok:17"
    assert query.chat_instance and u.effective_user.id == USER


def _check_edited(u: Update) -> None:
    assert u.message is None and u.edited_message.text == "02=96"
    assert u.edited_message.edit_date > u.edited_message.date


def _check_sticker(u: Update) -> None:
    assert u.message.sticker.emoji == "👍" and u.message.text is None


def _check_voice(u: Update) -> None:
    assert (
        u.message.voice.duration == timedelta(seconds=4)
        and u.message.voice.mime_type == "audio/ogg"
    )


def _check_location(u: Update) -> None:
    assert u.message.location.latitude < 0 and u.message.location.longitude > 100


def _check_group(u: Update) -> None:
    assert u.effective_chat.type == "group" and u.effective_chat.id < 0
    assert u.message.from_user.id == USER


def _check_supergroup(u: Update) -> None:
    assert u.effective_chat.type == "supergroup" and str(u.effective_chat.id).startswith("-100")


def _check_channel(u: Update) -> None:
    assert u.channel_post.chat.type == "channel" and u.channel_post.from_user is None
    assert u.message is None and u.effective_user is None


def _check_blocked(u: Update) -> None:
    member = u.my_chat_member
    assert member.new_chat_member.status == "kicked" and member.old_chat_member.status == "member"
    assert member.new_chat_member.user.is_bot and member.from_user.id == USER


def _check_reaction(u: Update) -> None:
    assert u.message_reaction.new_reaction[0].emoji == "👍" and u.effective_message is None


def _check_unknown(u: Update) -> None:
    assert "future_update_kind" in u.api_kwargs
    assert u.effective_message is None and u.effective_user is None


BUILDERS: list[tuple[str, dict[str, Any], Callable[[Update], None]]] = [
    ("text", tu.text_update(1, USER, "/start"), _check_text),
    ("photo", tu.photo_update(2, USER, caption="C1 PPWP"), _check_photo),
    ("photo3", tu.photo_update(18, USER, caption="C1 PPWP", sizes=3), _check_photo),
    ("document", tu.document_update(3, USER), _check_document),
    ("own_contact", tu.contact_update(4, USER, "6281234567801"), _check_own_contact),
    ("other_contact", tu.contact_update(5, USER, "6281234567802", 999), _check_other_contact),
    ("phonebook", tu.contact_update(6, USER, "+6281299", None), _check_phonebook_contact),
    ("callback", tu.callback_update(7, USER, "ok:17", 41, "PPWP benar?"), _check_callback),
    ("edited", tu.edited_message_update(8, USER, "02=96", 40), _check_edited),
    ("sticker", tu.sticker_update(9, USER), _check_sticker),
    ("voice", tu.voice_update(10, USER), _check_voice),
    ("location", tu.location_update(11, USER), _check_location),
    ("group", tu.group_text_update(12, USER, "halo", -4012345678, "group"), _check_group),
    ("supergroup", tu.group_text_update(13, USER, "halo"), _check_supergroup),
    ("channel", tu.channel_post_update(14, "Pengumuman"), _check_channel),
    ("blocked", tu.my_chat_member_update(15, USER), _check_blocked),
    ("reaction", tu.reaction_update(16, USER, 40), _check_reaction),
    ("unknown", tu.unknown_update(17), _check_unknown),
]


@pytest.mark.parametrize(
    ("payload", "check"), [b[1:] for b in BUILDERS], ids=[b[0] for b in BUILDERS]
)
def test_builders_parse_with_ptb(payload: dict[str, Any], check: Callable[[Update], None]) -> None:
    update = Update.de_json(payload, None)
    assert update.update_id == payload["update_id"]
    check(update)


def test_builder_payloads_travel_through_get_updates(fake: FakeTelegram) -> None:
    for _, payload, _check in BUILDERS:
        fake.queue_update(payload)
    updates = run(fake, lambda bot: bot.get_updates())
    assert [u.update_id for u in updates] == [b[1]["update_id"] for b in BUILDERS]
    for update, (_, _, check) in zip(updates, BUILDERS, strict=True):
        check(update)
