"""SMS analysis speed (issue 5): microseconds per texts.encoding.analyze() on 1,000 characters.

Target: < 50 us per call in-process. Each figure is the best of 7 rounds of 2,000 calls,
in CPU time of this process (less disturbed by other processes on the machine than wall
time; the minimum is the least disturbed round). Also printed: smart() (the
analysis with smart encoding, what POST /api/v1/sms/analyze does) and the reference split
that walks every grapheme cluster, which analyze() avoids.
"""

from __future__ import annotations

import sys
import time
import timeit

from common import machine

from praxisbote.texts import encoding

ROUNDS, CALLS = 7, 2_000
REMINDER = (
    "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter "
    "01234-567890. Viele Grüße, Zahnarztpraxis Dr. Mustermann. "
)


def thousand(text: str) -> str:
    return (text * (1_000 // len(text) + 1))[:1_000]


TEXTS = {
    "GSM-7 (basic table only)": thousand(REMINDER),
    "GSM-7 with extension chars [€]": thousand(REMINDER.replace("Uhr.", "Uhr [10 €].")),
    "GSM-7 with CR LF": thousand(REMINDER.replace(". ", ".\r\n")),
    "UCS-2 (emoji, quotes)": thousand(
        REMINDER.replace("Uhr.", "Uhr \U0001f600").replace("Viele", "„Viele“")
    ),
    "UCS-2 (Cyrillic)": thousand("Здравствуйте, ваш приём завтра в 16:30. "),
    "UCS-2 (skin tone, flag)": thousand(REMINDER.replace("Uhr.", "Uhr \U0001f44d\U0001f3fd 🇦🇹")),
}


def micros(func, text: str) -> float:
    best = min(
        timeit.repeat(lambda: func(text), number=CALLS, repeat=ROUNDS, timer=time.process_time)
    )
    return best / CALLS * 1e6


def main() -> int:
    print(f"SMS analyze, 1,000 characters; {machine()}")
    encoding.analyze(TEXTS["UCS-2 (skin tone, flag)"])  # builds the joining table once
    slow = []
    print(f"{'text':34} {'enc':6} {'parts':>5} {'analyze':>10} {'smart':>10} {'all clusters':>13}")
    for name, text in TEXTS.items():
        analysis = encoding.analyze(text)
        fast = micros(encoding.analyze, text)
        smart = micros(encoding.smart, text)
        walk = micros(encoding.parts_by_clusters, text)
        print(
            f"{name:34} {analysis.encoding:6} {analysis.segments:5} "
            f"{fast:8.1f} us {smart:8.1f} us {walk:10.1f} us"
        )
        if fast >= 50:
            slow.append(name)
    print("target < 50 us per analyze():", "met" if not slow else f"missed for {slow}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
