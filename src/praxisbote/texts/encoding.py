"""SMS encoding, segments and smart encoding after GSM 03.38 / 3GPP TS 23.038 (SMS-3, SMS-6).

The rules, exactly (the JS port ``web/static/web/sms-counter.js`` follows the same ones and
is tested against this module on ``tests/texts/vectors.json``):

* GSM-7: the basic table costs 1 septet a character, the extension table
  (form feed and ``^ { } \\ [ ] ~ | €``) 2 (escape + character). 160 septets fit one SMS;
  a longer text is split into parts of 153 (7 septets go to the concatenation header).
* One character in neither table makes the whole text UCS-2: UTF-16 code units, so a
  character outside the BMP (most emoji) costs 2. 70 units fit one SMS, 67 per part.
* Parts are filled greedily, and nothing that belongs together is split: not an escape
  pair, not a surrogate pair, not an extended grapheme cluster (UAX #29: a base with its
  combining marks, ``\\r\\n``, a flag = two regional indicators, an emoji with its skin-tone
  modifier or a ZWJ sequence such as a family). The part ends early instead, which can add
  a part and so cost. Only a cluster longer than a whole part is cut, at code points: it
  starts a part of its own and fills parts completely, never cutting a code point.
* An empty text is no SMS: 0 segments.

Grapheme clusters come from the ``regex`` module's ``\\X`` (kept up to date with Unicode;
Intl.Segmenter in the browser). One known difference: ``\\X`` joins a virama to a following
consonant even when no consonant precedes the virama (like the simpler GB9c adopted for
Unicode 18); ICU follows Unicode 17, which asks for that consonant. Only malformed Indic
text is affected, by at most one cluster at a part boundary.

``analyze`` does not segment the whole text, which would cost ~0.3 ms per 1,000
characters: it computes the largest end of each part from the positions of the
2-unit characters, and asks ``\\X`` about clusters only around that end, and only when the
text holds a character that can join its neighbour. Pure basic-table text takes a single
regular-expression scan.

Smart encoding (SMS-6, a practice setting, on by default) replaces characters that force
UCS-2 but have an unambiguous GSM look-alike (typographic quotes, dashes, ellipsis, special
spaces, ...; ``SMART_REPLACEMENTS``), turns ``\\r\\n`` into ``\\n`` and composes decomposed
Latin letters (``u`` + combining diaeresis -> ``ü``) when the composed letter is GSM. The
result is used only when it is entirely GSM-7 and needs no more segments than the
original; otherwise (an emoji stays, say) the text is sent as written, since replacing
would save nothing and ``…`` -> ``...`` would even cost units in UCS-2.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import regex

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[]~|€"
_BASIC = frozenset(GSM_BASIC)
_EXTENSION = frozenset(GSM_EXTENSION)
GSM_CHARACTERS = _BASIC | _EXTENSION

GSM7 = "GSM-7"
UCS2 = "UCS-2"
#: (one SMS, each part of a split one), in septets (GSM-7) or UTF-16 units (UCS-2).
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

_Q1, _Q2, _DASH, _SPACE = "'", '"', "-", " "
#: Characters that force UCS-2 but have one obvious GSM look-alike. Nothing that changes a
#: letter or a meaning (no "ç" -> "Ç", no "½" -> "1/2", no "·").
SMART_REPLACEMENTS: dict[str, str] = {
    # single quotes, apostrophes, primes, accents typed as apostrophes
    "\u2018": _Q1,  # left single quotation mark
    "\u2019": _Q1,  # right single quotation mark / apostrophe
    "\u201a": _Q1,  # single low-9 quotation mark
    "\u201b": _Q1,  # single high-reversed-9 quotation mark
    "\u2039": _Q1,  # single left-pointing angle quotation mark
    "\u203a": _Q1,  # single right-pointing angle quotation mark
    "\u2032": _Q1,  # prime
    "\u02bc": _Q1,  # modifier letter apostrophe
    "\u00b4": _Q1,  # acute accent
    "\u0060": _Q1,  # grave accent (ASCII, but not in GSM)
    "\uff07": _Q1,  # fullwidth apostrophe
    # double quotes
    "\u201c": _Q2,  # left double quotation mark
    "\u201d": _Q2,  # right double quotation mark
    "\u201e": _Q2,  # double low-9 quotation mark
    "\u201f": _Q2,  # double high-reversed-9 quotation mark
    "\u00ab": _Q2,  # left-pointing double angle quotation mark
    "\u00bb": _Q2,  # right-pointing double angle quotation mark
    "\u2033": _Q2,  # double prime
    "\uff02": _Q2,  # fullwidth quotation mark
    # hyphens and dashes
    "\u2010": _DASH,  # hyphen
    "\u2011": _DASH,  # non-breaking hyphen
    "\u2012": _DASH,  # figure dash
    "\u2013": _DASH,  # en dash
    "\u2014": _DASH,  # em dash
    "\u2015": _DASH,  # horizontal bar
    "\u2212": _DASH,  # minus sign
    # bullets used as list marks
    "\u2022": _DASH,  # bullet
    "\u2023": _DASH,  # triangular bullet
    "\u2043": _DASH,  # hyphen bullet
    # ellipsis
    "\u2026": "...",  # horizontal ellipsis
    # spaces
    "\t": _SPACE,
    "\u00a0": _SPACE,  # no-break space
    **{chr(c): _SPACE for c in range(0x2000, 0x200B)},  # en quad .. hair space
    "\u202f": _SPACE,  # narrow no-break space
    "\u205f": _SPACE,  # medium mathematical space
    "\u3000": _SPACE,  # ideographic space
    # line breaks
    "\u2028": "\n",  # line separator
    "\u2029": "\n",  # paragraph separator
    # invisible characters
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero width no-break space (BOM)
}


def _class(chars) -> str:
    return "".join(re.escape(c) for c in sorted(chars))


_NOT_BASIC = re.compile(f"[^{_class(_BASIC)}]")
_NOT_GSM = re.compile(f"[^{_class(GSM_CHARACTERS)}]")
_GSM_RUN = re.compile(f"[{_class(GSM_CHARACTERS)}]+")
# ``regex`` scans a single range ~5x faster than ``re``; ``re`` is faster for large sets.
_ASTRAL = regex.compile("[\U00010000-\U0010ffff]")
_CLUSTER = regex.compile(r"\X", regex.DOTALL)
_SMART_CHARS = re.compile("[" + _class(SMART_REPLACEMENTS) + "]")
# Combining Diacritical Marks: what decomposed Latin letters are made of.
_MARKS = regex.compile("[\u0300-\u036f]+")
# Grapheme_Cluster_Break values that can glue a character to its neighbour (UAX #29
# GB6-GB9c, GB11-GB13); CR LF (GB3) is checked on its own.
_JOINING = ("Extend", "ZWJ", "SpacingMark", "Prepend", "Regional_Indicator")
_JOINING_HANGUL = ("L", "V", "T", "LV", "LVT")
# All such characters lie below U+20000 or in the tags/variation-selector block at U+E0000
# (tests/texts check the whole code space against regex's tables).
_JOINING_RANGES = ((0, 0xD800), (0xE000, 0x20000), (0xE0000, 0xE1000))


@dataclass(frozen=True)
class Analysis:
    encoding: str
    segments: int
    characters: int  # code points
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    remaining_in_segment: int
    non_gsm_characters: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One smart-encoding replacement: ``source`` became ``target``, ``count`` times."""

    source: str
    target: str
    count: int


@dataclass(frozen=True)
class Smart:
    """What smart encoding does with a text.

    ``text`` is the replaced text when ``applies`` (else the original), ``after`` its
    analysis; ``kept`` lists non-GSM characters without a look-alike, which keep the text
    in UCS-2 and so leave it as written.
    """

    text: str
    applies: bool
    changes: list[Change]
    kept: list[str]
    before: Analysis
    after: Analysis


@functools.cache
def joining_characters() -> tuple[tuple[int, int], ...]:
    """Ranges (first, last) of code points that may join a grapheme cluster with a neighbour.

    Built once per process from ``regex``'s Unicode tables (~30 ms), on the first UCS-2 text
    that needs more than one part.
    """
    names = [f"Grapheme_Cluster_Break={name}" for name in _JOINING + _JOINING_HANGUL]
    probe = regex.compile("[" + "".join(rf"\p{{{name}}}" for name in names) + "]+")
    ranges: list[tuple[int, int]] = []
    for start, stop in _JOINING_RANGES:
        chunk = "".join(map(chr, range(start, stop)))
        ranges.extend((start + m.start(), start + m.end() - 1) for m in probe.finditer(chunk))
    return tuple(ranges)


@functools.cache
def _joining() -> tuple[list[int], list[int]]:
    ranges = joining_characters()
    return [r[0] for r in ranges], [r[1] for r in ranges]


@functools.lru_cache(maxsize=4096)
def _joins(char: str) -> bool:
    """Can ``char`` join a grapheme cluster with a neighbour? (Never true for GSM characters.)"""
    firsts, lasts = _joining()
    code = ord(char)
    i = bisect_right(firsts, code) - 1
    return i >= 0 and code <= lasts[i]


def _positions(text: str, chars: str) -> list[int]:
    """Sorted positions of ``chars`` in ``text`` (few, so ``str.find`` beats a regex)."""
    found: list[int] = []
    for char in chars:
        at = text.find(char)
        while at >= 0:
            found.append(at)
            at = text.find(char, at + 1)
    found.sort()
    return found


def _scan(text: str) -> tuple[str, list[int]]:
    """The encoding, and the (sorted) positions of the code points that cost 2 units."""
    first = _NOT_BASIC.search(text)
    if first is None:
        return GSM7, []
    start = first.start()
    if _NOT_GSM.search(text, start) is None:
        return GSM7, _positions(text, GSM_EXTENSION)
    if len(text.encode("utf-16-le", "surrogatepass")) == 2 * len(text):
        return UCS2, []
    return UCS2, [m.start() for m in _ASTRAL.finditer(text)]


def _cost(char: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if char in _EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def char_units(char: str, encoding: str) -> int:
    """Septets (GSM-7) or UTF-16 units (UCS-2) of one code point."""
    return _cost(char, encoding)


def non_gsm(text: str) -> list[str]:
    """The distinct characters outside both GSM tables, in order of appearance."""
    rest = _GSM_RUN.sub("", text)
    found = []
    while rest:  # one pass per distinct character: fewer than per character
        found.append(rest[0])
        rest = rest.replace(rest[0], "")
    return found


def encoding_of(text: str) -> str:
    return UCS2 if _NOT_GSM.search(text) else GSM7


def _max_end(start: int, n: int, doubles: list[int], limit: int) -> int:
    """The largest end such that text[start:end] costs at most ``limit`` units."""
    first = bisect_left(doubles, start)
    end = min(n, start + limit)
    later = bisect_left(doubles, end, first)
    if end - start + later - first <= limit:
        return end
    # Drop as many code points as there are 2-unit ones in the window: that fits; then
    # take code points back while they fit (at most that many steps).
    end -= later - first
    nxt = bisect_left(doubles, end, first)
    units = end - start + nxt - first
    while end < n:
        size = 2 if nxt < len(doubles) and doubles[nxt] == end else 1
        if units + size > limit:
            break
        units += size
        nxt += size - 1
        end += 1
    return end


def _is_crlf(text: str, at: int) -> bool:
    return text[at - 1] == "\r" and text[at] == "\n"


def _cluster_end_at_or_before(text: str, start: int, end: int, joining: bool) -> int | None:
    """The last grapheme-cluster boundary in (start, end]; ``start`` is one. None: none."""
    if not joining:  # every code point is a cluster, except CR LF
        if not _is_crlf(text, end):
            return end
        return end - 1 if end - 1 > start else None
    # Walk back to a boundary that no rule can remove: both neighbours non-joining, no CR LF.
    safe = end
    right = _joins(text[safe])
    while safe > start:
        left = _joins(text[safe - 1])
        if not (left or right or _is_crlf(text, safe)):
            break
        safe -= 1
        right = left
    best = safe if safe > start else None
    pos = safe
    while pos < end:
        nxt = _CLUSTER.match(text, pos).end()  # type: ignore[union-attr]
        if nxt > end:
            break
        best = pos = nxt
    return best


def _ends_by_clusters(text: str, encoding: str, limit: int) -> list[int]:
    """Part ends by walking every grapheme cluster; the reference, and the fallback for a
    cluster longer than a whole part."""
    ends: list[int] = []
    pos = used = 0
    for cluster in _CLUSTER.findall(text):
        cost = sum(_cost(c, encoding) for c in cluster)
        if used + cost <= limit:
            used += cost
            pos += len(cluster)
        elif cost <= limit:
            ends.append(pos)
            used = cost
            pos += len(cluster)
        else:  # longer than a part: a part of its own, cut at code points
            if used:
                ends.append(pos)
                used = 0
            for char in cluster:
                size = _cost(char, encoding)
                if used + size > limit:
                    ends.append(pos)
                    used = 0
                used += size
                pos += 1
    if pos:
        ends.append(pos)
    return ends


def _part_ends(
    text: str, encoding: str, doubles: list[int], limit: int, joining: bool
) -> list[int]:
    """End of each part; ``joining``: the text holds characters that can form clusters."""
    n = len(text)
    ends: list[int] = []
    start = 0
    while start < n:
        end = _max_end(start, n, doubles, limit)
        if end < n:
            boundary = _cluster_end_at_or_before(text, start, end, joining)
            if boundary is None:
                return _ends_by_clusters(text, encoding, limit)
            end = boundary
        ends.append(end)
        start = end
    return ends


def analyze(text: str) -> Analysis:
    """Encoding, segments and room left of ``text`` as it would be sent."""
    n = len(text)
    encoding, doubles = _scan(text)
    units = n + len(doubles)
    single, multi = LIMITS[encoding]
    distinct = non_gsm(text) if encoding == UCS2 else []
    if units <= single:
        segments, remaining = (1 if n else 0), single - units
    else:
        joining = any(map(_joins, distinct))
        if not doubles and not joining and "\r\n" not in text:
            segments = -(-n // multi)
            remaining = segments * multi - n
        else:
            ends = _part_ends(text, encoding, doubles, multi, joining)
            segments = len(ends)
            last = ends[-2] if segments > 1 else 0
            last_units = n - last + len(doubles) - bisect_left(doubles, last)
            remaining = multi - last_units
    return Analysis(
        encoding=encoding,
        segments=segments,
        characters=n,
        units=units,
        remaining_in_segment=remaining,
        non_gsm_characters=distinct,
    )


def segments(text: str) -> int:
    """How many SMS ``text`` is sent (and billed) as."""
    return analyze(text).segments


def parts(text: str) -> list[str]:
    """The text cut into the parts it is sent as (no part for an empty text)."""
    encoding, doubles = _scan(text)
    single, multi = LIMITS[encoding]
    if not text or len(text) + len(doubles) <= single:
        return [text] if text else []
    joining = encoding == UCS2 and any(map(_joins, non_gsm(text)))
    ends = _part_ends(text, encoding, doubles, multi, joining)
    return [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]


def parts_by_clusters(text: str) -> list[str]:
    """``parts`` computed by walking every grapheme cluster (slow; the reference in tests)."""
    encoding = encoding_of(text)
    single, multi = LIMITS[encoding]
    if not text or sum(_cost(c, encoding) for c in text) <= single:
        return [text] if text else []
    ends = _ends_by_clusters(text, encoding, multi)
    return [text[a:b] for a, b in zip([0, *ends], ends, strict=False)]


def replace_lookalikes(text: str) -> tuple[str, list[Change]]:
    """Apply the smart-encoding table (unconditionally) and report the changes.

    Two passes, as in the JS port: first ``\r\n`` -> ``\n`` and the table; then each
    character followed by combining marks (U+0300..U+036F) is composed (NFC) where that
    gives one GSM character. Changes are listed per pass in order of first appearance.
    """
    changes: list[Change] = []
    table: dict[str, int] = {}
    crlf = text.count("\r\n")
    if crlf:
        table["\r\n"] = crlf
    for char in _SMART_CHARS.findall(text):
        table[char] = table.get(char, 0) + 1
    if table:
        for source in sorted(table, key=text.find):
            changes.append(Change(source, SMART_REPLACEMENTS.get(source, "\n"), table[source]))
        for change in changes:  # few distinct characters: faster than str.translate
            text = text.replace(change.source, change.target)
    if _MARKS.search(text) is None:
        return text, changes
    out: list[str] = []
    composed: dict[str, list] = {}
    done = 0
    for match in _MARKS.finditer(text):
        start = match.start() - 1
        if start < 0:
            continue
        found = text[start : match.end()]
        target = unicodedata.normalize("NFC", found)
        if len(target) != 1 or target not in GSM_CHARACTERS:
            continue
        out.append(text[done:start])
        out.append(target)
        done = match.end()
        entry = composed.setdefault(found, [target, 0])
        entry[1] += 1
    if composed:
        out.append(text[done:])
        text = "".join(out)
        changes.extend(Change(source, target, n) for source, (target, n) in composed.items())
    return text, changes


def smart(text: str) -> Smart:
    """What smart encoding would send instead of ``text``, and what it saves."""
    before = analyze(text)
    if before.encoding == GSM7 and "\r\n" not in text:
        return Smart(text, False, [], [], before, before)
    replaced, changes = replace_lookalikes(text)
    if not changes:
        return Smart(text, False, [], before.non_gsm_characters, before, before)
    if _NOT_GSM.search(replaced):  # still UCS-2: keep the text as written
        return Smart(text, False, [], non_gsm(replaced), before, before)
    after = analyze(replaced)
    if after.segments > before.segments:  # e.g. many "…" -> "...": no saving
        return Smart(text, False, [], [], before, before)
    return Smart(replaced, True, changes, [], before, after)


def smart_text(text: str) -> str:
    """``text`` as smart encoding sends it (unchanged when that would not help)."""
    if "\r\n" not in text and _NOT_GSM.search(text) is None:
        return text  # GSM-7 already: the send path's common case, without an analysis
    return smart(text).text


def report(text: str, smart_on: bool) -> dict[str, Any]:
    """The analysis as the API and the JS counter give it (costs are added by the caller).

    The top-level fields describe the text as it will be sent: smartly encoded when
    ``smart_on`` and that helps. ``smart`` tells what smart encoding does (or would do).
    """
    result = smart(text)
    shown = result.after if smart_on and result.applies else result.before
    return {
        "encoding": shown.encoding,
        "segments": shown.segments,
        "characters": shown.characters,
        "units": shown.units,
        "remaining_in_segment": shown.remaining_in_segment,
        "non_gsm_characters": list(shown.non_gsm_characters),
        "smart": {
            "enabled": smart_on,
            "applies": result.applies,
            "text": result.text,
            "changes": [
                {"from": c.source, "to": c.target, "count": c.count} for c in result.changes
            ],
            "kept": list(result.kept),
            "encoding_before": result.before.encoding,
            "encoding_after": result.after.encoding,
            "segments_before": result.before.segments,
            "segments_after": result.after.segments,
        },
    }
