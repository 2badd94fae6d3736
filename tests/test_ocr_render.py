"""Printable forms: page image, PDF, layout.json, and the `forms render` command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
from flask import Flask

from ocr import align, layout, qr
from ocr.render import PRINT_DPI, TpsInfo, layout_dict, page_size_px, render_page, write_form
from tests.ocr_support import TPS, demo_templates, dpr_with_dapils
from webhooks import cli_ocr


def test_rendered_page_carries_markers_and_a_qr_naming_template_tps_and_page() -> None:
    ppwp = demo_templates()["PPWP"]
    image = render_page(ppwp, 1, TpsInfo(TPS, "TPS 001", 287), dpi=150)
    gray = np.array(image.convert("L"))
    assert gray.shape == (page_size_px(150)[1], page_size_px(150)[0])
    assert sorted(align.detect_markers(gray)) == [0, 1, 2, 3]
    s = 150 / 25.4
    x, y, w = layout.QR_X_MM * s, layout.QR_Y_MM * s, layout.QR_MM * s
    data = qr.decode(gray[int(y) : int(y + w), int(x) : int(x + w)])
    assert data == qr.QrData("PPWP", ppwp.version, TPS, 1, 1)
    assert qr.parse_payload(qr.encode_payload(data)) == data


def test_dropout_red_vanishes_in_the_red_channel() -> None:
    ppwp = demo_templates()["PPWP"]
    rgb = np.array(render_page(ppwp, 1, TpsInfo(TPS), dpi=100).convert("RGB"))
    s = 100 / 25.4
    x, y, w, h = ppwp.fields[0].digits()[0].box
    box = rgb[round(y * s) - 2 : round((y + h) * s) + 2, round(x * s) - 2 : round((x + w) * s) + 2]
    assert box[..., 2].min() < 200  # visible to the officer (green/blue channels)
    assert box[..., 0].min() >= 235  # gone for the reader (red channel)


def test_layout_gives_page_size_and_every_box_and_bubble_in_pixels() -> None:
    dpr = demo_templates()["DPR"]
    data = layout_dict(dpr)
    assert data["page_size_px"] == [2480, 3508] and data["dpi"] == PRINT_DPI
    assert [f["key"] for f in data["fields"]][-3:] == ["SAH", "TS", "JSAHTS"]
    assert [f["key"] for f in data["fields"]][:4] == ["DPT", "DPTB", "DPK", "JDPT"]
    first = data["fields"][0]["digits"][0]
    _x, y, w, h = first["box"]
    s = PRINT_DPI / 25.4
    assert (w, h) == (round(layout.BOX_W_MM * s), round(layout.BOX_H_MM * s))
    assert len(first["bubbles"]) == 10
    assert all(b[1] > y + h for b in first["bubbles"])


def _pdf_is_well_formed(path: Path, pages: int) -> None:
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF-1.4") and raw.rstrip().endswith(b"%%EOF")
    xref = int(re.search(rb"startxref\n(\d+)", raw).group(1))
    assert raw[xref : xref + 4] == b"xref"
    table = raw[xref:].split(b"trailer")[0].split(b"\n")[3:]
    for number, line in enumerate(t for t in table if t.strip()):
        offset = int(line.split()[0])
        assert raw[offset:].startswith(b"%d 0 obj" % (number + 1))
    assert raw.count(b"/Type /Page ") == pages


def test_write_form_writes_png_per_page_and_one_pdf(tmp_path: Path) -> None:
    big = demo_templates()["PPWP"]
    paths = write_form(big, TpsInfo(TPS, "TPS 001", 287), tmp_path, dpi=100)
    assert [p.name for p in paths] == [f"{TPS}-PPWP.png", f"{TPS}-PPWP.pdf"]
    _pdf_is_well_formed(paths[1], 1)
    png = cv2.imread(str(paths[0]))
    assert png.shape[:2] == (page_size_px(100)[1], page_size_px(100)[0])


def _app() -> Flask:
    app = Flask("test")
    cli_ocr.register(app)
    return app


def test_forms_render_one_tps_and_a_whole_region(demo: str, tmp_path: Path) -> None:
    runner = _app().test_cli_runner()
    out = tmp_path / "one"
    result = runner.invoke(
        args=["forms", "render", "--contest", "PPWP", "--tps", "35.76.01.1001-001", "--out",
              str(out), "--dpi", "100"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        f"{TPS}-PPWP.pdf", f"{TPS}-PPWP.png", "layout.json"
    ]
    assert json.loads((out / "layout.json").read_text())["contest"] == "PPWP"

    region = tmp_path / "region"
    result = runner.invoke(
        args=["forms", "render", "--contest", "DPD", "--region", "3576", "--out", str(region),
              "--dpi", "60", "--no-png", "--combined"]
    )
    assert result.exit_code == 0, result.output
    pdfs = sorted(p.name for p in region.glob("35*-DPD.pdf"))
    assert len(pdfs) >= 2 and all(name.startswith("3576") for name in pdfs)
    _pdf_is_well_formed(region / "3576-DPD-all.pdf", len(pdfs))

    refused = runner.invoke(args=["forms", "render", "--contest", "XX", "--tps", TPS, "--out",
                                  str(tmp_path)])
    assert refused.exit_code != 0 and "no contest" in refused.output


def test_forms_render_prints_each_tps_its_dapils_candidate_lists(demo: str, tmp_path: Path) -> None:
    dpr_with_dapils(demo, {"JATIM-5": ["357601"], "JATIM-6": ["3576"]}, 3)
    result = _app().test_cli_runner().invoke(
        args=["forms", "render", "--contest", "DPR", "--region", "3576", "--out", str(tmp_path),
              "--dpi", "50", "--no-png", "--combined"]
    )
    assert result.exit_code == 0, result.output
    five = json.loads((tmp_path / "layout-JATIM-5.json").read_text())
    six = json.loads((tmp_path / "layout-JATIM-6.json").read_text())
    assert (five["dapil"], five["pages"]) == ("JATIM-5", 5) and five["version"] != six["version"]
    keys = [f["key"] for f in five["fields"]]
    assert keys[14:20] == ["01", "01.1", "01.2", "01.3", "01.J", "02"]
    assert next(f for f in five["fields"] if f["key"] == "01.2")["candidate_number"] == 2
    assert not (tmp_path / "layout.json").exists()
    pdfs = sorted(tmp_path.glob("35*-DPR.pdf"))
    assert len(pdfs) >= 2
    _pdf_is_well_formed(tmp_path / "3576-DPR-all.pdf", 5 * len(pdfs))
    assert "dapil JATIM-5: 5 page(s)" in result.output
    assert "dapil JATIM-6: 5 page(s)" in result.output


def test_pdf_pages_hold_the_page_image_exactly_at_two_bits_a_pixel(tmp_path: Path) -> None:
    import zlib

    from ocr.pdf import write_pdf

    page = render_page(demo_templates()["PPWP"], 1, TpsInfo(TPS, "TPS 001", 287), dpi=62)
    assert page.size[0] % 4  # rows that need padding to a whole byte
    write_pdf([page], tmp_path / "one.pdf", 62)
    raw = (tmp_path / "one.pdf").read_bytes()
    header = re.search(rb"/BitsPerComponent (\d+) /Filter /FlateDecode /Length (\d+) >>\nstream\n",
                       raw)
    assert header is not None and header.group(1) == b"2"
    start = header.end()
    packed = np.frombuffer(zlib.decompress(raw[start : start + int(header.group(2))]), np.uint8)
    width, height = page.size
    rows = packed.reshape(height, -1)
    pixels = np.stack([(rows >> shift) & 3 for shift in (6, 4, 2, 0)], axis=-1).reshape(height, -1)
    assert np.array_equal(pixels[:, :width], np.asarray(page))
