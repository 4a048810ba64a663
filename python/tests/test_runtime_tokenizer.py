# ===- tests/test_runtime_tokenizer.py - librill tokenizer vs numpy ---=== #
"""Cross-check librill's llama2.c tokenizer against the numpy reference.

Both tokenize the real texts in data/text with data/checkpoints/tok512.bin;
the ids must be equal, and decoding must give back the text. rill-run's
`tokenize` mode, which tokenizes its input block by block, must give the
ids of the whole text. Skipped when librill (or rill-run) is not built.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rill.models.llama2c import load_tokenizer, read_text

runtime = pytest.importorskip("rill.runtime")

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RILL_BUILD_DIR", ROOT / "build"))
TOKENIZER = ROOT / "data" / "checkpoints" / "tok512.bin"
TEXTS = sorted((ROOT / "data" / "text").glob("*.txt"))
TEXTS_BY_NAME = {path.name: path for path in TEXTS}
RILL_RUN = BUILD / "bin" / "rill-run"


def _library_available() -> bool:
    try:
        runtime.find_library()
    except FileNotFoundError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _library_available(), reason=f"librill is not built under {BUILD}")


@pytest.fixture(scope="module")
def native():
    return runtime.Tokenizer(TOKENIZER)


@pytest.fixture(scope="module")
def reference():
    return load_tokenizer(TOKENIZER)


@pytest.fixture(scope="module")
def encoded(reference):
    """Reference ids of every whole text, computed once."""
    return {path.name: reference.encode(read_text(path)) for path in TEXTS}


def test_special_ids(native, reference):
    assert native.kind == "llama2c"
    assert native.vocab_size == reference.vocab_size == 512
    assert (native.bos, native.eos) == (1, 2)


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_whole_text_matches_reference(native, encoded, path):
    ids = native.encode(read_text(path))
    expected = encoded[path.name]
    assert len(ids) == len(expected)
    assert ids == expected


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_lines_match_reference(native, reference, path):
    lines = [line for line in read_text(path).split("\n") if line][:400]
    for line in lines:
        assert native.encode(line, bos=False) == reference.encode(line, bos=False), line


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_decode_matches_reference(native, reference, encoded, path):
    ids = encoded[path.name]
    assert native.decode(ids) == reference.decode(ids)


def test_golden_stream_tokens(native):
    # The golden streaming data for stories260K starts with the ids of this text.
    golden = np.load(ROOT / "data" / "golden" / "stories260K_sinks4_window60.npz")
    tokens = golden["tokens"]
    assert native.encode(read_text(TEXTS_BY_NAME["tinystories_valid_head.txt"]))[: len(tokens)] == tokens.tolist()


def test_byte_fallback_and_flags(native, reference):
    text = "Caf\u00e9 \u2603 \u65e5\u672c\u8a9e \U0001F600 end"
    assert native.encode(text, bos=True, eos=True) == reference.encode(text, bos=True, eos=True)
    assert native.decode(native.encode(text)) == text
    # Without the dummy prefix the text encodes like a continuation.
    assert native.encode(" " + text, bos=False, dummy_prefix=False) == reference.encode(text, bos=False)


def test_invalid_utf8_round_trips(native):
    # Invalid bytes fall back to byte tokens, so decoding restores them.
    data = b"ab\xff\xfe cd \xe2\x98"
    ids = native.encode(data, bos=False)
    assert 0xFF + 3 in ids
    assert native.decode_bytes(ids) == data


@pytest.mark.skipif(not RILL_RUN.is_file(), reason="rill-run is not built")
@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_rill_run_blocks_match_whole_text(encoded, path):
    result = subprocess.run([str(RILL_RUN), "tokenize", "--tokenizer", str(TOKENIZER), str(path)],
                            check=True, capture_output=True, text=True)
    ids = [int(word) for word in result.stdout.split()]
    assert ids == encoded[path.name]
