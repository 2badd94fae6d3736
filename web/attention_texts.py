# ruff: noqa: E501  (page texts read best unbroken, as in web/i18n.py)
"""Texts of /console/attention (web.console.attention), merged into web.i18n.CATALOG so that
every key exists whichever module is imported first."""

ATTENTION_TEXTS: dict[str, dict[str, str]] = {
    "attention": {"id": "Perlu perhatian", "en": "Needs attention"},
    "attention_intro": {
        "id": "Pesan yang tersimpan tetapi gagal diproses berulang kali. Perbaiki penyebabnya, lalu coba lagi.",
        "en": "Stored messages whose processing failed again and again. Fix the cause, then retry.",
    },
    "attention_none": {"id": "Tidak ada.", "en": "Nothing."},
    "attention_replies": {
        "id": "Balasan yang gagal dikirim",
        "en": "Replies that could not be sent",
    },
    "attention_retry": {"id": "Coba lagi sekarang", "en": "Retry now"},
    "attention_retried": {
        "id": "Pesan #{id} diproses lagi.",
        "en": "Message #{id} is processed again.",
    },
    "attention_failures": {"id": "Gagal", "en": "Failures"},
    "attention_error": {"id": "Galat", "en": "Error"},
    "attention_channel": {"id": "Kanal", "en": "Channel"},
    "attention_sender": {"id": "Pengirim", "en": "Sender"},
    "attention_recipient": {"id": "Penerima", "en": "Recipient"},
    "attention_text": {"id": "Teks", "en": "Text"},
    "attention_stage": {"id": "Tahap", "en": "Stage"},
    "attention_stage_inbound": {"id": "percakapan", "en": "conversation"},
    "attention_stage_media": {"id": "unduh foto", "en": "photo download"},
    "attention_stage_photo": {"id": "baca foto", "en": "photo reading"},
}
