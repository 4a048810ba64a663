# ===- tests/test_llama2c.py - llama2.c checkpoints, tokenizer, model --=== #
"""Tests of `rill.models.llama2c` on the stories260K checkpoint in data/.

They check both checkpoint formats against each other, the tokenizer's merge
order on strings whose tokens are derived by hand from the vocabulary, and the
forward pass against llama2.c's published greedy sample for stories260K.
"""

from pathlib import Path

import numpy as np
import pytest

from rill.models.llama2c import (
    BOS,
    EOS,
    Llama2cModel,
    Tokenizer,
    apply_rope_interleaved,
    collapse_blank_lines,
    load_checkpoint,
    load_tokenizer,
    read_text,
)

DATA = Path(__file__).resolve().parents[2] / "data"
FP32 = DATA / "checkpoints" / "stories260K.bin"
Q8 = DATA / "checkpoints" / "stories260K_q8.bin"
TOKENIZER = DATA / "checkpoints" / "tok512.bin"
TEXT = DATA / "text" / "tinystories_valid_head.txt"

# The start of the sample that llama2.c's README shows for
# `./run stories260K.bin -z tok512.bin -t 0.0`.
PUBLISHED_SAMPLE = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."


@pytest.fixture(scope="module")
def fp32():
    return load_checkpoint(FP32)


@pytest.fixture(scope="module")
def q8():
    return load_checkpoint(Q8)


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(TOKENIZER)


def test_fp32_config(fp32):
    c = fp32.config
    assert (c.dim, c.hidden_dim, c.n_layers) == (64, 172, 5)
    assert (c.n_heads, c.n_kv_heads, c.head_size, c.kv_dim) == (8, 4, 8, 32)
    assert (c.vocab_size, c.seq_len) == (512, 512)
    assert c.shared_classifier
    assert fp32.weights.wcls is fp32.weights.token_embedding


def test_q8_config_matches_fp32(fp32, q8):
    assert q8.config == fp32.config
    assert q8.group_size == 4


def test_q8_dequantizes_within_half_scale(fp32, q8):
    for name, tensor in q8.q8.items():
        reference = getattr(fp32.weights, name)
        half_scale = np.repeat(tensor.scales, tensor.group_size, axis=-1) / 2
        error = np.abs(tensor.dequantize() - reference)
        assert np.all(error <= half_scale * (1 + 1e-6)), name
        assert np.all(tensor.scales > 0), name


def test_q8_norms_are_exact(fp32, q8):
    np.testing.assert_array_equal(q8.weights.rms_att, fp32.weights.rms_att)
    np.testing.assert_array_equal(q8.weights.rms_ffn, fp32.weights.rms_ffn)
    np.testing.assert_array_equal(q8.weights.rms_final, fp32.weights.rms_final)


def test_q8_logits_close_to_fp32(fp32, q8, tokenizer):
    tokens = tokenizer.encode(read_text(TEXT)[:1000])[:128]
    exact = Llama2cModel(fp32).forward(tokens)
    quantized = Llama2cModel(q8).forward(tokens)

    # Measured: max difference 0.45 on logits up to 23, identical argmax.
    assert np.abs(exact - quantized).max() < 1.0
    assert np.mean(exact.argmax(axis=1) == quantized.argmax(axis=1)) >= 0.98


def test_truncated_checkpoint_rejected(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(FP32.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated"):
        load_checkpoint(path)


def test_greedy_sample_matches_published(fp32, tokenizer):
    tokens = Llama2cModel(fp32).generate_greedy([BOS], max_tokens=40)
    assert tokenizer.decode(tokens).startswith(PUBLISHED_SAMPLE)


def test_q8_greedy_sample_prefix(q8, tokenizer):
    tokens = Llama2cModel(q8).generate_greedy([BOS], max_tokens=40)
    assert tokenizer.decode(tokens).startswith("Once upon a time, there was a little girl named Lily.")


def test_step_matches_forward(fp32, tokenizer):
    model = Llama2cModel(fp32)
    tokens = tokenizer.encode("Once upon a time, there was a dog. It liked to run.")
    cache = model.new_cache()
    stepped = np.stack([model.step(t, p, cache) for p, t in enumerate(tokens)])
    np.testing.assert_allclose(stepped, model.forward(tokens), atol=1e-12)


def test_rope_pairs_are_interleaved():
    x = np.zeros((1, 1, 4))
    x[0, 0, 0] = 1.0
    rotated = apply_rope_interleaved(x, np.array([1]))
    # Pair (0, 1) turns by 1 radian at position 1; pair (2, 3) is untouched.
    np.testing.assert_allclose(rotated[0, 0], [np.cos(1.0), np.sin(1.0), 0.0, 0.0], atol=1e-15)


def ids(tokenizer, *pieces):
    return [tokenizer.ids[piece] for piece in pieces]


def test_encode_empty_text_has_no_dummy_prefix(tokenizer):
    assert tokenizer.encode("") == [BOS]
    assert tokenizer.encode("", bos=False, eos=True) == [EOS]


def test_encode_merges_highest_score_first(tokenizer):
    # " the" starts as " ", "t", "h", "e". " t" (score 0) merges before "he" (-1);
    # then "he" (-1) beats " th" (-49), and " t" + "he" = " the" (-6) is in the vocabulary.
    assert tokenizer.scores[tokenizer.ids[b" th"]] < tokenizer.scores[tokenizer.ids[b"he"]]
    assert tokenizer.encode("the") == [BOS] + ids(tokenizer, b" the")


def test_encode_stops_when_no_pair_merges(tokenizer):
    # " ca", "cat" and " cat" are not in the vocabulary, so " c" and "at" stay apart.
    for missing in (b" ca", b"cat", b" cat"):
        assert missing not in tokenizer.ids
    assert tokenizer.encode("The cat") == [BOS] + ids(tokenizer, b" The", b" c", b"at")


def test_encode_byte_fallback(tokenizer):
    # Neither "\n" nor "ü" (C3 BC) is a token, so each of their bytes becomes <0xXX>, id byte + 3.
    assert b"\n" not in tokenizer.ids
    assert "ü".encode() not in tokenizer.ids
    assert tokenizer.encode("Hi\nyou") == [BOS] + ids(tokenizer, b" H", b"i") + [0x0A + 3] + ids(tokenizer, b"y", b"ou")
    assert tokenizer.encode("ü!") == [BOS] + ids(tokenizer, b" ") + [0xC3 + 3, 0xBC + 3] + ids(tokenizer, b"!")


def test_encode_multibyte_codepoint_token(tokenizer):
    assert tokenizer.encode("\u20ac5") == [BOS] + ids(tokenizer, b" ", "\u20ac".encode(), b"5")


def test_encode_ties_merge_leftmost_first():
    # A toy vocabulary where " a", "ab" and "ba" tie: " aba" must merge " a" first,
    # after which only "ba" can merge.
    vocab = [b"<unk>", b"\n<s>\n", b"\n</s>\n"] + [b"<0x%02X>" % i for i in range(256)]
    vocab += [b" ", b"a", b"b", b" a", b"ab", b"ba", b" ab"]
    scores = np.zeros(len(vocab), dtype=np.float32)
    scores[-4:] = [-1.0, -1.0, -1.0, -2.0]
    toy = Tokenizer(vocab, scores, max_token_length=3)

    expected = [BOS, vocab.index(b" a"), vocab.index(b"ba")]
    assert toy.encode("aba") == expected
    assert toy.encode_naive("aba") == expected


def test_decode_strips_space_after_bos(tokenizer):
    tokens = tokenizer.encode("Hello world")
    assert tokenizer.decode(tokens) == "Hello world"
    assert tokenizer.decode_piece(BOS, tokens[1]) == b"He"
    assert tokenizer.decode_piece(tokens[1], tokens[1]) == b" He"


def test_decode_byte_tokens(tokenizer):
    assert tokenizer.decode_piece(5, 0x0A + 3) == b"\n"
    assert tokenizer.decode([BOS] + ids(tokenizer, b" ") + [0xC3 + 3, 0xBC + 3]) == "ü"


def test_collapse_blank_lines():
    assert collapse_blank_lines("a\n\n\nb\nc\n\nd") == "a\nb\nc\nd"


def test_round_trip_on_real_text(tokenizer):
    text = read_text(TEXT)[:20000]
    tokens = tokenizer.encode(text)
    assert tokens[0] == BOS
    assert tokenizer.decode(tokens) == text


def test_fast_encode_matches_naive(tokenizer):
    text = read_text(TEXT)[:2000]
    assert tokenizer.encode(text) == tokenizer.encode_naive(text)
