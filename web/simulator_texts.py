"""Texts of the simulator's channels, buttons, counter and reset: Indonesian first."""

from __future__ import annotations

SIMULATOR_TEXTS: dict[str, dict[str, str]] = {
    "sim_channel": {"id": "Tampilkan sebagai", "en": "Show as"},
    "sim_channel_sms": {"id": "SMS", "en": "SMS"},
    "sim_channel_telegram": {"id": "Telegram", "en": "Telegram"},
    "sim_channel_whatsapp": {"id": "WhatsApp", "en": "WhatsApp"},
    "sim_channel_apply": {"id": "Ganti saluran", "en": "Switch channel"},
    "sim_phone_label": {"id": "Ponsel petugas (latihan)", "en": "The officer's phone (training)"},
    "sim_thread": {"id": "Percakapan", "en": "Conversation"},
    "sim_message_label": {"id": "Pesan", "en": "Message"},
    "sim_photo_thumb": {"id": "Foto terkirim", "en": "Photo sent"},
    "sim_pressed": {"id": "Menekan tombol {label}", "en": "Pressed {label}"},
    "sim_segments": {"id": "{n} SMS", "en": "{n} SMS"},
    "sim_chars": {
        "id": "{n}/{limit} karakter ({encoding}) · {segments} SMS",
        "en": "{n}/{limit} characters ({encoding}) · {segments} SMS",
    },
    "sim_chars_plain": {"id": "{n}/{limit} karakter", "en": "{n}/{limit} characters"},
    "sim_reset": {"id": "Mulai ulang kontak latihan", "en": "Reset the training contact"},
    "sim_reset_help": {
        "id": "Tally latihan petugas ini disisihkan dan percakapan dikosongkan; data asli tetap.",
        "en": "This officer's training tallies are set aside and the thread cleared; real "
        "data stays.",
    },
    "sim_reset_done": {"id": "Kontak latihan dimulai ulang.", "en": "Training contact reset."},
    "sim_no_button": {
        "id": "Tombol itu sudah tidak ada (pesan sudah dijawab).",
        "en": "That button is gone (the message was answered).",
    },
}
