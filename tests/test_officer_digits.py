"""Officers' own handwriting as training data: `bin/relay ocr export-digits` writes the digit
boxes of confirmed photo tallies labelled with the confirmed values, only where the paper
agrees; ocr/train_digits.py's loader holds officers out by TPS."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from ocr import fusion, layout, synth
from ocr.classifier import BLANK_CLASS, X_CLASS
from ocr.reader import FieldReading
from relay.db import session_scope
from relay.models import Submission
from tests.fakes import telegram_updates as tu
from tests.support import drain
from tests.test_photo_flow import GOLDEN, USER, post, send_photo
from tests.test_photo_pages import dpr_form, pages  # noqa: F401  (fixtures)

TPS = "3576011001001"


def generator_labels(seed: int = 1) -> dict[tuple[str, int], int]:
    """(field, box) → what tests/data/ocr/generate.py wrote on the paper of form(CLEAN, seed)
    (ppwp_clean.jpg: 1, ppwp_slip.jpg: 4, whose slip is in a bubble), for the boxes it wrote
    something in (a blank box has no ink and is not exported)."""
    spec = importlib.util.spec_from_file_location("golden_generate", GOLDEN / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    rng = np.random.default_rng(seed)  # form(): the plans are drawn first
    plans = {k: synth.plan_number(v, rng, "X") for k, v in generate.CLEAN.items()}
    out = {}
    for key, row in plans.items():
        assert len(row) == layout.DIGITS
        for j, plan in enumerate(row):
            if plan.written != "blank":
                out[key, j] = X_CLASS if plan.written == "X" else int(plan.written)
    return out


def exported(app_cli, tmp_path: Path, *args: str) -> tuple[dict[str, np.ndarray], str, int]:
    out = tmp_path / "officers.npz"
    out.unlink(missing_ok=True)
    result = app_cli.invoke(args=["ocr", "export-digits", "--out", str(out), *args])
    if not out.exists():
        return {}, result.output, result.exit_code
    with np.load(out) as data:
        return {k: data[k] for k in data.files}, result.output, result.exit_code


def boxes_of(data: dict[str, np.ndarray]) -> dict[tuple[str, int], int]:
    pairs = zip(data["field"].tolist(), data["position"].tolist(), data["labels"].tolist(),
                strict=True)
    out = {(str(k), int(j)): int(label) for k, j, label in pairs}
    assert len(out) == len(data["labels"])  # each box once
    return out


def submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def say(client, redis_conn, update_id: int, text: str) -> None:
    post(client, tu.text_update(update_id, USER, text))
    drain(redis_conn)


def test_confirmed_photo_tally_exports_every_box_with_what_was_written(
    client, redis_conn, telegram, media_dir, app_cli, tmp_path
) -> None:
    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9500)
    [pending] = submissions()
    assert pending.status == "pending"
    data, output, code = exported(app_cli, tmp_path)
    assert code == 1 and data == {}  # not confirmed yet: nothing to learn from
    assert output.startswith("0 boxes")

    say(client, redis_conn, 9510, "YA")
    [confirmed] = submissions()
    assert confirmed.status == "confirmed"
    data, output, code = exported(app_cli, tmp_path)
    assert code == 0, output
    expected = generator_labels()
    assert boxes_of(data) == expected
    assert data["images"].shape == (len(expected), 28, 28)
    assert data["images"].dtype == np.float32 and data["images"].max() <= 1.0
    assert set(data["tps"].tolist()) == {TPS}
    assert set(data["submission"].tolist()) == {confirmed.id}
    assert BLANK_CLASS not in data["labels"]
    assert X_CLASS in data["labels"]
    # DPT: written 287, the model reads 217 (tests/test_photo_flow.py): the model's own
    # misread, confirmed by the officer, marked as disputed for the trainer to choose.
    disputed = {str(k) for k, d in zip(data["field"], data["disputed"], strict=True) if d}
    assert "DPT" in disputed and "01" not in disputed
    assert data["disputed"].sum() == sum(1 for k, _j in expected if k in disputed)
    summary = output.splitlines()[0]
    assert summary.startswith(f"{len(expected)} boxes (")
    assert "from 1 photos of 1 confirmed tallies" in summary
    assert "fields dropped: none" in summary

    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    data, output, code = exported(app_cli, tmp_path, "--since", later)
    assert code == 1 and "0 boxes" in output
    earlier = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    data, output, code = exported(app_cli, tmp_path, "--since", earlier)
    assert code == 0 and len(data["labels"]) == len(expected)
    # Half an hour ago on a clock in Jakarta (its wall time is 6.5 hours ahead of UTC's now).
    in_jakarta = (datetime.now(UTC) - timedelta(minutes=30)).astimezone(
        timezone(timedelta(hours=7))).isoformat()
    assert exported(app_cli, tmp_path, "--since", in_jakarta)[2] == 0
    data, output, code = exported(app_cli, tmp_path, "--since", "yesterday")
    assert code == 2 and "not an ISO date or time" in output
    data, output, code = exported(app_cli, tmp_path, "--contest", "DPD")
    assert code == 1
    data, output, code = exported(app_cli, tmp_path, "--contest", "ppwp")
    assert code == 0 and len(data["labels"]) == len(expected)


def test_a_correction_the_bubbles_deny_drops_that_field(
    client, redis_conn, telegram, media_dir, app_cli, tmp_path
) -> None:
    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9600)
    # The officer says the paper is miscopied: 119 and 96 (the sums still hold), not the
    # 120 and 95 written and bubbled.
    say(client, redis_conn, 9610, "01=119 02=96")
    say(client, redis_conn, 9611, "YA")
    photo, corrected = submissions()
    assert (photo.status, corrected.status) == ("superseded", "confirmed")
    assert corrected.votes == {"1": 119, "2": 96, "3": 40}
    data, output, code = exported(app_cli, tmp_path)
    assert code == 0, output
    expected = {k: v for k, v in generator_labels().items() if k[0] not in ("01", "02")}
    assert boxes_of(data) == expected
    assert set(data["submission"].tolist()) == {corrected.id}
    assert "fields dropped: bubbles_deny 2" in output


def test_a_field_the_arithmetic_changed_is_dropped(
    client, redis_conn, telegram, media_dir, app_cli, tmp_path
) -> None:
    """ppwp_slip.jpg: 02 written 95 and bubbled 45; read 45, the sums put it right to 95 and
    the officer confirms 95: what the paper says is not independent of the confirmed value."""
    send_photo(client, redis_conn, telegram, "ppwp_slip.jpg", 9700)
    say(client, redis_conn, 9710, "YA")
    [tally] = submissions()
    assert tally.status == "confirmed" and tally.votes["2"] == 95
    data, output, code = exported(app_cli, tmp_path)
    assert code == 0, output
    assert boxes_of(data) == {k: v for k, v in generator_labels(4).items() if k[0] != "02"}
    assert "fields dropped: arithmetic 1" in output


def test_training_tallies_are_left_out_unless_asked_for(
    demo, redis_conn, media_dir, app_cli, tmp_path
) -> None:
    from relay.simulator import send_photo as simulate_photo
    from relay.simulator import send_text

    simulate_photo("081234567801", (GOLDEN / "ppwp_clean.jpg").read_bytes(), "image/jpeg",
                   operator="ani")
    drain(redis_conn)
    send_text("081234567801", "YA", operator="ani")
    drain(redis_conn)
    [tally] = submissions()
    assert (tally.status, tally.training) == ("confirmed", True)
    data, output, code = exported(app_cli, tmp_path)
    assert code == 1 and data == {} and "0 boxes" in output
    data, output, code = exported(app_cli, tmp_path, "--include-training")
    assert code == 0, output
    assert boxes_of(data) == generator_labels()


def _officer_file(path: Path, tps_codes: list[str], per_tps: int) -> Path:
    n = len(tps_codes) * per_tps
    np.savez(
        path,
        images=np.random.default_rng(0).random((n, 28, 28)).astype(np.float32),
        labels=np.arange(n, dtype=np.int64) % 12,
        tps=np.repeat(np.array(tps_codes), per_tps),
        submission=np.repeat(np.arange(len(tps_codes)), per_tps),
    )
    return path


def reading(value: int, read: int | None, bubbles: str, written: str = "XX5",
            reasons: tuple[str, ...] = ()) -> FieldReading:
    return FieldReading(key="TS", code="TS", ballot_number=None, value=value, confidence=0.9,
                        uncertain=bool(reasons), reasons=reasons, written=written,
                        bubbles=bubbles, read=read)


@pytest.mark.parametrize(
    ("confirmed", "field", "why"),
    [
        (5, reading(5, 5, "--5"), None),  # read so, and bubbled so
        (5, reading(5, 5, "---"), None),  # read so (the bubbles skipped)
        (7, reading(5, 5, "--7"), None),  # corrected to what the bubbles say
        (7, reading(5, 5, "0-7"), None),  # a leading column bubbled 0
        (17, reading(5, 5, "-17", "X15"), None),
        (7, reading(5, 5, "--5"), "bubbles_deny"),  # corrected against the bubbles
        (7, reading(5, 5, "--?"), "bubbles_deny"),  # an unclear column vouches for nothing
        (7, reading(5, 5, "1-7"), "bubbles_deny"),  # a leading column says 1
        (7, reading(5, 5, "---"), "unverified"),  # corrected, nothing on paper says so
        (17, reading(5, 5, "--7", "X15"), "unverified"),  # the tens not bubbled
        (5, reading(5, 6, "--5", reasons=("corrected",)), "arithmetic"),
        (1000, reading(5, 5, "---"), "unverified"),  # no number of three boxes
        (None, reading(5, 5, "--5"), "not_confirmed"),
    ],
)
def test_trust_rule(confirmed: int | None, field: FieldReading, why: str | None) -> None:
    from ocr.officer_digits import _distrust

    assert _distrust(field, confirmed) == why


def test_leading_boxes_are_x_or_a_written_zero_and_digits_need_ink() -> None:
    from ocr.officer_digits import _labels

    ink = np.array([True, False, True])
    assert _labels(reading(5, 5, "--5", "X_5"), 5, ink) == [X_CLASS, None, 5]
    assert _labels(reading(5, 5, "--5", "0_5"), 5, ink) == [0, None, 5]
    assert _labels(reading(15, 15, "-15", "X15"), 15, ink) is None  # the 1's box is empty


def test_train_digits_loader_holds_officers_out_by_tps(tmp_path: Path, capsys) -> None:
    from ocr.train_digits import officer_sets, per_class_accuracy

    codes = [f"35760110010{i:02d}" for i in range(20)]
    first = _officer_file(tmp_path / "a.npz", codes[:12], 7)
    second = _officer_file(tmp_path / "b.npz", codes[10:], 5)  # TPS 10, 11 in both files
    sets = officer_sets([first, second], held_share=0.25, seed=3)
    assert len(sets.x) + len(sets.x_held) == 12 * 7 + 10 * 5
    assert sets.x.shape[1:] == (28, 28) and sets.x.dtype == np.float32
    assert len(sets.x) == len(sets.y) and len(sets.x_held) == len(sets.y_held)
    held, trained = set(sets.held_tps), set(sets.train_tps)
    assert not held & trained and held | trained == set(codes)
    assert len(held) == 5  # a quarter of 20 TPS, whatever their box counts
    again = officer_sets([first, second], held_share=0.25, seed=3)
    assert again.held_tps == sets.held_tps  # the same split for the same seed
    assert set(officer_sets([first], held_share=0.0, seed=3).held_tps) == set()
    with pytest.raises(ValueError, match="tps"):
        np.savez(tmp_path / "bad.npz", images=np.zeros((1, 28, 28), np.float32),
                 labels=np.zeros(1, np.int64))
        officer_sets([tmp_path / "bad.npz"], held_share=0.2, seed=1)
    disputed = tmp_path / "disputed.npz"
    with np.load(first) as data:
        np.savez(disputed, **{k: data[k] for k in data.files},
                 disputed=np.arange(len(data["labels"])) % 3 == 0)
    assert len(officer_sets([disputed], held_share=0.0, seed=3).x) == 12 * 7
    assert len(officer_sets([disputed], held_share=0.0, seed=3, skip_disputed=True).x) == 56
    from ocr import classifier
    from ocr.train_digits import _print_officers

    _print_officers("shipped model", classifier.load(), sets)
    printed = capsys.readouterr().out
    assert printed.startswith(f"shipped model on held-out officers (5 TPS, {len(sets.x_held)} "
                              "boxes): ")
    assert "per class (right/boxes): 0 " in printed
    accuracy = per_class_accuracy(np.array([1, 1, 2, 10]), np.array([1, 2, 2, 10]))
    assert accuracy == {"1": (1, 1), "2": (1, 2), "X": (1, 1)}


def test_a_form_of_four_pages_in_two_messages_exports_every_page(
    client, redis_conn, twilio, media_dir, app_cli, tmp_path, dpr_form, pages  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    """DPR in a dapil: party, candidate and party-total fields over four pages sent in two
    WhatsApp messages, confirmed once; the export finds every page through the pages read,
    and labels the printed totals (NN.J, JDPT, JSAHTS) from their confirmed parts."""
    from tests.test_photo_pages import send
    from tests.test_whatsapp import post as whatsapp

    values, photos = pages
    send(client, redis_conn, twilio, [photos[1], photos[2]])
    send(client, redis_conn, twilio, [photos[3], photos[4]])
    whatsapp(client, "YA")
    drain(redis_conn)
    [tally] = submissions()
    assert (tally.status, tally.contest_code) == ("confirmed", "DPR")
    data, output, code = exported(app_cli, tmp_path)
    assert code == 0, output
    assert "from 4 photos of 1 confirmed tallies" in output
    boxes = boxes_of(data)
    fields = {k for k, _j in boxes}
    assert {"01", "01.1", "01.J", "JDPT", "SAH", "JSAHTS"} <= fields
    for (key, j), label in boxes.items():
        digit = fusion.value_symbols(values[key])[j]
        assert label == digit or (digit == 10 and label in (X_CLASS, 0)), (key, j, label)
    kept_and_dropped = re.findall(r"(\w+) (\d+)", output.split("fields kept: ")[1])
    assert sum(int(n) for _why, n in kept_and_dropped) == len(dpr_form.fields)


def test_limit_and_a_real_and_a_training_tally_of_one_tps(
    client, redis_conn, telegram, media_dir, app_cli, tmp_path
) -> None:
    """The same TPS confirmed for real (Telegram) and in training (the simulator): the real
    one alone by default, both with --include-training, the first only with --limit 1."""
    from relay.simulator import send_photo as simulate_photo
    from relay.simulator import send_text

    send_photo(client, redis_conn, telegram, "ppwp_clean.jpg", 9800)
    say(client, redis_conn, 9810, "YA")
    simulate_photo("081234567801", (GOLDEN / "ppwp_slip.jpg").read_bytes(), "image/jpeg",
                   operator="ani")
    drain(redis_conn)
    send_text("081234567801", "YA", operator="ani")
    drain(redis_conn)
    real, training = submissions()
    assert (real.status, real.training, training.status, training.training) == (
        "confirmed", False, "confirmed", True)
    data, output, code = exported(app_cli, tmp_path)
    assert code == 0 and set(data["submission"].tolist()) == {real.id}
    data, output, code = exported(app_cli, tmp_path, "--include-training")
    assert code == 0 and set(data["submission"].tolist()) == {real.id, training.id}
    assert "from 2 photos of 2 confirmed tallies" in output
    data, output, code = exported(app_cli, tmp_path, "--include-training", "--limit", "1")
    assert code == 0 and set(data["submission"].tolist()) == {real.id}
    assert "from 1 photos of 1 confirmed tallies" in output
