"""MAIL-8: Word documents as PDF copy through LibreOffice (soffice), when it is installed."""

from __future__ import annotations

import base64
import io
import stat
import zipfile

import pytest
from tests.messaging.conftest import drain
from tests.providers.test_email_api import URL, settings_for

from praxisbote.messaging import pdf
from praxisbote.messaging.models import Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def minimal_docx(text: str = "Befund: alles in Ordnung.") -> bytes:
    """The smallest Word document: content types, the package relation, the body."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicat'
            'ion/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conte'
            'ntType="application/xml"/><Override PartName="/word/document.xml" ContentType="ap'
            'plication/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxm'
            'lformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sch'
            'emas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxml'
            'formats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
            f"{text}</w:t></w:r></w:p></w:body></w:document>",
        )
    return buffer.getvalue()


def mail_with(filename: str, data: bytes, **extra) -> dict:
    return {
        "channel": "email",
        "to": "anna@example.org",
        "subject": "Ihr Befund",
        "text": "Anbei Ihr Befund.",
        "attachments": [
            {
                "filename": filename,
                "content_type": DOCX_TYPE,
                "content_base64": base64.b64encode(data).decode(),
                **extra,
            }
        ],
    }


@pytest.fixture
def no_libreoffice(monkeypatch):
    monkeypatch.setattr(pdf, "soffice_path", lambda: None)


FAKE = """#!/bin/sh
# A stand-in for LibreOffice: records its arguments, then behaves as told by its name.
echo "$@" > "$(dirname "$0")/args"
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) out="$2"; shift ;;
    -*) ;;
    *) src="$1" ;;
  esac
  shift
done
{action}
"""
WRITE_PDF = """mkdir -p "$out"; name=$(basename "$src"); stem="${name%.*}"
printf '%%PDF-1.4 fake of %s\\n' "$name" > "$out/$stem.pdf\""""


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    def make(action: str = WRITE_PDF):
        path = tmp_path / "soffice"
        path.write_text(FAKE.format(action=action))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PRAXISBOTE_SOFFICE", str(path))
        return path

    return make


def test_without_libreoffice_the_option_is_refused_with_the_reason(api, no_libreoffice):
    settings = api.get(URL).json()
    assert settings["pdf_conversion_available"] is False
    assert "LibreOffice is not installed" in settings["pdf_conversion_note"]
    response = api.post("/api/v1/messages", mail_with("Befund.docx", minimal_docx(), as_pdf=True))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "attachments.0.as_pdf"
    assert "LibreOffice is not installed on the server" in error["message"]
    assert not Message.objects.exists()
    # Without the option the document goes as it is.
    plain = api.post("/api/v1/messages", mail_with("Befund.docx", minimal_docx()))
    assert plain.status_code == 201
    assert plain.json()["attachments"][0]["filename"] == "Befund.docx"


def test_only_word_and_text_documents_are_converted(api, fake_soffice):
    fake_soffice()
    response = api.post("/api/v1/messages", mail_with("Bild.png", b"\x89PNG", as_pdf=True))
    assert response.status_code == 422
    assert ".docx" in response.json()["errors"][0]["message"]


def test_conversion_at_enqueue_time_and_the_pdf_is_sent(
    api, fake_soffice, smtp_tls, trusted, monkeypatch
):
    soffice = fake_soffice()
    assert api.get(URL).json()["pdf_conversion_available"] is True
    api.put(URL, settings_for(smtp_tls))
    response = api.post(
        "/api/v1/messages", mail_with("Befund Müller.docx", minimal_docx(), as_pdf=True)
    )
    assert response.status_code == 201, response.content
    [att] = response.json()["attachments"]
    assert (att["filename"], att["content_type"]) == ("Befund Müller.pdf", "application/pdf")
    args = (soffice.parent / "args").read_text()
    assert "--headless" in args and "--convert-to pdf" in args
    assert "-env:UserInstallation=file://" in args  # a profile of its own per conversion
    drain()
    [got] = smtp_tls.received
    [sent] = list(got.message.iter_attachments())
    assert sent.get_content_type() == "application/pdf"
    assert sent.get_filename() == "Befund Müller.pdf"
    assert sent.get_content().startswith(b"%PDF-1.4 fake of document.docx")


def test_a_conversion_that_fails_or_hangs_is_refused(api, fake_soffice, monkeypatch):
    fake_soffice("exit 1")
    failed = api.post("/api/v1/messages", mail_with("Befund.docx", b"not a document", as_pdf=True))
    assert failed.status_code == 422
    assert "could not convert Befund.docx" in failed.json()["errors"][0]["message"]
    fake_soffice("sleep 30")
    monkeypatch.setattr(pdf, "TIMEOUT_SECONDS", 0.5)
    hung = api.post("/api/v1/messages", mail_with("Befund.docx", minimal_docx(), as_pdf=True))
    assert hung.status_code == 422
    assert "took longer than" in hung.json()["errors"][0]["message"]
    assert not Message.objects.exists()


@pytest.mark.skipif(
    not pdf.available(),
    reason="LibreOffice (soffice) is not installed: the real Word-to-PDF conversion did not run",
)
def test_real_libreoffice_converts_a_word_document(db):
    converted = pdf.convert("Befund.docx", minimal_docx())
    assert converted.startswith(b"%PDF-")
