# ruff: noqa: E501  (page texts read best unbroken, as in web/i18n.py)
"""Texts of a reply's delivery on the ticket page (web.console.delivery) and of the photo
evidence on the public pages, merged into web.i18n.CATALOG."""

DELIVERY_TEXTS: dict[str, dict[str, str]] = {
    "fallback_sent_by_sms": {
        "id": "dikirim lewat SMS ke {phone} karena {reason}",
        "en": "sent by SMS to {phone} because {reason}",
    },
    "fallback_telegram_blocked": {
        "id": "petugas memblokir bot Telegram",
        "en": "the officer blocked the Telegram bot",
    },
    "fallback_telegram_chat_not_found": {
        "id": "Telegram tidak mengenal obrolan ini lagi",
        "en": "Telegram no longer knows this chat",
    },
    "fallback_telegram_deactivated": {
        "id": "akun Telegram petugas sudah dihapus",
        "en": "the officer's Telegram account was deleted",
    },
    "fallback_whatsapp_window": {
        "id": "jendela 24 jam WhatsApp sudah tertutup",
        "en": "WhatsApp's 24-hour window had closed",
    },
    "fallback_whatsapp_no_template": {
        "id": "jendela 24 jam WhatsApp sudah tertutup dan tidak ada templat yang disetujui",
        "en": "WhatsApp's 24-hour window had closed and no approved template is configured",
    },
    "fallback_failed": {
        "id": "kanal {channel} gagal mengirim",
        "en": "the {channel} channel could not deliver it",
    },
    "whatsapp_template_used": {
        "id": "dikirim dengan templat WhatsApp {sid} (di luar jendela 24 jam)",
        "en": "sent as WhatsApp template {sid} (outside the 24-hour window)",
    },
    "whatsapp_window_closed_hint": {
        "id": "Jendela 24 jam WhatsApp petugas sudah tertutup: balasan dikirim dengan templat {sid}.",
        "en": "The officer's WhatsApp 24-hour window has closed: replies go as template {sid}.",
    },
    "whatsapp_window_closed_no_template": {
        "id": "Jendela 24 jam WhatsApp petugas sudah tertutup dan {env} tidak diatur: balasan akan dikirim lewat SMS bila petugas punya nomor HP.",
        "en": "The officer's WhatsApp 24-hour window has closed and {env} is not set: replies go by SMS where the officer has a phone number.",
    },
    "provider_status": {"id": "status penyedia", "en": "provider status"},
    "compare_title": {
        "id": "Foto dibandingkan dengan data terkonfirmasi, per kolom",
        "en": "The photo against the confirmed tally, field by field",
    },
    "compare_field": {"id": "Kolom", "en": "Field"},
    "compare_photo": {"id": "Dibaca dari foto", "en": "Read from the photo"},
    "event_tally_evidence": {"id": "foto bukti ditambahkan", "en": "photo evidence added"},
    "evidence": {"id": "Foto bukti", "en": "Photo evidence"},
    "evidence_photo": {"id": "foto C.Hasil hal. {page}", "en": "C.Hasil photo p. {page}"},
}
