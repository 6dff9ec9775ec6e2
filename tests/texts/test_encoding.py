# ruff: noqa: RUF001 - the ambiguous characters are what these tests are about
"""Segments, parts and smart encoding of texts/encoding.py against hand-worked figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from praxisbote.texts import encoding

from .cases import BOUNDARIES, EXTENSION, SMART
from .make_vectors import vectors

VECTORS = Path(__file__).with_name("vectors.json")


@pytest.mark.parametrize(
    ("text", "enc", "segments", "units", "remaining", "part_lengths"),
    [case[1:] for case in BOUNDARIES],
    ids=[case[0] for case in BOUNDARIES],
)
def test_boundaries(text, enc, segments, units, remaining, part_lengths):
    analysis = encoding.analyze(text)
    assert (analysis.encoding, analysis.segments, analysis.units) == (enc, segments, units)
    assert analysis.remaining_in_segment == remaining
    assert analysis.characters == len(text)
    assert encoding.segments(text) == segments
    parts = encoding.parts(text)
    assert "".join(parts) == text
    assert len(parts) == segments
    if part_lengths is not None:
        assert [len(p) for p in parts] == part_lengths
    assert encoding.parts_by_clusters(text) == parts


@pytest.mark.parametrize("char", list(EXTENSION), ids=[f"U+{ord(c):04X}" for c in EXTENSION])
def test_every_extension_character_costs_two_septets(char):
    assert encoding.analyze(char).units == 2
    assert encoding.analyze(char).encoding == "GSM-7"
    assert encoding.segments(char * 80) == 1  # 160 septets
    assert encoding.analyze(char * 81).segments == 2  # 76 + 5: the pair is never split
    assert [len(p) for p in encoding.parts(char * 81)] == [76, 5]
    assert encoding.analyze(char * 81).remaining_in_segment == 143
    assert [len(p) for p in encoding.parts("a" * 152 + char + "a" * 10)] == [152, 11]


def test_gsm_tables():
    assert len(set(encoding.GSM_BASIC)) == 127  # 128 positions less the escape
    assert set(EXTENSION) == set(encoding.GSM_EXTENSION)
    for char in encoding.GSM_BASIC:
        assert encoding.analyze(char).units == 1, repr(char)


def test_non_gsm_characters_listed_once_in_order():
    analysis = encoding.analyze("Grüß Gott 😀 „x“ 😀 ç")
    assert analysis.non_gsm_characters == ["😀", "„", "“", "ç"]
    assert encoding.analyze("Grüß Gott {€}").non_gsm_characters == []


@pytest.mark.parametrize(
    ("text", "applies", "sent", "before", "after"),
    [case[1:] for case in SMART],
    ids=[case[0] for case in SMART],
)
def test_smart_encoding(text, applies, sent, before, after):
    result = encoding.smart(text)
    assert result.applies is applies
    assert result.text == sent
    assert encoding.smart_text(text) == sent
    assert (result.before.segments, result.after.segments) == (before, after)
    if applies:
        assert result.after.encoding == "GSM-7"
        assert result.changes
        assert not result.kept
    else:
        assert not result.changes


def test_smart_encoding_reports_changes_in_order():
    result = encoding.smart("„Hallo“ – 9\u00a0Uhr… „bis“\r\nMu\u0308ller")
    assert [(c.source, c.target, c.count) for c in result.changes] == [
        ("„", '"', 2),
        ("“", '"', 2),
        ("–", "-", 1),
        ("\u00a0", " ", 1),
        ("…", "...", 1),
        ("\r\n", "\n", 1),
        ("u\u0308", "ü", 1),
    ]
    assert result.text == '"Hallo" - 9 Uhr... "bis"\nMüller'


def test_smart_encoding_names_what_keeps_ucs2():
    assert encoding.smart("„Hallo“ 😀 ç").kept == ["😀", "ç"]


def test_every_replacement_is_gsm():
    for source, target in encoding.SMART_REPLACEMENTS.items():
        assert encoding.encoding_of(source) == "UCS-2", repr(source)
        assert encoding.encoding_of(target) == "GSM-7", repr(target)


def test_joining_ranges_cover_the_whole_code_space():
    """No character outside the scanned planes can join a grapheme cluster."""
    names = [f"Grapheme_Cluster_Break={n}" for n in encoding._JOINING + encoding._JOINING_HANGUL]
    probe = regex.compile("[" + "".join(rf"\p{{{n}}}" for n in names) + "]")
    scanned = encoding._JOINING_RANGES
    for start, stop in ((0xD800, 0xE000), (0x20000, 0xE0000), (0xE1000, 0x110000)):
        assert (start, stop) not in scanned
        text = "".join(map(chr, range(start, stop)))
        assert probe.search(text) is None, hex(start)
    assert encoding._joins("\u0301") and encoding._joins("\U0001f3fd")
    assert encoding._joins("\U0001f1e6") and encoding._joins("\u200d")
    assert not encoding._joins("a") and not encoding._joins("\U0001f600")


def test_vectors_file_is_current():
    """tests/texts/vectors.json is what `python tests/texts/make_vectors.py` writes."""
    assert json.loads(VECTORS.read_text(encoding="utf-8")) == vectors()


# --- properties -------------------------------------------------------------------------

TRICKY = [
    "a",
    " ",
    "€",
    "{",
    "\f",
    "\r",
    "\n",
    "Ж",
    "ç",
    "😀",
    "\u0301",
    "\u0308",
    "\u200d",
    "\U0001f468",
    "\U0001f469",
    "\U0001f1e6",
    "\U0001f1f9",
    "\U0001f3fd",
    "\u0915",
    "\u094d",
    "\u1100",
    "\u1161",
    "\u11a8",
    "\uac00",
    "\u0600",
    "\ufe0f",
    "“",
    "…",
    "\u00a0",
]
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=400) | st.text(max_size=300)
gsm_texts = st.text(alphabet=st.sampled_from(list("ab €{\r\n")), max_size=800)


@settings(max_examples=300, deadline=None)
@given(texts | gsm_texts, texts | gsm_texts)
def test_segments_never_fall_when_text_is_appended(head, tail):
    assert encoding.segments(head + tail) >= encoding.segments(head)


@settings(max_examples=300, deadline=None)
@given(texts | gsm_texts)
def test_parts_reproduce_the_text_within_limits(text):
    analysis = encoding.analyze(text)
    parts = encoding.parts(text)
    assert "".join(parts) == text
    assert len(parts) == analysis.segments
    single, multi = encoding.LIMITS[analysis.encoding]
    limit = single if len(parts) == 1 else multi
    sizes = [sum(encoding.char_units(c, analysis.encoding) for c in p) for p in parts]
    assert all(0 < size <= limit for size in sizes)
    assert sum(sizes) == analysis.units
    if parts:
        assert analysis.remaining_in_segment == limit - sizes[-1]


@settings(max_examples=300, deadline=None)
@given(texts | gsm_texts)
def test_fast_split_equals_walking_every_cluster(text):
    assert encoding.parts(text) == encoding.parts_by_clusters(text)


@settings(max_examples=200, deadline=None)
@given(texts | gsm_texts)
def test_no_cluster_is_split_unless_longer_than_a_part(text):
    parts = encoding.parts(text)
    if len(parts) < 2:
        return
    enc = encoding.encoding_of(text)
    clusters = regex.findall(r"\X", text)
    if any(sum(encoding.char_units(c, enc) for c in x) > 67 for x in clusters):
        return
    boundaries = set()
    pos = 0
    for cluster in clusters:
        pos += len(cluster)
        boundaries.add(pos)
    pos = 0
    for part in parts:
        pos += len(part)
        assert pos in boundaries


@settings(max_examples=200, deadline=None)
@given(texts | gsm_texts)
def test_smart_never_costs_more(text):
    result = encoding.smart(text)
    assert result.after.segments <= result.before.segments
    if result.applies:
        assert encoding.encoding_of(result.text) == "GSM-7"
