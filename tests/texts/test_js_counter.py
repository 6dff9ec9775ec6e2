"""The browser counter (web/static/web/sms-counter.js) answers like the Python rules.

Runs the JS in Node.js (Intl.Segmenter since Node 16) on tests/texts/vectors.json.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
COUNTER = HERE.parents[1] / "src" / "praxisbote" / "web" / "static" / "web" / "sms-counter.js"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def js_results():
    if NODE is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is required in CI to test web/static/web/sms-counter.js")
        pytest.skip("node (Node.js) is not installed: the JS SMS counter is not tested")
    done = subprocess.run(
        [NODE, str(HERE / "run_vectors.js"), str(COUNTER), str(HERE / "vectors.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return {item["name"]: item for item in json.loads(done.stdout)}


VECTORS = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_js_counter_matches_python(vector, js_results):
    got = js_results[vector["name"]]
    assert got["off"] == vector["off"]
    assert got["on"] == vector["on"]


def test_vectors_cover_the_boundaries():
    names = {v["name"] for v in VECTORS}
    for name in (
        "gsm 160",
        "gsm 161",
        "gsm 153x2+1",
        "ucs2 70",
        "ucs2 71",
        "ucs2 67x3+1",
        "escape pair at 153",
        "surrogate at 67",
        "combining mark at 67",
        "flag at 67",
        "zwj family at 67",
        "skin tone at 67",
        "crlf at 153",
        "quotes, dash, ellipsis",
    ):
        assert name in names
    assert sum(1 for n in names if n.startswith("extension U+")) == 20


def test_js_counter_matches_python_on_random_texts(tmp_path):
    """500 random texts from characters that stress the rules, in one Node.js run."""
    if NODE is None:
        pytest.skip("node (Node.js) is not installed")

    from .make_vectors import case
    from .test_encoding import TRICKY

    rng = random.Random(20260301)
    # A virama (U+094D) only after a consonant: regex's \X also joins "virama + consonant"
    # without a consonant before (Unicode 18's GB9c), ICU follows Unicode 17's stricter rule.
    # Malformed Indic sequences may therefore split one character apart; see encoding.py.
    tricky = [c for c in TRICKY if c != "\u094d"] + ["\u0915\u094d", "\u0915\u094d\u0937"]
    alphabet = [
        *tricky,
        *("a", "a", "a", "\u2018", "\u2013", "\u2009", "u\u0308", "\r\n", "€"),
        *("\u200c", "\u0e33", "\u1160", "\U000e0061", "\u231a", "\u00a9", "\ufe0f"),
    ]
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 420))) for _ in range(500)]
    vectors = [{"name": str(i), "text": t, "off": {}, "on": {}} for i, t in enumerate(texts)]
    path = tmp_path / "random.json"
    path.write_text(json.dumps(vectors), encoding="utf-8")
    done = subprocess.run(
        [NODE, str(HERE / "run_vectors.js"), str(COUNTER), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for text, got in zip(texts, json.loads(done.stdout), strict=True):
        assert got["off"] == case(text, False), repr(text)
        assert got["on"] == case(text, True), repr(text)
