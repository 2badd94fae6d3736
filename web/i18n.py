# ruff: noqa: E501  (page texts read best unbroken, as in bots/messages.py)
"""Page texts in Indonesian (default) and English; the `lang` cookie (set by /lang/<code>) or
the browser's Accept-Language picks one."""

from __future__ import annotations

from flask import has_request_context, request

from web.attention_texts import ATTENTION_TEXTS
from web.console_texts import CONSOLE_TEXTS
from web.delivery_texts import DELIVERY_TEXTS
from web.simulator_texts import SIMULATOR_TEXTS
from web.viewer_texts import VIEWER_TEXTS

DEFAULT = "id"
LANGUAGES = ("id", "en")

CATALOG: dict[str, dict[str, str]] = {
    # navigation and shared
    "nav_results": {"id": "Hasil", "en": "Results"},
    "nav_console": {"id": "Konsol", "en": "Console"},
    "nav_simulator": {"id": "Simulator", "en": "Simulator"},
    "logout": {"id": "Keluar", "en": "Log out"},
    "search": {"id": "Cari", "en": "Search"},
    "save": {"id": "Simpan", "en": "Save"},
    "contest": {"id": "Pemilihan", "en": "Contest"},
    "candidate": {"id": "Calon / partai", "en": "Candidate / party"},
    "ballot_number": {"id": "No.", "en": "No."},
    "votes": {"id": "Suara", "en": "Votes"},
    "valid_votes": {"id": "Suara sah", "en": "Valid votes"},
    "invalid_votes": {"id": "Suara tidak sah", "en": "Invalid votes"},
    "status": {"id": "Status", "en": "Status"},
    "values": {"id": "Angka", "en": "Numbers"},
    "receipt": {"id": "Kode", "en": "Code"},
    "received": {"id": "Diterima", "en": "Received"},
    "history": {"id": "Riwayat", "en": "History"},
    "form_photo": {"id": "Foto formulir C.Hasil", "en": "Photo of the C.Hasil form"},
    "no_photo": {"id": "Tidak ada foto (dikirim sebagai teks)", "en": "No photo (sent as text)"},
    "registered": {"id": "Pemilih terdaftar", "en": "Registered voters"},
    "village": {"id": "Desa", "en": "Village"},
    "region": {"id": "Wilayah", "en": "Region"},
    "progress": {"id": "Kemajuan", "en": "Progress"},
    "when": {"id": "Kapan", "en": "When"},
    "who": {"id": "Siapa", "en": "Who"},
    "what": {"id": "Apa", "en": "What"},
    "detail": {"id": "Rincian", "en": "Detail"},
    "other_tally": {"id": "Data lain", "en": "Other tally"},
    # statuses
    "status_confirmed": {"id": "terkonfirmasi", "en": "confirmed"},
    "status_received": {"id": "menunggu konfirmasi", "en": "awaiting confirmation"},
    "status_conflict": {"id": "konflik", "en": "conflict"},
    "status_missing": {"id": "belum masuk", "en": "not yet reported"},
    "status_help_conflict": {
        "id": "Konflik: ada kiriman lain dengan angka berbeda untuk TPS ini. Petugas sedang "
        "memeriksanya; sampai selesai, yang tampil adalah angka yang sudah terkonfirmasi.",
        "en": "Conflict: another report for this TPS has different numbers. Staff are "
        "reviewing it; until then, the numbers shown are the ones already confirmed.",
    },
    "status_help_received": {
        "id": "Data sudah masuk dan menunggu konfirmasi petugas KPPS; belum dihitung.",
        "en": "A tally has arrived and awaits the KPPS officer's confirmation; not counted yet.",
    },
    "download_tps_csv": {
        "id": "Data terbuka: setiap TPS (CSV)",
        "en": "Open data: every TPS (CSV)",
    },
    "map_title": {
        "id": "Peta provinsi {contest}: TPS terkonfirmasi",
        "en": "Provinces, {contest}: TPS confirmed",
    },
    "map_no_data": {"id": "belum ada data", "en": "no data"},
    "vote_share": {"id": "Perolehan suara (bagan)", "en": "Vote share (chart)"},
    "turnout": {"id": "Partisipasi pemilih", "en": "Turnout"},
    "turnout_tps": {"id": "dari {n} TPS yang melaporkan", "en": "over {n} TPS reporting"},
    "sent_as": {"id": "dikirim sebagai", "en": "sent as"},
    "sub_pending": {"id": "menunggu YA", "en": "awaiting YA"},
    "sub_confirmed": {"id": "terkonfirmasi", "en": "confirmed"},
    "sub_rejected": {"id": "ditolak", "en": "rejected"},
    "sub_superseded": {"id": "diganti", "en": "replaced"},
    # a tally in the history whose numbers nobody confirmed (web.public.is_published)
    "withheld_pending": {
        "id": "belum dipublikasikan: menunggu konfirmasi petugas",
        "en": "not published: awaiting the officer's confirmation",
    },
    "withheld_rejected": {
        "id": "tidak dipublikasikan: ditolak, tidak pernah dikonfirmasi",
        "en": "not published: refused, never confirmed",
    },
    "withheld_superseded": {
        "id": "tidak dipublikasikan: diganti sebelum dikonfirmasi",
        "en": "not published: replaced before it was confirmed",
    },
    "withheld_other": {
        "id": "tidak dipublikasikan: tidak pernah dikonfirmasi",
        "en": "not published: never confirmed",
    },
    "source_text": {"id": "SMS/teks", "en": "SMS/text"},
    "source_photo": {"id": "foto", "en": "photo"},
    "by_officer": {"id": "petugas", "en": "officer"},
    "by_help_desk": {"id": "help desk", "en": "help desk"},
    "by_system": {"id": "sistem", "en": "system"},
    "event_tally_received": {"id": "diterima", "en": "received"},
    "event_tally_confirmed": {"id": "dikonfirmasi", "en": "confirmed"},
    "event_tally_superseded": {"id": "diganti kiriman baru", "en": "replaced by a resend"},
    "event_tally_conflict": {
        "id": "berbeda dari data terkonfirmasi",
        "en": "differs from the confirmed tally",
    },
    "event_tally_duplicate": {
        "id": "sama dengan data terkonfirmasi",
        "en": "same as the confirmed tally",
    },
    "event_tally_cancelled": {"id": "dibatalkan", "en": "cancelled"},
    "event_tally_changed": {"id": "diubah help desk", "en": "changed by the help desk"},
    "event_conflict_accepted": {"id": "dipakai oleh help desk", "en": "accepted by the help desk"},
    "level_national": {"id": "nasional", "en": "national"},
    "level_province": {"id": "provinsi", "en": "province"},
    "level_regency": {"id": "kabupaten/kota", "en": "regency/city"},
    "level_district": {"id": "kecamatan", "en": "district"},
    "level_village": {"id": "desa/kelurahan", "en": "village"},
    # dashboard
    "results_title": {"id": "Hasil penghitungan suara", "en": "Vote count results"},
    "results_lead": {
        "id": "Angka dari formulir C.Hasil yang dikirim dan dikonfirmasi petugas KPPS. "
        "Hanya data terkonfirmasi yang dijumlahkan.",
        "en": "Numbers from the C.Hasil forms sent and confirmed by KPPS officers. "
        "Only confirmed tallies are counted.",
    },
    "search_label": {"id": "Cari wilayah atau TPS", "en": "Find a region or TPS"},
    "search_placeholder": {"id": "nama wilayah atau kode", "en": "region name or code"},
    "search_within_label": {"id": "Cari TPS di desa ini", "en": "Find a TPS in this village"},
    "search_none": {
        "id": "Tidak ditemukan. Coba nama wilayah (mis. Mojokerto) atau kode TPS 13 angka.",
        "en": "Nothing found. Try a region name (e.g. Mojokerto) or a 13-digit TPS code.",
    },
    "search_tps_needs_village": {
        "id": "Nomor TPS berulang di setiap desa: buka halaman desanya, lalu cari TPS 001 di sana.",
        "en": "TPS numbers repeat in every village: open the village page and find TPS 001 there.",
    },
    "search_too_short": {"id": "Ketik minimal 3 huruf.", "en": "Type at least 3 letters."},
    "search_results": {"id": "Wilayah bernama “{q}”", "en": "Regions named “{q}”"},
    "search_more": {
        "id": "Hanya 30 pertama yang ditampilkan: ketik nama lebih lengkap.",
        "en": "Only the first 30 are shown: type more of the name.",
    },
    "not_found_title": {"id": "Halaman tidak ditemukan", "en": "Page not found"},
    "page_not_found": {
        "id": "Alamat ini tidak ada. Mungkin salah ketik, atau datanya belum dimuat.",
        "en": "There is no page at this address. It may be mistyped, or not loaded yet.",
    },
    "back_to_results": {"id": "Kembali ke hasil", "en": "Back to the results"},
    "api_hint": {"id": "Data terbuka (JSON):", "en": "Open data (JSON):"},
    "audit_head": {"id": "Catatan audit #{id} · {short}…", "en": "Audit log #{id} · {short}…"},
    "audit_head_title": {
        "id": "Entri catatan audit terbaru dan hash-nya: catat untuk memeriksa nanti bahwa catatan tidak ditulis ulang (bin/relay audit watch)",
        "en": "The audit log's newest entry and its hash: note it to check later that the log was not rewritten (bin/relay audit watch)",
    },
    "totals": {"id": "Perolehan suara", "en": "Totals"},
    "sub_regions": {"id": "Wilayah di bawahnya", "en": "Regions below"},
    "tps_list": {"id": "TPS", "en": "Polling stations"},
    "download_csv": {"id": "Unduh CSV", "en": "Download CSV"},
    "chart_title": {"id": "Data terkonfirmasi per jam", "en": "Tallies confirmed per hour"},
    "chart_empty": {"id": "Belum ada data terkonfirmasi.", "en": "No confirmed tallies yet."},
    "max_per_hour": {"id": "maks. {n}/jam", "en": "max {n}/hour"},
    "last_updated": {"id": "Diperbarui", "en": "Last updated"},
    "not_updated_yet": {"id": "Belum ada data terkonfirmasi.", "en": "No confirmed tallies yet."},
    "chart_x": {"id": "Jam (WIB)", "en": "Hour (WIB)"},
    "chart_y": {"id": "Data terkonfirmasi", "en": "Tallies confirmed"},
    "no_confirmed": {"id": "Belum ada data terkonfirmasi.", "en": "No confirmed tally yet."},
    "confirmed_at": {"id": "dikonfirmasi", "en": "confirmed"},
    "source": {"id": "Sumber", "en": "Source"},
    "events": {"id": "Peristiwa", "en": "Events"},
    # the whole C.Hasil: sections, party and candidate votes, failed rules
    "group_turnout": {"id": "Pemilih dan pengguna hak pilih", "en": "Voters and turnout"},
    "group_ballots": {"id": "Surat suara", "en": "Ballots"},
    "group_other": {"id": "Lainnya", "en": "Other"},
    "sec_DPT": {"id": "Pemilih terdaftar DPT", "en": "Registered voters (DPT)"},
    "sec_DPTB": {"id": "Pemilih DPTb (pindahan)", "en": "Additional list (DPTb, moved in)"},
    "sec_DPK": {"id": "Pemilih DPK (dengan KTP)", "en": "Special list (DPK, by ID card)"},
    "sec_PHP": {"id": "Pengguna hak pilih", "en": "Voters who voted"},
    "sec_PDPT": {"id": "Pengguna hak pilih DPT", "en": "Voted, DPT"},
    "sec_PDPTB": {"id": "Pengguna hak pilih DPTb", "en": "Voted, DPTb"},
    "sec_PDPK": {"id": "Pengguna hak pilih DPK", "en": "Voted, DPK"},
    "sec_SSD": {"id": "Surat suara diterima (DPT + 2% cadangan)", "en": "Ballots received (DPT + 2% reserve)"},
    "sec_SSR": {"id": "Surat suara dikembalikan (rusak/keliru coblos)", "en": "Ballots returned (damaged/mis-voted)"},
    "sec_SSTD": {"id": "Surat suara tidak digunakan", "en": "Ballots unused"},
    "sec_SS": {"id": "Surat suara digunakan", "en": "Ballots used"},
    "sec_DIS": {"id": "Pemilih disabilitas terdaftar", "en": "Disabled voters registered"},
    "sec_PDIS": {"id": "Pemilih disabilitas menggunakan hak pilih", "en": "Disabled voters who voted"},
    "sections_title": {"id": "Pemilih dan surat suara", "en": "Voters and ballots"},
    "tps_reported": {"id": "TPS yang melaporkan", "en": "TPS that reported it"},
    "sections_note": {
        "id": "Jumlah dari TPS terkonfirmasi yang mengisi bagian itu (bagian selain suara boleh tidak diisi).",
        "en": "Summed over the confirmed TPS that filled in that part (parts other than the votes are optional).",
    },
    "party_votes_title": {"id": "Suara partai dan calon", "en": "Party and candidate votes"},
    "party": {"id": "Partai", "en": "Party"},
    "party_own": {"id": "Suara partai saja", "en": "Party-only votes"},
    "party_candidates": {"id": "Suara calon", "en": "Candidates' votes"},
    "party_total": {"id": "Jumlah suara partai", "en": "Party total"},
    "dapil": {"id": "Dapil", "en": "Electoral district (dapil)"},
    "area": {"id": "Wilayah", "en": "Area"},
    "areas_title": {"id": "Hasil per wilayah", "en": "Results per area"},
    "candidates_per_area": {
        "id": "Setiap wilayah punya daftar calonnya sendiri: nomor urut yang sama adalah calon yang berbeda, jadi suara tidak dijumlahkan antarwilayah.",
        "en": "Each area has its own candidate list: the same ballot number is a different candidate, so votes are not summed across areas.",
    },
    "candidates_per_dapil": {
        "id": "Suara per calon ditampilkan untuk wilayah yang berada dalam satu dapil; di atasnya hanya jumlah per partai.",
        "en": "Votes per candidate are shown for regions within one electoral district (dapil); above that, party totals only.",
    },
    "checks_failed_title": {
        "id": "Data terakhir tidak lolos pemeriksaan formulir",
        "en": "The latest tally failed the form's checks",
    },
    "in_review": {"id": "Sedang ditinjau help desk", "en": "Under review by the help desk"},
    "rules_failed": {"id": "Aturan yang gagal", "en": "Rules failed"},
    # console: login
    "login_title": {"id": "Masuk konsol operator", "en": "Operator console login"},
    "operator_name": {"id": "Nama operator", "en": "Operator name"},
    "password": {"id": "Kata sandi", "en": "Password"},
    "login": {"id": "Masuk", "en": "Log in"},
    "login_hint": {
        "id": "Akun dibuat dengan: bin/relay operators add NAMA",
        "en": "Accounts are created with: bin/relay operators add NAME",
    },
    "login_failed": {"id": "Nama atau kata sandi salah.", "en": "Wrong name or password."},
    "login_throttled": {
        "id": "Terlalu banyak percobaan gagal dari alamat ini. Coba lagi dalam {n} detik.",
        "en": "Too many failed attempts from this address. Try again in {n} seconds.",
    },
    "failed_logins_since": {
        "id": "{n} percobaan masuk gagal sejak Anda terakhir masuk (terakhir dari {ip}, {at}).",
        "en": "{n} failed login attempts since your last login (last from {ip} at {at}).",
    },
    "password_title": {"id": "Ganti kata sandi", "en": "Change password"},
    "password_forced": {
        "id": "Kata sandi sekali pakai sudah digunakan. Pilih kata sandi Anda sendiri.",
        "en": "The one-time password is used up. Choose your own password.",
    },
    "new_password": {"id": "Kata sandi baru", "en": "New password"},
    "password_again": {"id": "Ulangi", "en": "Again"},
    "password_mismatch": {"id": "Kedua kata sandi berbeda.", "en": "The passwords differ."},
    "password_weak": {
        "id": "Minimal {n} karakter, dan berbeda dari yang lama.",
        "en": "At least {n} characters, and different from the old one.",
    },
    "password_changed": {"id": "Kata sandi diganti.", "en": "Password changed."},
    # console: overview and tickets
    "console_title": {"id": "Konsol help desk", "en": "Help-desk console"},
    "count_waiting": {"id": "menunggu jawaban", "en": "waiting for an answer"},
    "count_open": {"id": "tiket terbuka", "en": "open tickets"},
    "count_review": {"id": "perlu ditinjau", "en": "to review"},
    "count_held": {
        "id": "pesan nomor tak terdaftar tanpa tiket (batas tiket penuh)",
        "en": "messages from unknown senders without a ticket (ticket cap reached)",
    },
    "open_tickets": {"id": "Tiket terbuka (terlama dulu)", "en": "Open tickets (oldest first)"},
    "tickets": {"id": "Tiket", "en": "Tickets"},
    "ticket": {"id": "Tiket", "en": "Ticket"},
    "tickets_open": {"id": "terbuka", "en": "open"},
    "tickets_faq": {"id": "dijawab FAQ", "en": "answered by FAQ"},
    "tickets_closed": {"id": "ditutup", "en": "closed"},
    "waiting_since": {"id": "Menunggu", "en": "Waiting"},
    "waiting_minutes": {"id": "menunggu {m} mnt", "en": "waiting {m} min"},
    "waiting_hours": {"id": "menunggu {h} j {m} mnt", "en": "waiting {h} h {m} min"},
    "sms_segments": {"id": "{n} karakter termasuk awalan · {s} SMS", "en": "{n} characters with the prefix · {s} SMS"},
    "sms_unicode": {"id": "Unicode: 70 per SMS", "en": "Unicode: 70 per SMS"},
    "sim_photo_label": {"id": "Foto formulir C.Hasil", "en": "Photo of the C.Hasil form"},
    "send_shortcut": {"id": "Ctrl+Enter mengirim", "en": "Ctrl+Enter sends"},
    "filter_query": {"id": "TPS, wilayah, nomor HP, atau nama", "en": "TPS, region, phone or name"},
    "filter_channel": {"id": "Kanal", "en": "Channel"},
    "filter_any": {"id": "semua", "en": "any"},
    "filter_older": {"id": "Menunggu lebih dari", "en": "Waiting more than"},
    "filter_minutes": {"id": "{m} mnt", "en": "{m} min"},
    "filter_apply": {"id": "Saring", "en": "Filter"},
    "filter_clear": {"id": "hapus saringan", "en": "clear filters"},
    "answered": {"id": "sudah dijawab", "en": "answered"},
    "officer": {"id": "Petugas", "en": "Officer"},
    "unknown_sender": {"id": "pengirim tak dikenal", "en": "unknown sender"},
    "channel": {"id": "Kanal", "en": "Channel"},
    "address": {"id": "Alamat", "en": "Address"},
    "opened": {"id": "Dibuka", "en": "Opened"},
    "last_message": {"id": "Pesan terakhir", "en": "Last message"},
    "no_tickets": {"id": "Tidak ada tiket.", "en": "No tickets."},
    "faq_answer": {"id": "jawaban FAQ", "en": "FAQ answer"},
    # --- help desk suggestions and officers' change requests (bots.helpdesk, change_requests)
    "faq_suggestion": {
        "id": "Saran jawaban FAQ (belum dikirim)",
        "en": "Suggested FAQ answer (not sent)",
    },
    "requested_changes": {
        "id": "Perubahan yang diminta petugas",
        "en": "Changes the officer asks for",
    },
    "officer_message": {"id": "Pesan petugas", "en": "Officer's message"},
    "changes_fail_checks": {
        "id": "Angka baru belum lolos pemeriksaan formulir: {checks}. "
        "Ubah angkanya sebelum diterima.",
        "en": "The new numbers fail the form's checks: {checks}. Edit them before accepting.",
    },
    "delivery_queued": {"id": "dalam antrean", "en": "queued"},
    "delivery_sent": {"id": "terkirim", "en": "sent"},
    "delivery_failed": {"id": "gagal", "en": "failed"},
    "attempts": {"id": "percobaan", "en": "attempts"},
    "reply_via": {"id": "Balas lewat {channel}", "en": "Reply via {channel}"},
    "send_reply": {"id": "Kirim balasan", "en": "Send reply"},
    "close_after": {"id": "lalu tutup tiket", "en": "then close the ticket"},
    "close_ticket": {"id": "Tutup tiket", "en": "Close ticket"},
    "reopen": {"id": "Buka lagi", "en": "Reopen"},
    "reply_empty": {"id": "Balasan kosong.", "en": "The reply is empty."},
    "reply_too_long": {"id": "Balasan terlalu panjang.", "en": "The reply is too long."},
    "reply_queued": {
        "id": "Balasan dikirim ke antrean; status pengiriman tampil di bawah pesan.",
        "en": "Reply queued; its delivery status shows under the message.",
    },
    "officer_tallies": {"id": "Data dari petugas/TPS ini", "en": "Tallies of this officer/TPS"},
    # console: review
    "review_queue": {"id": "Antrean tinjauan", "en": "Review queue"},
    "review_item": {"id": "Tinjauan", "en": "Review"},
    "no_review": {"id": "Tidak ada yang perlu ditinjau.", "en": "Nothing to review."},
    "kind": {"id": "Jenis", "en": "Kind"},
    "since": {"id": "Sejak", "en": "Since"},
    "tallies": {"id": "Data", "en": "Tallies"},
    "kind_conflict": {"id": "konflik", "en": "conflict"},
    "kind_change_request": {"id": "permintaan ubah", "en": "change request"},
    "kind_failed_checks": {"id": "gagal pemeriksaan", "en": "failed checks"},
    "kind_low_confidence": {"id": "bacaan ragu", "en": "low-confidence read"},
    "kind_help_conflict": {
        "id": "Petugas lain mengirim angka berbeda untuk TPS dan pemilihan yang sudah terkonfirmasi.",
        "en": "Another officer sent different numbers for a TPS and contest already confirmed.",
    },
    "kind_help_change_request": {
        "id": "Petugas yang sudah konfirmasi mengirim angka baru: kemungkinan koreksi.",
        "en": "The officer who confirmed sent new numbers: probably a correction.",
    },
    "kind_help_failed_checks": {
        "id": "Data tidak lolos aturan atau peringatan formulir (bacaan foto atau kiriman teks); rinciannya di bawah.",
        "en": "The tally fails a rule or a warning of the form (a photo read or a typed tally); the details are below.",
    },
    "kind_help_low_confidence": {
        "id": "Pembaca foto ragu pada sebagian angka.",
        "en": "The photo reader is unsure of some digits.",
    },
    "resolved": {"id": "selesai", "en": "resolved"},
    "this_tally": {"id": "Kiriman ini", "en": "This tally"},
    "confirmed_tally": {"id": "Data terkonfirmasi", "en": "Confirmed tally"},
    "edit_values": {"id": "Ubah angka…", "en": "Edit numbers…"},
    "officer_has_ticket": {
        "id": "Petugas punya tiket terbuka:",
        "en": "The officer has open tickets:",
    },
    "note": {"id": "Catatan (wajib)", "en": "Note (required)"},
    "accept_this": {"id": "Pakai kiriman ini", "en": "Use this tally"},
    "keep_confirmed": {"id": "Pertahankan data terkonfirmasi", "en": "Keep the confirmed tally"},
    "mark_resolved": {"id": "Tandai selesai", "en": "Mark resolved"},
    "review_done": {
        "id": "Tinjauan selesai; petugas diberi tahu.",
        "en": "Review done; officers notified.",
    },
    "tally": {"id": "Data", "en": "Tally"},
    "change_values": {"id": "Ubah angka", "en": "Change the numbers"},
    "reason": {
        "id": "Alasan (wajib, masuk log audit)",
        "en": "Reason (required, goes to the audit log)",
    },
    "save_change": {"id": "Simpan perubahan", "en": "Save change"},
    "change_hint": {
        "id": "Angka harus lolos aturan formulir. Petugas diberi tahu lewat kanalnya. "
        "Perubahan data terkonfirmasi perlu persetujuan supervisor lain.",
        "en": "The numbers must pass the form's rules. The officer is told through their "
        "channel. A change to a confirmed tally needs another supervisor's approval.",
    },
    "tally_changed": {
        "id": "Data diubah; petugas diberi tahu.",
        "en": "Tally changed; the officer is notified.",
    },
    "not_a_number": {"id": "{field}: bukan angka.", "en": "{field}: not a number."},
    "review_error": {"id": "Tidak bisa: {reason}", "en": "Not possible: {reason}"},
    # console: changes to confirmed tallies (a second person approves) and operators
    "nav_approvals": {"id": "Persetujuan", "en": "Approvals"},
    "count_approvals": {"id": "menunggu persetujuan", "en": "waiting for approval"},
    "approvals_title": {
        "id": "Perubahan data terkonfirmasi menunggu persetujuan",
        "en": "Changes to confirmed tallies waiting for approval",
    },
    "approvals_lead": {
        "id": "Data terkonfirmasi hanya berubah bila operator lain (supervisor atau admin) "
        "menyetujui. Pengusul tidak bisa menyetujui usulannya sendiri.",
        "en": "A confirmed tally changes only when another operator (supervisor or admin) "
        "approves. The proposer cannot approve their own change.",
    },
    "accept_needs_approval": {
        "id": "Menggantikan data terkonfirmasi: berlaku setelah disetujui supervisor lain.",
        "en": "Replaces a confirmed tally: takes effect once another supervisor approves.",
    },
    "no_approvals": {"id": "Tidak ada usulan.", "en": "No proposals."},
    "recent_decisions": {"id": "Keputusan terakhir", "en": "Recent decisions"},
    "proposed_by": {"id": "Diusulkan oleh", "en": "Proposed by"},
    "decided_by": {"id": "Diputuskan oleh", "en": "Decided by"},
    "before": {"id": "Sebelum", "en": "Before"},
    "after": {"id": "Sesudah", "en": "After"},
    "approve": {"id": "Setujui", "en": "Approve"},
    "reject": {"id": "Tolak", "en": "Reject"},
    "withdraw": {"id": "Tarik kembali", "en": "Withdraw"},
    "change_kind_change": {"id": "ubah angka", "en": "new numbers"},
    "change_kind_accept": {"id": "pakai kiriman lain", "en": "use another tally"},
    "change_proposed": {
        "id": "Usulan #{n} dicatat; data berubah setelah disetujui supervisor lain.",
        "en": "Proposal #{n} recorded; the tally changes once another supervisor approves.",
    },
    "change_approved": {
        "id": "Usulan #{n} disetujui; data diubah dan petugas diberi tahu.",
        "en": "Proposal #{n} approved; the tally is changed and the officers are notified.",
    },
    "change_rejected": {"id": "Usulan #{n} ditolak.", "en": "Proposal #{n} rejected."},
    "change_withdrawn": {"id": "Usulan #{n} ditarik.", "en": "Proposal #{n} withdrawn."},
    "operators_title": {"id": "Operator", "en": "Operators"},
    "role": {"id": "Peran", "en": "Role"},
    "active": {"id": "Aktif", "en": "Active"},
    "last_login": {"id": "Terakhir masuk", "en": "Last login"},
    "operators_hint": {
        "id": "Kelola dengan: bin/relay operators add|role|deactivate|activate|reset NAMA",
        "en": "Manage with: bin/relay operators add|role|deactivate|activate|reset NAME",
    },
    # simulator
    "sim_title": {"id": "Simulator pelatihan", "en": "Training simulator"},
    "sim_lead": {
        "id": "Untuk pelatihan: kirim sebagai petugas terdaftar lewat kanal simulator; "
        "balasan tampil seperti di SMS, Telegram atau WhatsApp (pilih di ponsel). Kiriman "
        "diproses seperti pesan sungguhan.",
        "en": "For training: send as a roster officer through the simulator channel; replies "
        "appear as on SMS, Telegram or WhatsApp (choose on the phone). Messages are processed "
        "like real ones.",
    },
    "sim_training": {
        "id": "Latihan: data yang dikirim di sini tidak pernah dihitung dalam hasil dan tidak "
        "menyentuh data sungguhan petugas. Setiap kiriman dicatat atas nama Anda.",
        "en": "Training: tallies sent here are never counted in the results and never touch "
        "the officer's real tallies. Every message is recorded under your name.",
    },
    "training": {
        "id": "latihan (simulator, tidak dihitung)",
        "en": "training (simulator, not counted)",
    },
    "sim_off": {
        "id": "Simulator dimatikan di server ini (SIMULATOR_ENABLED).",
        "en": "The simulator is switched off in this deployment (SIMULATOR_ENABLED).",
    },
    "sim_find": {
        "id": "Cari petugas (nama, nomor, TPS)",
        "en": "Find an officer (name, phone, TPS)",
    },
    "sim_no_officers": {"id": "Tidak ada petugas.", "en": "No officers."},
    "sim_send": {"id": "Kirim", "en": "Send"},
    "sim_send_photo": {"id": "Kirim foto", "en": "Send photo"},
    "sim_empty": {"id": "Pesan kosong.", "en": "Empty message."},
    "sim_too_long": {"id": "Maksimal {n} karakter.", "en": "At most {n} characters."},
    "sim_no_photo": {"id": "Pilih foto dulu.", "en": "Choose a photo first."},
    "sim_bad_photo": {"id": "Hanya JPEG, PNG atau WebP.", "en": "JPEG, PNG or WebP only."},
    "sim_photo_too_large": {"id": "Foto maksimal {n} MB.", "en": "Photos up to {n} MB."},
    "sim_photo_store_down": {
        "id": "Foto tidak tersimpan: penyimpanan foto tidak menjawab. Coba lagi sebentar lagi.",
        "en": "Photo not kept: the photo store does not answer. Try again shortly.",
    },
    "sim_photo_unavailable": {
        "id": "Pengiriman foto lewat simulator belum tersedia.",
        "en": "Sending photos through the simulator is not available yet.",
    },
}


def _join(*parts: dict[str, dict[str, str]]) -> None:
    """Add the texts of other modules; a key defined twice would silently change a page."""
    for part in parts:
        twice = CATALOG.keys() & part.keys()
        if twice:
            raise ValueError(f"text keys defined twice: {sorted(twice)}")
        CATALOG.update(part)


_join(ATTENTION_TEXTS, DELIVERY_TEXTS, CONSOLE_TEXTS, VIEWER_TEXTS, SIMULATOR_TEXTS)


def current_language() -> str:
    if not has_request_context():
        return DEFAULT
    chosen = request.cookies.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or DEFAULT


def t(key: str, /, **params: object) -> str:
    """The text for `key` in the page's language; an unknown key shows its last word."""
    variants = CATALOG.get(key)
    if variants is None:
        return key.split("_", 1)[-1].replace("_", " ")
    template = variants.get(current_language()) or variants[DEFAULT]
    return template.format(**params) if params else template
