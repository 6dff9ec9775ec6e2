"""Write tests/texts/vectors.json from the Python implementation (run after a rule change).

    .venv/bin/python tests/texts/make_vectors.py

The JS counter (web/static/web/sms-counter.js) must give the same answers: see
test_js_counter.py. test_encoding.py checks that the file is current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))

from tests.texts.cases import BOUNDARIES, EXTENSION, SMART  # noqa: E402

from praxisbote.texts import encoding  # noqa: E402

OUT = Path(__file__).with_name("vectors.json")

EXTRA = (
    [("extension " + f"U+{ord(c):04X}" + " x81", c * 81) for c in EXTENSION]
    + [("extension " + f"U+{ord(c):04X}" + " at 153", "a" * 152 + c + "a" * 152) for c in EXTENSION]
    + [
        (
            "german reminder",
            "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei "
            "Verhinderung absagen unter 01234-567890 Viele Grüße Zahnarztpraxis Dr. Mustermann",
        ),
        ("long mixed", ("Hallo „Frau Müller“ 👍🏽 🇦🇹 e\u0301\r\n" * 12)),
        ("hangul jamo", "\u1100\u1161\u11a8" * 30),
        ("devanagari conjunct", "\u0915\u094d\u0937" * 30),
        ("variation selector", "\u2764\ufe0f" * 40),
        ("every GSM character", encoding.GSM_BASIC + encoding.GSM_EXTENSION),
        ("every smart replacement", "".join(encoding.SMART_REPLACEMENTS) + " ok"),
        ("every smart replacement, one each", "\r\n".join(encoding.SMART_REPLACEMENTS)),
    ]
)


def case(text: str, smart_on: bool) -> dict[str, Any]:
    result = encoding.report(text, smart_on)
    sent = result["smart"]["text"] if smart_on and result["smart"]["applies"] else text
    result["part_lengths"] = [len(part) for part in encoding.parts(sent)]  # code points
    return result


def vectors() -> list[dict[str, Any]]:
    named = [(c[0], c[1]) for c in BOUNDARIES] + [(c[0], c[1]) for c in SMART] + EXTRA
    return [
        {"name": name, "text": text, "off": case(text, False), "on": case(text, True)}
        for name, text in named
    ]


if __name__ == "__main__":
    OUT.write_text(json.dumps(vectors(), ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
