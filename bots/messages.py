"""Every text the conversation sends, in Indonesian (default) and English.

Kept short on purpose: most replies must fit one SMS (160 GSM-7 characters).
"""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_LANGUAGE = "id"
LANGUAGES = ("id", "en")

CATALOG: dict[str, dict[str, str]] = {
    # --- tallies --------------------------------------------------------------------------
    "tally_received": {
        "id": "Diterima {contest} TPS {tps}: {values}. Kode {receipt}. "
        "Balas YA jika benar, atau kirim ulang.",
        "en": "Received {contest} TPS {tps}: {values}. Code {receipt}. "
        "Reply YA if correct, or resend.",
    },
    "tally_replaced": {
        "id": "Koreksi {contest} TPS {tps}: {values}. Kode {receipt} (ganti {old}). "
        "Balas YA jika benar.",
        "en": "Corrected {contest} TPS {tps}: {values}. Code {receipt} (replaces {old}). "
        "Reply YA if correct.",
    },
    "readings": {"id": " Dibaca: {readings}.", "en": " Read as: {readings}."},
    # The simulator is a training channel: its tallies are never counted (relay.training).
    "training_mark": {"id": "[LATIHAN, tidak dihitung] ", "en": "[TRAINING, not counted] "},
    "confirmed": {
        "id": "Terkonfirmasi {contest} TPS {tps}: {values}. Kode {receipt}. Terima kasih.",
        "en": "Confirmed {contest} TPS {tps}: {values}. Code {receipt}. Thank you.",
    },
    "changed_before_confirm": {
        "id": "Help desk mengubah {contest} TPS {tps} (kode {receipt}) sebelum YA Anda tiba: "
        "{values}. Periksa; jika benar, balas YA {receipt}.",
        "en": "The help desk changed {contest} TPS {tps} (code {receipt}) before your YA "
        "arrived: {values}. Check; if right, reply YA {receipt}.",
    },
    "read_after_confirm": {
        "id": "Foto {contest} TPS {tps} terbaca setelah YA Anda dikirim: {values}. "
        "Periksa; jika benar, balas YA {receipt}.",
        "en": "The photo of {contest} TPS {tps} was read after you sent YA: {values}. "
        "Check; if right, reply YA {receipt}.",
    },
    "still_pending": {
        "id": " Masih menunggu YA: {receipts}.",
        "en": " Still waiting for YA: {receipts}.",
    },
    "nothing_pending": {
        "id": "Tidak ada kiriman yang menunggu konfirmasi. Kirim STATUS untuk melihat data TPS.",
        "en": "No tally is waiting for confirmation. Send STATUS to see your TPS.",
    },
    "receipt_not_pending": {
        "id": "Kode {receipt} tidak ada di kiriman Anda yang menunggu konfirmasi. "
        "Kirim STATUS untuk melihat kode, atau YA saja.",
        "en": "Code {receipt} is not among your tallies waiting for confirmation. "
        "Send STATUS to see the codes, or YA alone.",
    },
    "word_alone": {
        "id": "Untuk {action}, kirim {word} saja (atau {word} <kode>). Pertanyaan: kirim BANTUAN <pertanyaan>.",
        "en": "To {action}, send {word} alone (or {word} <code>). Questions: send HELP <question>.",
    },
    "action_confirm": {"id": "konfirmasi", "en": "confirm"},
    "action_cancel": {"id": "membatalkan", "en": "cancel"},
    "cancelled": {
        "id": "Dibatalkan: {contest} TPS {tps}, kode {receipt}. Kirim ulang data yang benar.",
        "en": "Cancelled: {contest} TPS {tps}, code {receipt}. Send the correct tally again.",
    },
    "locked_same": {
        "id": "{contest} TPS {tps} sudah terkonfirmasi dengan angka yang sama (kode {receipt}). "
        "Tidak perlu kirim lagi.",
        "en": "{contest} TPS {tps} is already confirmed with the same numbers (code {receipt}). "
        "Nothing more to send.",
    },
    "locked_different": {
        "id": "{contest} TPS {tps} sudah terkonfirmasi (kode {receipt}); data baru tidak dipakai. "
        "Untuk mengubah, kirim BANTUAN dan alasannya.",
        "en": "{contest} TPS {tps} is already confirmed (code {receipt}); new numbers not used. "
        "To change it, send HELP with the reason.",
    },
    "button_confirm": {"id": "✅ Benar", "en": "✅ Correct"},
    "button_correct": {"id": "✏️ Koreksi", "en": "✏️ Fix a number"},
    "correction_howto": {
        "id": "Kirim hanya angka yang salah, mis. 02=96 (atau SAH=.. TS=..); angka lain tetap. Kode {receipt}.",
        "en": "Send only the wrong numbers, e.g. 02=96 (or SAH=.. TS=..); the rest stays. Code {receipt}.",
    },
    "outcome_prefix": {"id": "➡️ ", "en": "➡️ "},
    # --- registration on messengers (Telegram) -------------------------------------------
    "registration_needed": {
        "id": "Selamat datang di TPS Relay. Tekan tombol di bawah untuk mengirim nomor HP Anda; kami cocokkan dengan daftar petugas KPPS/PPS.",
        "en": "Welcome to TPS Relay. Press the button below to share your phone number; we match it with the KPPS/PPS roster.",
    },
    "share_contact_button": {"id": "📱 Kirim nomor HP saya", "en": "📱 Share my phone number"},
    "contact_not_own": {
        "id": "Itu kontak orang lain. Kirim nomor HP Anda sendiri dengan tombol di bawah.",
        "en": "That is someone else's contact. Share your own number with the button below.",
    },
    "contact_unknown": {
        "id": "Nomor {phone} tidak terdaftar sebagai petugas KPPS/PPS. Minta PPS mendaftarkan nomor ini, atau kirim /bantuan <pertanyaan>.",
        "en": "Number {phone} is not on the KPPS/PPS roster. Ask your PPS to register it, or send /bantuan <question>.",
    },
    "registered": {
        "id": "Terdaftar: {name}, {scope}. Kirim foto formulir C.Hasil, atau teks: PPWP <kode TPS> 01=.. 02=.. 03=.. SAH=.. TS=..",
        "en": "Registered: {name}, {scope}. Send a photo of the C.Hasil form, or text: PPWP <TPS code> 01=.. 02=.. 03=.. SAH=.. TS=..",
    },
    "unsupported_content": {
        "id": "Maaf, hanya teks dan foto formulir C.Hasil yang bisa diproses. Kirim /bantuan <pertanyaan> bila perlu bantuan.",
        "en": "Sorry, only text and photos of the C.Hasil form can be processed. Send /bantuan <question> for help.",
    },
    "edited_ignored": {
        "id": "Pesan yang diedit tidak diproses. Kirim ulang sebagai pesan baru.",
        "en": "Edited messages are not processed. Send it again as a new message.",
    },
    # --- photos ----------------------------------------------------------------------------
    "photo_received": {
        "id": "Foto diterima dan disimpan, sedang dibaca. Hasilnya dikirim ke sini untuk Anda periksa.",
        "en": "Photo received and stored, now being read. The result comes here for you to check.",
    },
    "photo_read": {
        "id": "Dibaca dari foto {contest} TPS {tps}: {values}. Kode {receipt}.{uncertain} Balas YA jika benar, atau kirim angka yang salah, mis. 02=96.",
        "en": "Read from the photo {contest} TPS {tps}: {values}. Code {receipt}.{uncertain} Reply YA if correct, or send the wrong numbers, e.g. 02=96.",
    },
    "photo_uncertain": {
        "id": " Tanda ? = kurang jelas, mohon periksa.",
        "en": " A ? marks a number that was hard to read: please check it.",
    },
    "photo_checks_failed": {
        "id": " Angka belum cocok: {failures} Kirim angka yang benar, mis. 02=96.",
        "en": " The numbers do not add up: {failures} Send the right numbers, e.g. 02=96.",
    },
    "confirm_blocked": {
        "id": "{contest} TPS {tps} (kode {receipt}) belum bisa dikonfirmasi: {failures} Kirim angka yang benar, mis. 02=96.",
        "en": "{contest} TPS {tps} (code {receipt}) cannot be confirmed yet: {failures} Send the right numbers, e.g. 02=96.",
    },
    "not_an_image": {
        "id": "File ini bukan foto ({content_type}). Kirim foto formulir C.Hasil (JPEG atau PNG).",
        "en": "This file is not a photo ({content_type}). Send a photo of the C.Hasil form (JPEG or PNG).",
    },
    "photo_too_large": {
        "id": "Foto terlalu besar ({size} MB; maks {limit} MB). Kirim ulang sebagai foto biasa, bukan file.",
        "en": "Photo too large ({size} MB; max {limit} MB). Send it again as a normal photo, not a file.",
    },
    "photo_download_failed": {
        "id": "Foto tidak bisa diambil dari server pesan. Coba kirim ulang foto tersebut.",
        "en": "The photo could not be fetched from the messaging server. Please send it again.",
    },
    # --- who may report ---------------------------------------------------------------------
    "unknown_sender": {
        "id": "Nomor ini tidak terdaftar sebagai petugas KPPS/PPS. "
        "Minta PPS mendaftarkan nomor Anda, atau kirim BANTUAN <pertanyaan>.",
        "en": "This number is not on the KPPS/PPS roster. "
        "Ask your PPS to register it, or send HELP <question>.",
    },
    "unknown_tps": {
        "id": "TPS {tps} tidak dikenal. Kode TPS Anda: {own}. Periksa lalu kirim ulang.",
        "en": "TPS {tps} is unknown. Your TPS code: {own}. Check it and resend.",
    },
    "not_your_tps": {
        "id": "Anda tidak terdaftar untuk TPS {tps}. Kode TPS Anda: {own}. "
        "Kirim ulang dengan kode itu.",
        "en": "You are not registered for TPS {tps}. Your TPS code: {own}. Resend with that code.",
    },
    "scope_tps": {"id": "TPS {code}", "en": "TPS {code}"},
    "scope_village": {"id": "TPS di desa {code}", "en": "TPSs of village {code}"},
    "contest_not_here": {
        "id": "Pemilihan {contest} tidak ada di TPS {tps}. Yang ada: {contests}. "
        "Kirim ulang dengan salah satunya.",
        "en": "Contest {contest} is not held at TPS {tps}. Held there: {contests}. "
        "Resend with one of these.",
    },
    # --- grammar errors -----------------------------------------------------------------------
    "empty": {
        "id": "Pesan kosong. Format: PPWP <kode TPS> 01=.. 02=.. 03=.. SAH=.. TS=..",
        "en": "Empty message. Format: PPWP <TPS code> 01=.. 02=.. 03=.. SAH=.. TS=..",
    },
    "unrecognized": {
        "id": "Perintah '{word}' tidak dikenal. Kirim: PPWP <kode TPS> 01=.. SAH=.. TS=.., "
        "STATUS, atau BANTUAN <pertanyaan>.",
        "en": "Unknown command '{word}'. Send: PPWP <TPS code> 01=.. SAH=.. TS=.., "
        "STATUS, or HELP <question>.",
    },
    "unknown_contest": {
        "id": "Kode pemilihan '{contest}' tidak dikenal. Gunakan: {known}. "
        "Periksa lalu kirim ulang.",
        "en": "Contest code '{contest}' is unknown. Use: {known}. Check it and resend.",
    },
    "missing_tps": {
        "id": "Kode TPS tidak ada.{own_hint} Tulis 13 digit kode TPS setelah kode pemilihan, "
        "lalu kirim ulang.",
        "en": "TPS code missing.{own_hint} Write the 13-digit TPS code after the contest code "
        "and resend.",
    },
    "bad_tps": {
        "id": "Kode TPS '{text}' salah: harus 13 digit (10 digit desa + 3 digit TPS).{own_hint} "
        "Periksa lalu kirim ulang.",
        "en": "TPS code '{text}' is wrong: it must be 13 digits (10 village + 3 TPS).{own_hint} "
        "Check it and resend.",
    },
    "bad_token": {
        "id": "Tidak terbaca: '{token}'. Tulis nomor urut=suara, mis. 01=120, lalu SAH=.. TS=..",
        "en": "Cannot read '{token}'. Write ballot number=votes, e.g. 01=120, then SAH=.. TS=..",
    },
    "bad_candidate": {
        "id": "Kunci '{key}' salah. Calon partai ditulis NN.K=suara, mis. 01.3=25.",
        "en": "Key '{key}' is wrong. Party candidates are written NN.K=votes, e.g. 01.3=25.",
    },
    "bad_number": {
        "id": "Nilai {key} '{value}' bukan angka. Kirim ulang dengan angka saja.",
        "en": "Value of {key} '{value}' is not a number. Resend with digits only.",
    },
    "number_too_large": {
        "id": "Nilai {key} '{value}' terlalu besar. Periksa dan kirim ulang.",
        "en": "Value of {key} '{value}' is too large. Check it and resend.",
    },
    "duplicate_key": {
        "id": "{key} ditulis lebih dari sekali. Tulis setiap kunci satu kali, lalu kirim ulang.",
        "en": "{key} appears more than once. Write each key once and resend.",
    },
    "no_votes": {
        "id": "Perolehan suara tidak ada. Format: {contest_hint} <kode TPS> 01=.. 02=.. SAH=.. TS=..",
        "en": "No votes given. Format: {contest_hint} <TPS code> 01=.. 02=.. SAH=.. TS=..",
    },
    "bad_language": {
        "id": "Bahasa '{value}' tidak tersedia. Kirim BAHASA ID atau BAHASA EN.",
        "en": "Language '{value}' is not available. Send BAHASA ID or BAHASA EN.",
    },
    # --- arithmetic and completeness rules ------------------------------------------------------
    "rule_prefix": {"id": "Ditolak {contest} TPS {tps}: ", "en": "Rejected {contest} TPS {tps}: "},
    "unknown_ballot": {
        "id": "nomor urut {numbers} tidak ada di {contest} (hanya {valid}).",
        "en": "ballot number {numbers} is not in {contest} (only {valid}).",
    },
    "missing_ballot": {
        "id": "nomor urut {numbers} belum diisi (tulis 0 jika tidak ada suara).",
        "en": "ballot number {numbers} missing (write 0 if no votes).",
    },
    "missing_sah": {"id": "SAH belum diisi.", "en": "SAH (valid votes) missing."},
    "missing_ts": {"id": "TS (tidak sah) belum diisi.", "en": "TS (invalid votes) missing."},
    "sah_mismatch": {
        "id": "jumlah suara {total} tidak sama dengan SAH {sah}.",
        "en": "votes add up to {total}, not SAH {sah}.",
    },
    "over_registered": {
        "id": "SAH+TS={used} melebihi pemilih terdaftar {registered}.",
        "en": "SAH+TS={used} exceeds the {registered} registered voters.",
    },
    # --- the whole C.Hasil (bots.tally_rules) ----------------------------------------------
    "not_party_contest": {
        "id": "{contest} tidak punya calon partai ({keys}).",
        "en": "{contest} has no party candidates ({keys}).",
    },
    "unknown_candidate": {
        "id": "calon {keys} tidak ada di daftar dapil ini.",
        "en": "candidate {keys} is not on this dapil's list.",
    },
    "missing_candidates": {"id": "belum diisi: {keys}.", "en": "missing: {keys}."},
    "missing_rows": {"id": "belum diisi: {rows}.", "en": "missing: {rows}."},
    "used_mismatch": {"id": "{counts} harus sama.", "en": "{counts} must be equal."},
    "over_list": {
        "id": "{key}={value} melebihi {list}={registered}.",
        "en": "{key}={value} exceeds {list}={registered}.",
    },
    "voters_sum": {
        "id": "PDPT+PDPTB+PDPK={total} tidak sama dengan PHP={php}.",
        "en": "PDPT+PDPTB+PDPK={total} is not PHP={php}.",
    },
    "ballots_sum": {
        "id": "SSD={ssd} tidak sama dengan SSR+SSTD+SS={total}.",
        "en": "SSD={ssd} is not SSR+SSTD+SS={total}.",
    },
    "over_ballots": {
        "id": "SAH+TS={used} melebihi surat suara tersedia {available} (DPT {dpt} + 2%).",
        "en": "SAH+TS={used} exceeds the {available} ballots available (DPT {dpt} + 2%).",
    },
    "over_ballots_ssd": {
        "id": "SAH+TS={used} melebihi surat suara diterima SSD={available}.",
        "en": "SAH+TS={used} exceeds the ballots received SSD={available}.",
    },
    "dpt_unexpected": {
        "id": " Catatan: DPT={dpt} bukan DPT terdaftar TPS ini ({registered}); akan diperiksa "
        "petugas.",
        "en": " Note: DPT={dpt} is not this TPS's registered voters ({registered}); an operator "
        "will check it.",
    },
    "ssd_unexpected": {
        "id": " Catatan: SSD={ssd} bukan DPT {dpt} + 2% = {expected}; akan diperiksa petugas.",
        "en": " Note: SSD={ssd} is not DPT {dpt} + 2% = {expected}; an operator will check it.",
    },
    "tally_partial": {
        "id": "Diterima sebagian {contest} TPS {tps}: {values}. Kode {receipt}. "
        "Masih kurang: {missing}. Kirim sisanya: {contest} {tps} ...",
        "en": "Part received {contest} TPS {tps}: {values}. Code {receipt}. "
        "Still missing: {missing}. Send the rest: {contest} {tps} ...",
    },
    "tally_part_added": {
        "id": "Ditambahkan {contest} TPS {tps}: {values}. Kode {receipt} (ganti {old}). "
        "Masih kurang: {missing}.",
        "en": "Added {contest} TPS {tps}: {values}. Code {receipt} (replaces {old}). "
        "Still missing: {missing}.",
    },
    "tally_completed": {
        "id": "Lengkap {contest} TPS {tps}: {values}. Kode {receipt} (ganti {old}). "
        "Balas YA jika benar.",
        "en": "Complete {contest} TPS {tps}: {values}. Code {receipt} (replaces {old}). "
        "Reply YA if correct.",
    },
    "incomplete_blocked": {
        "id": "{contest} TPS {tps} (kode {receipt}) belum lengkap, belum bisa dikonfirmasi. "
        "Masih kurang: {missing}. Kirim sisanya: {contest} {tps} ...",
        "en": "{contest} TPS {tps} (code {receipt}) is not complete and cannot be confirmed. "
        "Still missing: {missing}. Send the rest: {contest} {tps} ...",
    },
    "missing_more": {"id": " +{count} lagi", "en": " +{count} more"},
    "status_incomplete": {
        "id": "{contest} belum lengkap ({receipt})",
        "en": "{contest} incomplete ({receipt})",
    },
    "rule_more": {"id": " (+{count} kesalahan lain)", "en": " (+{count} more)"},
    # --- status ----------------------------------------------------------------------------------
    "status_header": {"id": "TPS {tps}: ", "en": "TPS {tps}: "},
    "status_confirmed": {
        "id": "{contest} terkonfirmasi ({receipt})",
        "en": "{contest} confirmed ({receipt})",
    },
    "status_pending": {
        "id": "{contest} menunggu YA ({receipt})",
        "en": "{contest} awaiting YA ({receipt})",
    },
    "status_conflict": {
        "id": "{contest} KONFLIK ({receipt} vs {other})",
        "en": "{contest} CONFLICT ({receipt} vs {other})",
    },
    "status_missing": {"id": "belum: {contests}", "en": "missing: {contests}"},
    "status_all_done": {"id": "semua lengkap", "en": "all complete"},
    # --- help desk, language, limits -------------------------------------------------------------
    "ticket_opened": {
        "id": "Pertanyaan diterima (tiket #{ticket}). Petugas help desk akan membalas di sini.",
        "en": "Question received (ticket #{ticket}). A help-desk operator will reply here.",
    },
    "ticket_continued": {
        "id": "Pesan ditambahkan ke tiket #{ticket}. Petugas help desk akan membalas di sini.",
        "en": "Added to ticket #{ticket}. A help-desk operator will reply here.",
    },
    "help_usage": {
        "id": "Format: PPWP <kode TPS> 01=.. 02=.. 03=.. SAH=.. TS=.. | YA | BATAL | STATUS | "
        "BANTUAN <pertanyaan> | BAHASA EN",
        "en": "Format: PPWP <TPS code> 01=.. 02=.. 03=.. SAH=.. TS=.. | YA | BATAL | STATUS | "
        "HELP <question> | BAHASA ID",
    },
    "language_set": {"id": "Bahasa diganti ke Bahasa Indonesia.", "en": "Language set to English."},
    "rate_deferred": {
        "id": "Terlalu banyak pesan sekaligus. Pesan berikutnya diproses dalam {seconds} detik; "
        "tidak perlu dikirim ulang.",
        "en": "Too many messages at once. The next ones will be handled in {seconds} seconds; "
        "no need to send them again.",
    },
    "helpdesk_full": {
        "id": "Help desk sedang penuh. Pesan Anda disimpan; coba lagi nanti.",
        "en": "The help desk is full right now. Your message is kept; try again later.",
    },
    "media_not_read": {
        "id": "Foto diterima dan disimpan; pembacaan foto belum aktif. Kirim data lewat SMS/teks.",
        "en": "Photo received and stored; photo reading is not active yet. Send the tally as text.",
    },
    # --- help desk that helps: small talk, FAQ repeats, change requests (bots.chitchat,
    # bots.helpdesk, bots.change_requests); each fits one SMS with realistic values ---------
    "chitchat_greeting": {
        "id": "Halo! Kirim data: PPWP <kode TPS> 01=.. SAH=.. TS=.., STATUS, "
        "atau BANTUAN <pertanyaan>.",
        "en": "Hello! Send a tally: PPWP <TPS code> 01=.. SAH=.. TS=.., STATUS, "
        "or HELP <question>.",
    },
    "chitchat_thanks": {
        "id": "Sama-sama, selamat bertugas! Ada masalah? Kirim BANTUAN <pertanyaan>.",
        "en": "You're welcome, good luck! A problem? Send HELP <question>.",
    },
    "chitchat_ack": {
        "id": "Baik. Kirim STATUS untuk melihat data TPS Anda, atau BANTUAN <pertanyaan>.",
        "en": "OK. Send STATUS to see your TPS, or HELP <question>.",
    },
    "chitchat_junk": {
        "id": "Pesan tidak dipahami. Kirim data: PPWP <kode TPS> 01=.. SAH=.. TS=.., "
        "atau BANTUAN <pertanyaan>.",
        "en": "Message not understood. Send a tally: PPWP <TPS code> 01=.. SAH=.. TS=.., "
        "or HELP <question>.",
    },
    "faq_repeat_ticket": {
        "id": "Pertanyaan yang sama diteruskan ke petugas help desk (tiket #{ticket}). "
        "Jawabannya dikirim ke sini.",
        "en": "Same question again: passed to a help-desk operator (ticket #{ticket}). "
        "The answer comes here.",
    },
    "change_request_opened": {
        "id": "Permintaan ubah {contest} TPS {tps} kode {receipt}: {changes} diterima "
        "(no. {item}). Petugas memeriksa; hasilnya dikirim ke sini.",
        "en": "Change request {contest} TPS {tps} code {receipt}: {changes} received "
        "(no. {item}). An operator checks it; the outcome comes here.",
    },
    "change_request_same": {
        "id": "{contest} TPS {tps} kode {receipt} sudah berisi {changes}; tidak ada yang diubah.",
        "en": "{contest} TPS {tps} code {receipt} already has {changes}; nothing to change.",
    },
    "change_request_pending": {
        "id": "Kode {receipt} belum dikonfirmasi: kirim {changes} saja untuk mengoreksi, lalu YA.",
        "en": "Code {receipt} is not confirmed yet: send {changes} alone to correct it, then YA.",
    },
    "change_request_unknown": {
        "id": "Kode {receipt} tidak ada di data terkonfirmasi Anda. Kirim STATUS untuk melihat "
        "kode, lalu BANTUAN <kode> {changes}.",
        "en": "Code {receipt} is not among your confirmed tallies. Send STATUS to see the codes, "
        "then HELP <code> {changes}.",
    },
    "change_request_which": {
        "id": "Data mana yang diubah? Sebutkan kodenya: BANTUAN <kode> {changes}. "
        "Kirim STATUS untuk melihat kode.",
        "en": "Which tally should change? Give its code: HELP <code> {changes}. "
        "Send STATUS to see the codes.",
    },
    "change_request_bad_key": {
        "id": "{key} tidak ada di {contest} kode {receipt}. Tulis mis. BANTUAN {receipt} 01=51.",
        "en": "{key} is not on {contest} code {receipt}. Write e.g. HELP {receipt} 01=51.",
    },
    # --- the next step in every reply (issue #11: confirmation, errors, status) ------------
    "rule_next": {"id": " Periksa lalu kirim ulang.", "en": " Check and resend."},
    "pending_stands": {
        "id": " Angka kode {receipt} tetap berlaku.",
        "en": " The numbers of code {receipt} still stand.",
    },
    "same_as_pending": {
        "id": "{contest} TPS {tps}: angka sama dengan kiriman kode {receipt} yang menunggu YA. "
        "Balas YA jika benar.",
        "en": "{contest} TPS {tps}: the same numbers as code {receipt}, waiting for YA. "
        "Reply YA if correct.",
    },
    "tps_glued": {
        "id": "Kode TPS {tps} dan {pair} tersambung. Beri spasi sesudah 13 digit kode TPS, "
        "lalu kirim ulang.",
        "en": "TPS code {tps} and {pair} run together. Put a space after the 13-digit TPS code "
        "and resend.",
    },
    "own_tps_hint": {"id": " Kode TPS Anda: {own}.", "en": " Your TPS code: {own}."},
    "own_tps_range": {
        "id": "{first} s.d. {last} ({count} TPS)",
        "en": "{first} to {last} ({count} TPSs)",
    },
    "status_conflict_next": {
        "id": ". Bila {receipt} salah, kirim BANTUAN {receipt} dan angka yang benar.",
        "en": ". If {receipt} is wrong, send HELP {receipt} with the right numbers.",
    },
    "status_village": {
        "id": "Desa {village} ({count} TPS): lengkap {done}; masuk {reported}; belum {missing}. "
        "Rincian: CEK <kode TPS>, mis. CEK {example}.",
        "en": "Village {village} ({count} TPS): complete {done}; reported {reported}; "
        "nothing yet {missing}. Details: CEK <TPS code>, e.g. CEK {example}.",
    },
    "unknown_village": {
        "id": "Desa {village} tidak dikenal. Periksa 10 digit kode desa lalu kirim ulang.",
        "en": "Village {village} is unknown. Check the 10-digit village code and resend.",
    },
    "unregistered_tally": {
        "id": "Data ini TIDAK dicatat: akun Telegram ini belum terdaftar. Tekan tombol di bawah "
        "untuk mengirim nomor HP Anda, lalu kirim ulang datanya.",
        "en": "This tally was NOT recorded: this Telegram account is not registered yet. Press "
        "the button below to share your phone number, then send the tally again.",
    },
}


def text(key: str, language: str | None = None, /, **params: object) -> str:
    """The text for `key` in `language` (falling back to Indonesian), filled with params."""
    variants = CATALOG[key]
    template = variants.get(language or DEFAULT_LANGUAGE) or variants[DEFAULT_LANGUAGE]
    return template.format(**params)


def join_numbers(numbers: Iterable[int]) -> str:
    return ",".join(f"{n:02d}" for n in numbers)
