# ===- rill/models/llama2c/tokenizer.py - llama2.c BPE tokenizer -----=== #
"""The llama2.c byte-pair tokenizer.

`tokenizer.bin` contains an int32 maximum token length and then, per token, a float32
merge score, an int32 byte length and the token's bytes. Encoding follows llama2.c:
the UTF-8 text is split into codepoints, each looked up in the vocabulary (unknown
codepoints fall back to one `<0xXX>` token per byte, id byte + 3), a dummy-prefix
space token is prepended to non-empty text, and then the adjacent pair whose
concatenation is in the vocabulary with the highest score is merged, leftmost
first among equal scores, until no pair merges. Ids 1 and 2 are BOS and EOS.
"""

from __future__ import annotations

import heapq
import re
import struct
from pathlib import Path

import numpy as np

UNK = 0
BOS = 1
EOS = 2
BYTE_FALLBACK_OFFSET = 3

_BYTE_TOKEN = re.compile(rb"<0x([0-9A-Fa-f]{2})>")


def collapse_blank_lines(text: str) -> str:
    """Replace every run of two or more newlines by a single newline.

    Rill's evaluation text is tokenized after this step, so paragraphs separated by
    blank lines become consecutive lines.
    """
    return re.sub(r"\n{2,}", "\n", text)


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file and collapse its blank lines, as Rill's evaluations do."""
    return collapse_blank_lines(Path(path).read_text(encoding="utf-8"))


def split_codepoints(data: bytes) -> list[bytes]:
    """Split UTF-8 bytes into codepoints the way llama2.c does.

    A codepoint starts at every byte that is not a continuation byte (0b10xxxxxx)
    and takes at most 4 bytes, so invalid UTF-8 still splits into short pieces that
    the byte fallback can encode.
    """
    pieces: list[bytes] = []
    start = 0
    for i in range(1, len(data) + 1):
        at_end = i == len(data)
        if at_end or (data[i] & 0xC0) != 0x80 or i - start == 4:
            pieces.append(data[start:i])
            start = i
    return pieces


class Tokenizer:
    """A llama2.c vocabulary with merge scores."""

    def __init__(self, vocab: list[bytes], scores: np.ndarray, max_token_length: int):
        if len(vocab) != len(scores):
            raise ValueError(f"vocabulary has {len(vocab)} tokens but {len(scores)} scores")
        self.vocab = vocab
        self.scores = np.asarray(scores, dtype=np.float32)
        self.max_token_length = max_token_length

        # llama2.c finds strings by binary search over the sorted vocabulary; a
        # vocabulary with duplicate strings would make that lookup ambiguous.
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        if len(self.ids) != len(vocab):
            raise ValueError("vocabulary contains duplicate token strings, so lookups are ambiguous")

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _initial_tokens(self, data: bytes) -> list[int]:
        tokens = [self.ids[b" "]] if data else []
        for piece in split_codepoints(data):
            token = self.ids.get(piece)
            if token is not None:
                tokens.append(token)
            else:
                tokens.extend(byte + BYTE_FALLBACK_OFFSET for byte in piece)
        return tokens

    def _merge(self, left: int, right: int) -> int | None:
        return self.ids.get(self.vocab[left] + self.vocab[right])

    def encode(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        """Encode text into token ids, optionally framed by BOS and EOS.

        Runs in O(n log n) with a heap of candidate merges. A merge is keyed by
        (-score, start of its left piece), so the heap pops the same pair as
        llama2.c's quadratic scan: the highest score, leftmost among ties.
        """
        tokens = self._initial_tokens(text.encode("utf-8"))
        n = len(tokens)

        # A doubly linked list runs over the initial positions. A merged piece keeps
        # the position of its left part, and `alive` marks positions still in the list.
        next_index = list(range(1, n + 1))
        prev_index = list(range(-1, n - 1))
        alive = [True] * n
        heap: list[tuple[float, int, int, int, int]] = []

        def push(i: int) -> None:
            j = next_index[i]
            if j >= n:
                return
            merged = self._merge(tokens[i], tokens[j])
            if merged is not None:
                heapq.heappush(heap, (-float(self.scores[merged]), i, merged, tokens[i], tokens[j]))

        for i in range(n - 1):
            push(i)

        while heap:
            _, i, merged, left, right = heapq.heappop(heap)
            j = next_index[i] if alive[i] else n
            # Skip entries made stale by an earlier merge of either piece.
            if j >= n or tokens[i] != left or tokens[j] != right:
                continue
            tokens[i] = merged
            alive[j] = False
            next_index[i] = next_index[j]
            if next_index[j] < n:
                prev_index[next_index[j]] = i
            if prev_index[i] >= 0:
                push(prev_index[i])
            push(i)

        result = [tokens[i] for i in range(n) if alive[i]]
        if bos:
            result.insert(0, BOS)
        if eos:
            result.append(EOS)
        return result

    def encode_naive(self, text: str, bos: bool = True, eos: bool = False) -> list[int]:
        """Encode with llama2.c's quadratic merge loop; a slow cross-check of `encode`."""
        tokens = self._initial_tokens(text.encode("utf-8"))
        while True:
            best_score, best_index, best_token = -np.inf, -1, -1
            for i in range(len(tokens) - 1):
                merged = self._merge(tokens[i], tokens[i + 1])
                if merged is not None and self.scores[merged] > best_score:
                    best_score, best_index, best_token = self.scores[merged], i, merged
            if best_index < 0:
                break
            tokens[best_index : best_index + 2] = [best_token]
        if bos:
            tokens.insert(0, BOS)
        if eos:
            tokens.append(EOS)
        return tokens

    def decode_piece(self, previous: int, token: int) -> bytes:
        """Return the bytes of `token`; after BOS a leading space is dropped, as llama2.c does."""
        piece = self.vocab[token]
        if previous == BOS and piece.startswith(b" "):
            piece = piece[1:]
        match = _BYTE_TOKEN.fullmatch(piece)
        if match:
            return bytes([int(match.group(1), 16)])
        return piece

    def decode(self, tokens: list[int] | np.ndarray, errors: str = "replace") -> str:
        """Decode ids to text; BOS and EOS produce no text and the first token follows BOS."""
        out = bytearray()
        previous = BOS
        for token in tokens:
            token = int(token)
            if token not in (BOS, EOS):
                out += self.decode_piece(previous, token)
            previous = token
        return out.decode("utf-8", errors=errors)


def load_tokenizer(path: str | Path) -> Tokenizer:
    """Load a llama2.c `tokenizer.bin`."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 4:
        raise ValueError(f"{path}: file has {len(data)} bytes, too short for a tokenizer header")
    (max_token_length,) = struct.unpack_from("<i", data, 0)

    vocab: list[bytes] = []
    scores: list[float] = []
    offset = 4
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError(f"{path}: truncated token record at offset {offset}")
        score, length = struct.unpack_from("<fi", data, offset)
        offset += 8
        if length < 0 or offset + length > len(data):
            raise ValueError(f"{path}: invalid token length {length} at offset {offset - 4}")
        vocab.append(data[offset : offset + length])
        scores.append(score)
        offset += length
    return Tokenizer(vocab, np.array(scores, dtype=np.float32), max_token_length)
