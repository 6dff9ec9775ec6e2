# ruff: noqa: RUF001 - the ambiguous characters are what these tests are about
"""Segment boundaries with their expected figures, worked out by hand (not by the code).

Each case: (name, text, encoding, segments, units, remaining_in_segment, part lengths in
code points or None). GSM-7: 160 septets in one SMS, 153 per part; extension characters
2 septets. UCS-2: 70 / 67 UTF-16 units; a character outside the BMP 2 units.
"""

from __future__ import annotations

EXTENSION = "\f^{}\\[]~|€"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 7 code points, 11 units
FLAGS_AT_DE = "\U0001f1e6\U0001f1f9\U0001f1e9\U0001f1ea"  # two flags, 4 code points, 8 units
THUMB_MEDIUM = "\U0001f44d\U0001f3fd"  # emoji + skin tone: 2 code points, 4 units
GRIN = "\U0001f600"  # 1 code point, 2 units
ZHE = "Ж"  # not GSM: makes a text UCS-2
E_ACUTE_DECOMPOSED = "e\u0301"  # one cluster, 2 code points, 2 units

BOUNDARIES: list[tuple[str, str, str, int, int, int, list[int] | None]] = [
    # --- GSM-7, basic table only
    ("empty", "", "GSM-7", 0, 0, 160, []),
    ("gsm 1", "a", "GSM-7", 1, 1, 159, [1]),
    ("gsm 160", "a" * 160, "GSM-7", 1, 160, 0, [160]),
    ("gsm 161", "a" * 161, "GSM-7", 2, 161, 145, [153, 8]),
    ("gsm 153x2-1", "a" * 305, "GSM-7", 2, 305, 1, [153, 152]),
    ("gsm 153x2", "a" * 306, "GSM-7", 2, 306, 0, [153, 153]),
    ("gsm 153x2+1", "a" * 307, "GSM-7", 3, 307, 152, [153, 153, 1]),
    ("gsm 153x3-1", "a" * 458, "GSM-7", 3, 458, 1, [153, 153, 152]),
    ("gsm 153x3", "a" * 459, "GSM-7", 3, 459, 0, [153, 153, 153]),
    ("gsm 153x3+1", "a" * 460, "GSM-7", 4, 460, 152, [153, 153, 153, 1]),
    ("gsm 153x10", "a" * 1530, "GSM-7", 10, 1530, 0, [153] * 10),
    ("gsm 153x10+1", "a" * 1531, "GSM-7", 11, 1531, 152, [153] * 10 + [1]),
    ("gsm umlauts count 1", "äöüÄÖÜß" * 20 + "é" * 20, "GSM-7", 1, 160, 0, None),
    # --- GSM-7 with the extension table (2 septets each)
    ("euro 80 = 160 septets", "€" * 80, "GSM-7", 1, 160, 0, None),
    ("euro 81: 76 + 5", "€" * 81, "GSM-7", 2, 162, 143, [76, 5]),
    ("a + euro 80: 1+76, 4", "a" + "€" * 80, "GSM-7", 2, 161, 145, [77, 4]),
    ("159 a + euro = 161", "a" * 159 + "€", "GSM-7", 2, 161, 145, [153, 7]),
    ("158 a + euro = 160", "a" * 158 + "€", "GSM-7", 1, 160, 0, None),
    # the escape pair would straddle septets 153/154: part 1 ends after 152
    ("escape pair at 153", "a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306, 152, [152, 152, 1]),
    ("escape pair after 153", "a" * 153 + "€" + "a" * 151, "GSM-7", 2, 306, 0, [153, 152]),
    ("escape pair in single part", "a" * 152 + "€", "GSM-7", 1, 154, 6, None),
    # --- CR LF is one grapheme cluster: never split
    ("crlf at 153", "a" * 152 + "\r\n" + "a" * 152, "GSM-7", 3, 306, 152, [152, 153, 1]),
    ("crlf before 153", "a" * 151 + "\r\n" + "a" * 153, "GSM-7", 2, 306, 0, [153, 153]),
    ("lone lf at 153", "a" * 152 + "\n" + "a" * 153, "GSM-7", 2, 306, 0, [153, 153]),
    # --- UCS-2
    ("ucs2 70", ZHE * 70, "UCS-2", 1, 70, 0, [70]),
    ("ucs2 71", ZHE * 71, "UCS-2", 2, 71, 63, [67, 4]),
    ("ucs2 67x2", ZHE * 134, "UCS-2", 2, 134, 0, [67, 67]),
    ("ucs2 67x2+1", ZHE * 135, "UCS-2", 3, 135, 66, [67, 67, 1]),
    ("ucs2 67x3-1", ZHE * 200, "UCS-2", 3, 200, 1, [67, 67, 66]),
    ("ucs2 67x3", ZHE * 201, "UCS-2", 3, 201, 0, [67, 67, 67]),
    ("ucs2 67x3+1", ZHE * 202, "UCS-2", 4, 202, 66, [67, 67, 67, 1]),
    ("one non-GSM char: all UCS-2", "a" * 159 + ZHE, "UCS-2", 3, 160, 41, [67, 67, 26]),
    ("c cedilla is not GSM", "ç" + "a" * 69, "UCS-2", 1, 70, 0, None),
    ("backtick is not GSM", "`" + "a" * 70, "UCS-2", 2, 71, 63, [67, 4]),
    ("extension chars cost 1 in UCS-2", "€" * 69 + ZHE, "UCS-2", 1, 70, 0, None),
    # --- surrogate pairs (2 units)
    ("emoji 35 = 70 units", GRIN * 35, "UCS-2", 1, 70, 0, None),
    ("emoji 36: 33 + 3", GRIN * 36, "UCS-2", 2, 72, 61, [33, 3]),
    ("surrogate at 67", ZHE * 66 + GRIN + ZHE * 66, "UCS-2", 3, 134, 66, [66, 66, 1]),
    ("surrogate ends part", ZHE * 65 + GRIN + ZHE * 67, "UCS-2", 2, 134, 0, [66, 67]),
    # --- grapheme clusters
    (
        "combining mark at 67",
        ZHE * 66 + E_ACUTE_DECOMPOSED + ZHE * 66,
        "UCS-2",
        3,
        134,
        66,
        [66, 67, 1],
    ),
    (
        "combining mark ends part",
        ZHE * 65 + E_ACUTE_DECOMPOSED + ZHE * 67,
        "UCS-2",
        2,
        134,
        0,
        [67, 67],
    ),
    ("flag at 67", ZHE * 64 + FLAGS_AT_DE + ZHE * 62, "UCS-2", 3, 134, 64, [64, 63, 3]),
    ("between two flags", ZHE * 63 + FLAGS_AT_DE + ZHE * 63, "UCS-2", 2, 134, 0, [65, 65]),
    ("zwj family at 67", ZHE * 60 + FAMILY + ZHE * 63, "UCS-2", 3, 134, 60, [60, 63, 7]),
    ("zwj family ends part", ZHE * 56 + FAMILY + ZHE * 67, "UCS-2", 2, 134, 0, [63, 67]),
    (
        "two zwj families",
        ZHE * 60 + FAMILY + ZHE * 60 + FAMILY + ZHE * 60,
        "UCS-2",
        4,
        202,
        59,
        [60, 63, 63, 8],
    ),
    ("skin tone at 67", ZHE * 64 + THUMB_MEDIUM + ZHE * 66, "UCS-2", 3, 134, 64, [64, 65, 3]),
    ("crlf in ucs2 at 67", ZHE * 66 + "\r\n" + ZHE * 66, "UCS-2", 3, 134, 66, [66, 67, 1]),
    # a cluster longer than a part starts a part and is cut at code points
    ("oversized cluster", "a" + "\u0301" * 80, "UCS-2", 2, 81, 53, [67, 14]),
    ("oversized after text", ZHE * 10 + "e" + "\u0301" * 70, "UCS-2", 3, 81, 63, [10, 67, 4]),
]

# Smart encoding, by hand: (name, text, applies, text sent, segments before, after).
SMART: list[tuple[str, str, bool, str, int, int]] = [
    (
        "quotes, dash, ellipsis",
        "„Guten Tag“ – bis bald…",
        True,
        '"Guten Tag" - bis bald...',
        1,
        1,
    ),
    ("single quotes", "‚Hallo‘ it’s", True, "'Hallo' it's", 1, 1),
    ("guillemets", "«Termin» ‹ok›", True, "\"Termin\" 'ok'", 1, 1),
    ("dashes and minus", "a‒b–c—d―e−f‐g‑h", True, "a-b-c-d-e-f-g-h", 1, 1),
    ("bullets", "• eins\n‣ zwei", True, "- eins\n- zwei", 1, 1),
    ("spaces", "9\u00a0Uhr\u202f30\u2009h\u3000x\ty", True, "9 Uhr 30 h x y", 1, 1),
    ("invisible", "Ter\u00admin\u200b am\u2060 Mo\ufeff", True, "Termin am Mo", 1, 1),
    ("line separators", "a\u2028b\u2029c", True, "a\nb\nc", 1, 1),
    ("crlf in GSM text", "a\r\nb\r\nc", True, "a\nb\nc", 1, 1),
    ("decomposed umlaut", "Mu\u0308ller", True, "Müller", 1, 1),
    ("saves two parts", "a" * 150 + "“”", True, "a" * 150 + '""', 3, 1),
    ("emoji keeps UCS-2", "“Hallo” \U0001f600", False, "“Hallo” \U0001f600", 1, 1),
    ("no look-alike", "ça va", False, "ça va", 1, 1),
    # 70 x "…" = 70 units in UCS-2 (1 SMS) but 210 septets in GSM-7 (2): not applied
    ("ellipsis would cost more", "…" * 70, False, "…" * 70, 1, 1),
    ("mark on a quote stays", "“\u0301", False, "“\u0301", 1, 1),
    ("plain GSM unchanged", "Guten Tag", False, "Guten Tag", 1, 1),
]
