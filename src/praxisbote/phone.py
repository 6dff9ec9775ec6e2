"""Mobile numbers to E.164 with libphonenumber's rules (PAT-2, SMS-5).

``067612345678`` in an Austrian practice becomes ``+4367612345678``; ``0043…`` and
``+43…`` are accepted. Landlines are refused because an SMS to one is paid for and lost.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalise_mobile(raw: str, country: str) -> str:
    """E.164 form of ``raw`` or ``ValidationError`` with a reason a receptionist understands."""
    text = (raw or "").strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(raw)s is not a phone number.") % {"raw": raw}, code="invalid"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "%(raw)s is not a valid phone number. Check the digits; numbers from "
                "abroad need the country code (e.g. +49 or 0049)."
            )
            % {"raw": raw},
            code="invalid",
        )
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValidationError(
            _("%(raw)s is not a mobile number (landline or special number): it cannot receive SMS.")
            % {"raw": raw},
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
