"""Word documents as PDF copy (MAIL-8) through LibreOffice, when it is installed.

An attachment with ``as_pdf: true`` is converted when the message is written (so the
worker sends plain bytes and a failure is an answer to the request, not a failed mail):
``soffice --headless --convert-to pdf`` in a temporary directory with its own LibreOffice
profile (parallel conversions do not share a lock), under a time limit. LibreOffice is
optional: without it the option is refused with the reason, and the e-mail settings say
``pdf_conversion_available: false``. ``PRAXISBOTE_SOFFICE`` names the program when it is
not on ``PATH`` as ``soffice`` or ``libreoffice``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from django.utils.translation import gettext as _

#: What LibreOffice reads as a word-processing document.
CONVERTIBLE = frozenset({".doc", ".docx", ".odt", ".rtf"})
TIMEOUT_SECONDS = 60.0


class ConversionError(Exception):
    """The document could not be converted; the message says why, for the practice."""


def soffice_path() -> str | None:
    configured = os.environ.get("PRAXISBOTE_SOFFICE", "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice_path() is not None


def unavailable_reason() -> str:
    """Empty when conversion works; else why the PDF option is not offered."""
    if available():
        return ""
    return _(
        "LibreOffice is not installed on the server, so documents cannot be sent as PDF "
        "copy. Send the document as it is, or convert it to PDF yourself."
    )


def pdf_name(filename: str) -> str:
    return f"{Path(filename).stem or 'document'}.pdf"


def convert(filename: str, data: bytes, timeout: float | None = None) -> bytes:
    """The PDF of a .doc/.docx/.odt/.rtf document, or ``ConversionError``."""
    suffix = Path(filename).suffix.lower()
    if suffix not in CONVERTIBLE:
        raise ConversionError(
            _("Only Word and text documents (.doc, .docx, .odt, .rtf) can be sent as PDF copy.")
        )
    program = soffice_path()
    if program is None:
        raise ConversionError(unavailable_reason())
    with tempfile.TemporaryDirectory(prefix="praxisbote-pdf-") as tmp:
        work = Path(tmp)
        source = work / f"document{suffix}"
        source.write_bytes(data)
        out = work / "out"
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ]
        process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own file names
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=work,
            env={**os.environ, "HOME": str(work)},
            start_new_session=True,  # so a time-out ends LibreOffice's helpers too
        )
        limit = TIMEOUT_SECONDS if timeout is None else timeout
        try:
            process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise ConversionError(
                _("Converting %(name)s to PDF took longer than %(seconds)d seconds.")
                % {"name": filename, "seconds": limit}
            ) from None
        result = out / "document.pdf"
        if process.returncode != 0 or not result.is_file() or result.stat().st_size == 0:
            raise ConversionError(
                _("LibreOffice could not convert %(name)s to PDF; is it a valid document?")
                % {"name": filename}
            )
        return result.read_bytes()


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
