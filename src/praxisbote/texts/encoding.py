"""SMS encoding and segments after GSM 03.38 / 3GPP TS 23.038 (SMS-3).

GSM-7: basic table 1 septet, extension table 2 (escape + char); 160 septets in one part,
153 per part when split. One character outside both tables makes the whole text UCS-2:
UTF-16 code units, 70 in one part, 67 per part. An escape pair or a surrogate pair is never
split across parts; the part ends early instead, which can add a part and so cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[]~|€"
_BASIC = frozenset(GSM_BASIC)
_EXTENSION = frozenset(GSM_EXTENSION)

GSM7 = "GSM-7"
UCS2 = "UCS-2"
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class Analysis:
    encoding: str
    segments: int
    characters: int
    units: int
    remaining_in_segment: int
    non_gsm_characters: list[str] = field(default_factory=list)


def char_units(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def non_gsm(text: str) -> list[str]:
    return list(dict.fromkeys(c for c in text if c not in _BASIC and c not in _EXTENSION))


def encoding_of(text: str) -> str:
    return UCS2 if non_gsm(text) else GSM7


def split_units(text: str, encoding: str, per_part: int) -> list[int]:
    """Units in each part when split, never cutting an escape or surrogate pair."""
    parts = [0]
    for char in text:
        size = char_units(char, encoding)
        if parts[-1] + size > per_part:
            parts.append(0)
        parts[-1] += size
    return parts


def analyze(text: str) -> Analysis:
    encoding = encoding_of(text)
    single, multi = LIMITS[encoding]
    units = sum(char_units(c, encoding) for c in text)
    if units <= single:
        segments, remaining = 1, single - units
    else:
        parts = split_units(text, encoding, multi)
        segments, remaining = len(parts), multi - parts[-1]
    return Analysis(
        encoding=encoding,
        segments=segments,
        characters=len(text),
        units=units,
        remaining_in_segment=remaining,
        non_gsm_characters=non_gsm(text) if encoding == UCS2 else [],
    )


def segments(text: str) -> int:
    return analyze(text).segments
