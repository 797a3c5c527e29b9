"""HTML, SVG and other markup are refused as attachments, by name, declared type and
content (issue 8, point 9): a browser could run them as a page of this site."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.attachments import sniff
from claims.models import Attachment

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("page.html", HTML, "text/html"),
        ("page.htm", b"just words", "text/plain"),  # the name alone
        ("drawing.svg", SVG, "image/svg+xml"),
        ("notes.txt", b"fine words", "image/svg+xml"),  # the declared type alone
        ("notes.txt", SVG, "text/plain"),  # the content alone
        ("notes.txt", b"\xef\xbb\xbf  \n<?xml version='1.0'?><svg/>", "text/plain"),
        ("notes.txt", b"Dear payer,\n<SCRIPT src=//evil.example/x.js></SCRIPT>", "text/plain"),
        ("scan", HTML, "application/octet-stream"),
        ("notes.txt", b"<iframe src=https://evil.example>", ""),
    ],
)
def test_markup_is_refused_with_a_clear_message(name, content, content_type):
    with pytest.raises(ValidationError) as exc:
        sniff(upload(name, content, content_type))
    assert exc.value.message_dict["file"] == [
        "HTML, SVG and other web pages cannot be attached. "
        "Only PDF, PNG, JPEG, TIFF or plain-text files can be attached."
    ]


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        ("run.exe", "application/octet-stream", "Files ending in .exe cannot be attached."),
        ("data.json", "application/json", "Files ending in .json cannot be attached."),
        ("scan.pdf", "application/javascript", "Only PDF, PNG, JPEG, TIFF or plain-text"),
    ],
)
def test_other_names_and_types_are_refused(name, content_type, message):
    with pytest.raises(ValidationError) as exc:
        sniff(upload(name, PDF, content_type))
    assert message in exc.value.message_dict["file"][0]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "kind"),
    [
        ("scan.pdf", PDF, "application/pdf", "PDF"),
        ("SCAN.PDF", PDF, "application/octet-stream", "PDF"),
        ("scan", PDF, "", "PDF"),
        ("notes.txt", b"Tooth #3 a < b > c; see <attached> EOB", "text/plain", "text"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg", "JPEG"),
    ],
)
def test_allowed_files_still_pass(name, content, content_type, kind):
    assert sniff(upload(name, content, content_type)) == kind


def test_the_api_answers_400_with_the_message_and_stores_nothing(world, client_for, make_claim):
    claim = make_claim()

    response = client_for(world.bill).post(
        f"/api/v1/claims/{claim.pk}/attachments/",
        {
            "kind": "eob",
            "label": "EOB",
            "status": "received",
            "file": upload("eob.svg", SVG, "image/svg+xml"),
        },
    )

    assert response.status_code == 400
    assert "HTML, SVG and other web pages cannot be attached" in response.json()["file"][0]
    assert not Attachment.objects.exists()
