"""The whole C.Hasil through the conversation (the worker's decision step, real database):
a full PPWP form, a DPR tally with its candidates sent in two SMS, a quick count, and voters
of the additional and special lists (DPTb, DPK) above the DPT."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bots.replies import LONG_REPLY, split_reply, split_text
from bots.reply import Reply
from relay.db import session_scope
from relay.models import ReviewItem, Submission
from tests.chasil_support import set_contest
from tests.support import converse

KPPS = "+6281234567801"  # TPS 3576011001001 (287 voters: 293 ballots with the 2% reserve)
KPPS_EN = "+6281234567802"  # TPS 3576011001002, English
TPS = "3576011001001"
DAPIL = {"JATIM-8": ["3576"]}
LISTS = {"JATIM-8": {1: [1, 2, 3], 2: [1, 2], 3: [1, 2]}}
FULL_PPWP = (
    "DPT=287 DPTB=2 DPK=1 PHP=260 PDPT=257 PDPTB=2 PDPK=1 SSD=293 SSR=1 SSTD=32 SS=260 "
    "DIS=3 PDIS=2 01=120 02=95 03=40 SAH=255 TS=5"
)


def say(sender: str, text: str) -> str:
    return converse(sender, text).text


def receipt(reply: str) -> str:
    found = re.search(r"(?:Kode|Code) (\w{6})", reply)
    assert found, reply
    return found[1]


def submissions() -> list[tuple[str, str | None]]:
    with session_scope() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id))
        return [(s.status, s.reason) for s in rows]


@pytest.fixture
def full_form(demo: str) -> str:
    """PPWP as KPU's recap wants it: every section of the form required."""
    set_contest("PPWP", [1, 2, 3], required=["voters", "ballots", "disabled"])
    return demo


@pytest.fixture
def dpr(demo: str) -> str:
    """DPR with dapils and party lists, every candidate required."""
    set_contest("DPR", [1, 2, 3], kind="parties", required=["candidates"], dapils=DAPIL,
                lists=LISTS)  # fmt: skip
    return demo


@pytest.fixture
def dpr_quick(demo: str) -> str:
    """DPR with dapils and party lists, the candidates optional (a quick count)."""
    set_contest("DPR", [1, 2, 3], kind="parties", dapils=DAPIL, lists=LISTS)
    return demo


def test_a_full_ppwp_form_is_echoed_and_confirmed(full_form: str) -> None:
    reply = say(KPPS, f"PPWP {TPS} {FULL_PPWP}")
    code = receipt(reply)
    assert reply == (
        f"Diterima PPWP TPS {TPS}: {FULL_PPWP}. Kode {code}. Balas YA jika benar, atau kirim ulang."
    )
    assert (
        say(KPPS, "YA") == f"Terkonfirmasi PPWP TPS {TPS}: {FULL_PPWP}. Kode {code}. Terima kasih."
    )
    with session_scope() as session:
        stored = session.scalars(select(Submission)).one()
        assert stored.status == "confirmed"
        assert stored.sections == {
            "DPT": 287, "DPTB": 2, "DPK": 1, "PHP": 260, "PDPT": 257, "PDPTB": 2, "PDPK": 1,
            "SSD": 293, "SSR": 1, "SSTD": 32, "SS": 260, "DIS": 3, "PDIS": 2,
        }  # fmt: skip
        assert stored.votes == {"1": 120, "2": 95, "3": 40}
        assert session.scalars(select(ReviewItem)).all() == []  # SSD = DPT + 2%: no warning


def test_a_required_section_left_out_keeps_the_tally_pending_and_unconfirmable(
    full_form: str,
) -> None:
    reply = say(KPPS, f"PPWP {TPS} 01=120 02=95 03=40 SAH=255 TS=5")
    code = receipt(reply)
    assert reply == (
        f"Diterima sebagian PPWP TPS {TPS}: 01=120 02=95 03=40 SAH=255 TS=5. Kode {code}. "
        f"Masih kurang: DPT DPTB DPK PHP SSD SSR SSTD SS DIS PDIS. Kirim sisanya: PPWP {TPS} ..."
    )
    assert say(KPPS, "YA") == (
        f"PPWP TPS {TPS} (kode {code}) belum lengkap, belum bisa dikonfirmasi. "
        f"Masih kurang: DPT DPTB DPK PHP SSD SSR SSTD SS DIS PDIS. Kirim sisanya: PPWP {TPS} ..."
    )
    assert say(KPPS, f"STATUS {TPS}").startswith(f"TPS {TPS}: PPWP belum lengkap ({code})")
    # the rest, without the votes already sent: completes the same tally
    rest = FULL_PPWP.split(" 01=")[0]
    reply = say(KPPS, f"PPWP {TPS} {rest}")
    new = receipt(reply)
    assert reply == (
        f"Lengkap PPWP TPS {TPS}: {FULL_PPWP}. Kode {new} (ganti {code}). Balas YA jika benar."
    )
    assert (
        say(KPPS, "YA") == f"Terkonfirmasi PPWP TPS {TPS}: {FULL_PPWP}. Kode {new}. Terima kasih."
    )
    assert submissions() == [("superseded", "incomplete"), ("confirmed", None)]


def test_a_dpr_tally_with_candidates_in_two_sms(dpr: str) -> None:
    first = say(KPPS, f"DPR {TPS} 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40")
    code = receipt(first)
    assert first == (
        f"Diterima sebagian DPR TPS {TPS}: 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40. "
        f"Kode {code}. Masih kurang: 03 02.2 03.1 03.2 SAH TS. Kirim sisanya: DPR {TPS} ..."
    )
    assert say(KPPS, "YA") == (
        f"DPR TPS {TPS} (kode {code}) belum lengkap, belum bisa dikonfirmasi. "
        f"Masih kurang: 03 02.2 03.1 03.2 SAH TS. Kirim sisanya: DPR {TPS} ..."
    )
    second = say(KPPS, f"DPR {TPS} 02.2=3 03=1 03.1=7 03.2=2 SAH=110 TS=2")
    new = receipt(second)
    assert second == (
        f"Lengkap DPR TPS {TPS}: 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40 02.2=3 03=1 03.1=7 "
        f"03.2=2 SAH=110 TS=2. Kode {new} (ganti {code}). Balas YA jika benar."
    )
    assert say(KPPS, "YA") == (
        f"Terkonfirmasi DPR TPS {TPS}: 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40 02.2=3 03=1 "
        f"03.1=7 03.2=2 SAH=110 TS=2. Kode {new}. Terima kasih."
    )
    with session_scope() as session:
        stored = session.scalars(select(Submission).where(Submission.status == "confirmed")).one()
        assert stored.votes == {"1": 10, "2": 5, "3": 1}
        assert stored.candidate_votes == {
            "1.1": 30, "1.2": 12, "1.3": 0, "2.1": 40, "2.2": 3, "3.1": 7, "3.2": 2,
        }  # fmt: skip
        assert stored.votes_by_ballot() == {1: 52, 2: 48, 3: 10}


def test_a_dpr_part_that_does_not_add_up_is_refused_and_the_pending_part_kept(dpr: str) -> None:
    code = receipt(say(KPPS, f"DPR {TPS} 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40"))
    reply = say(KPPS, f"DPR {TPS} 02.2=3 03=1 03.1=7 03.2=2 03.9=1 SAH=100 TS=2")
    stands = f" Angka kode {code} tetap berlaku. Periksa lalu kirim ulang."
    assert reply == f"Ditolak DPR TPS {TPS}: calon 03.9 tidak ada di daftar dapil ini." + stands
    reply = say(KPPS, f"DPR {TPS} 02.2=3 03=1 03.1=7 03.2=2 SAH=100 TS=2")
    assert reply == f"Ditolak DPR TPS {TPS}: jumlah suara 110 tidak sama dengan SAH 100." + stands
    assert submissions() == [("pending", "incomplete")]
    assert say(KPPS, "YA").startswith(f"DPR TPS {TPS} (kode {code}) belum lengkap")


def test_a_quick_count_needs_only_the_party_votes(dpr_quick: str) -> None:
    reply = say(KPPS_EN, "DPR 3576011001002 01=52 02=48 03=10 SAH=110 TS=2")
    code = receipt(reply)
    assert reply == (
        f"Received DPR TPS 3576011001002: 01=52 02=48 03=10 SAH=110 TS=2. Code {code}. "
        "Reply YA if correct, or resend."
    )
    assert say(KPPS_EN, "YA") == (
        f"Confirmed DPR TPS 3576011001002: 01=52 02=48 03=10 SAH=110 TS=2. Code {code}. Thank you."
    )


def test_voters_of_the_dptb_and_dpk_above_the_dpt_are_accepted(demo: str) -> None:
    # 287 on the DPT, 4 + 2 more on the additional and special lists: 292 voted, 293 ballots
    tally = "DPT=287 DPTB=4 DPK=2 PHP=292 01=150 02=100 03=38 SAH=288 TS=4"
    reply = say(KPPS, f"PPWP {TPS} {tally}")
    code = receipt(reply)
    assert reply.startswith(f"Diterima PPWP TPS {TPS}: {tally}. Kode {code}.")
    assert say(KPPS, "YA") == f"Terkonfirmasi PPWP TPS {TPS}: {tally}. Kode {code}. Terima kasih."
    # one more than the ballots available is refused, naming the numbers
    assert say(KPPS, f"PPWP {TPS} 01=150 02=100 03=40 SAH=290 TS=4") == (
        f"Ditolak PPWP TPS {TPS}: SAH+TS=294 melebihi surat suara tersedia 293 (DPT 287 + 2%). "
        "Periksa lalu kirim ulang."
    )


def test_ballots_received_other_than_dpt_plus_reserve_is_a_warning_for_review(demo: str) -> None:
    reply = say(KPPS, f"PPWP {TPS} SSD=300 01=120 02=95 03=40 SAH=255 TS=5")
    assert reply.startswith(f"Diterima PPWP TPS {TPS}: SSD=300 01=120")
    assert reply.endswith(" Catatan: SSD=300 bukan DPT 287 + 2% = 293; akan diperiksa petugas.")
    with session_scope() as session:
        item = session.scalars(select(ReviewItem)).one()
        assert item.kind == "failed_checks"
        assert item.detail["rules"] == ["ssd_unexpected"]
    assert submissions() == [("pending", None)]


def test_a_dpt_other_than_the_tps_registered_voters_is_a_warning_for_review(demo: str) -> None:
    """The form's DPT sets the ballots available: an inflated one (here 900 on a TPS of 287)
    must not let an inflated total through unseen. It is kept as written, and a review item
    asks an operator to look at it (the public page shows the TPS as under review)."""
    tally = "DPT=900 01=500 02=300 03=100 SAH=900 TS=5"
    reply = say(KPPS, f"PPWP {TPS} {tally}")
    assert reply.startswith(f"Diterima PPWP TPS {TPS}: {tally}.")
    assert reply.endswith(
        " Catatan: DPT=900 bukan DPT terdaftar TPS ini (287); akan diperiksa petugas."
    )
    with session_scope() as session:
        item = session.scalars(select(ReviewItem)).one()
        assert item.kind == "failed_checks"
        assert item.detail["rules"] == ["dpt_unexpected"]
        assert item.detail["warnings"]["dpt_unexpected"] == {"dpt": 900, "registered": 287}


def test_a_correction_of_a_section_keeps_the_rest(full_form: str) -> None:
    code = receipt(say(KPPS, f"PPWP {TPS} {FULL_PPWP}"))
    reply = say(KPPS, "PDPT=256 PHP=259 SS=259 SSTD=33 TS=4")
    new = receipt(reply)
    assert "PHP=259 PDPT=256" in reply and "SSTD=33 SS=259" in reply and "TS=4." in reply
    assert f"(ganti {code})" in reply
    assert say(KPPS, "YA").startswith(f"Terkonfirmasi PPWP TPS {TPS}: DPT=287 ")
    assert say(KPPS, "STATUS").startswith(f"TPS {TPS}: PPWP terkonfirmasi ({new})")


def replies_to(sender: str, text: str) -> list[str]:
    """Every reply to one message (a long receipt may be several), through `respond`."""
    from bots.conversation import respond
    from bots.identity import find_officer
    from relay.models import InboundMessage

    with session_scope() as session:
        inbound = InboundMessage(
            channel="sms-gateway", provider_id=f"long-{len(text)}", sender=sender, text=text,
            payload="{}",
        )  # fmt: skip
        session.add(inbound)
        session.flush()
        officer = find_officer(session, "sms-gateway", sender)
        inbound.officer_id = officer.id
        return [reply.text for reply in respond(session, inbound, officer)]


def test_a_whole_dpr_form_of_18_parties_and_180_candidates_is_echoed_whole(demo: str) -> None:
    parties = list(range(1, 19))
    lists = {"JATIM-8": {p: list(range(1, 11)) for p in parties}}
    set_contest("DPR", parties, kind="parties", required=["voters", "ballots", "candidates"],
                dapils=DAPIL, lists=lists)  # fmt: skip
    rows = [f"{p:02d}=2 " + " ".join(f"{p:02d}.{k}={k % 3}" for k in range(1, 11)) for p in parties]
    sah = 18 * (2 + sum(k % 3 for k in range(1, 11)))  # 18 parties * 12 = 216
    sections = "DPT=287 DPTB=2 DPK=1 PHP=221 SSD=293 SSR=2 SSTD=70 SS=221"
    values = f"{sections} " + " ".join(rows) + f" SAH={sah} TS=5"
    parts = replies_to(KPPS, f"DPR {TPS} {values}")
    # on SMS: numbered single-SMS parts, cut between parties, the receipt whole when joined
    count = len(parts)
    assert count == 11 and all(len(part) <= 160 for part in parts)
    marks = [f" ({i}/{count})" for i in range(1, count + 1)]
    assert all(part.endswith(mark) for part, mark in zip(parts, marks, strict=True))
    assert all(re.match(r"\d\d=2 \d\d\.1=1 ", part) for part in parts[1:-1])
    body = " ".join(part.removesuffix(mark) for part, mark in zip(parts, marks, strict=True))
    code = receipt(body)
    assert body == (
        f"Diterima DPR TPS {TPS}: {values}. Kode {code}. Balas YA jika benar, atau kirim ulang."
    )
    assert say(KPPS, "YA") == f"Terkonfirmasi DPR TPS {TPS}: {values}. Kode {code}. Terima kasih."


def test_a_reply_too_long_for_one_message_is_cut_between_parties() -> None:
    rows = [f"{p:02d}=1 " + " ".join(f"{p:02d}.{k}={100 + k}" for k in range(1, 11)) for p in
            range(1, 19)]  # fmt: skip
    body = f"Diterima DPR TPS {TPS}: " + " ".join(rows) + " SAH=18216 TS=3. Kode ABCDEF."
    parts = split_text(body)
    assert len(body) > LONG_REPLY and len(parts) == 2
    assert all(len(part) <= LONG_REPLY for part in parts)
    assert parts[0].endswith(" (1/2)") and parts[1].endswith(" (2/2)")
    assert re.match(r"\d\d=1 \d\d\.1=101 ", parts[1])  # the cut falls before a party's rows
    assert parts[0].removesuffix(" (1/2)") + " " + parts[1].removesuffix(" (2/2)") == body
    reply = Reply(body, buttons=(("YA", "YA ABCDEF"),))
    first, last = split_reply(reply)
    assert (first.text, first.buttons, last.text, last.buttons) == (
        parts[0], (), parts[1], reply.buttons,
    )  # fmt: skip
    assert split_text("x" * 2000) == ["x" * 2000]  # one word is never cut


def test_an_operator_changes_a_party_total_and_the_candidates_stay(dpr: str) -> None:
    from bots.review import ReviewError, change_tally

    say(KPPS, f"DPR {TPS} 01=10 01.1=30 01.2=12 01.3=0 02=5 02.1=40 02.2=3 03=1 03.1=7 03.2=2 "
              "SAH=110 TS=2")  # fmt: skip
    say(KPPS, "YA")
    with session_scope() as session:
        stored = session.scalars(select(Submission)).one()
        # the console shows and edits what each number counts: party 03's total 10 -> 11
        change_tally(
            session, "ana", stored, {1: 52, 2: 48, 3: 11}, 111, 2, "recount", approved=True
        )
        assert stored.votes == {"1": 10, "2": 5, "3": 2}  # its own votes took the change
        assert stored.candidate_votes["3.1"] == 7 and stored.votes_by_ballot()[3] == 11
        with pytest.raises(ReviewError) as refused:  # SAH must still be the party totals
            change_tally(
                session, "ana", stored, {1: 52, 2: 48, 3: 11}, 120, 2, "typo", approved=True
            )
        assert [f.code for f in refused.value.failures] == ["sah_mismatch"]
