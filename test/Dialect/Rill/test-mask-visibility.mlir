// RUN: rill-opt %s -rill-test-mask-visibility -o /dev/null | FileCheck %s

// Window 3 over 6 tokens: 1, 2, 3, 3, 3, 3 visible keys, the query's own
// key included.
// CHECK-LABEL: mask @window3 = #rill.window<3>
// CHECK-NEXT: causal=true sinks=0 lookback=3 heads=any
// CHECK-NEXT: head 0 query 0: x..... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx.... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx... count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: .xxx.. count=3 keys={1..3}
// CHECK-NEXT: head 0 query 4: ..xxx. count=3 keys={2..4}
// CHECK-NEXT: head 0 query 5: ...xxx count=3 keys={3..5}
func.func @window3() attributes {
    rill.test.mask = #rill.window<3>,
    rill.test.query_range = array<i64: 0, 6>,
    rill.test.key_range = array<i64: 0, 6>} {
  return
}

// Causal queries at stream positions 3 and 4 over keys 0..4.
// CHECK-LABEL: mask @causal_decode = #rill.causal
// CHECK-NEXT: causal=true sinks=0 lookback=unbounded heads=any
// CHECK-NEXT: head 0 query 3: xxxx. count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xxxxx count=5 keys={0..4}
func.func @causal_decode() attributes {
    rill.test.mask = #rill.causal,
    rill.test.queries = array<i64: 3, 4>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}

// StreamingLLM: 4 sinks plus a window of 6, query 25.
// CHECK-LABEL: mask @streaming_llm = #rill.union<[#rill.sinks<4>, #rill.window<6>]>
// CHECK-NEXT: causal=true sinks=4 lookback=6 heads=any
// CHECK-NEXT: head 0 query 25: xxxx................xxxxxx count=10 keys={0..3,20..25}
func.func @streaming_llm() attributes {
    rill.test.mask = #rill.union<[#rill.sinks<4>, #rill.window<6>]>,
    rill.test.queries = array<i64: 25>,
    rill.test.key_range = array<i64: 0, 26>} {
  return
}

// A window as wide as the sequence shows what causal shows.
// CHECK-LABEL: mask @wide_window = #rill.window<5>
// CHECK-NEXT: causal=true sinks=0 lookback=5 heads=any
// CHECK-NEXT: head 0 query 0: x.... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx.. count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: xxxx. count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xxxxx count=5 keys={0..4}
func.func @wide_window() attributes {
    rill.test.mask = #rill.window<5>,
    rill.test.query_range = array<i64: 0, 5>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}
// CHECK-LABEL: mask @wide_causal = #rill.causal
// CHECK-NEXT: causal=true sinks=0 lookback=unbounded heads=any
// CHECK-NEXT: head 0 query 0: x.... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx.. count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: xxxx. count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xxxxx count=5 keys={0..4}
func.func @wide_causal() attributes {
    rill.test.mask = #rill.causal,
    rill.test.query_range = array<i64: 0, 5>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}

// CHECK-LABEL: mask @two_sided = #rill.window<left = 1, right = 2>
// CHECK-NEXT: causal=false sinks=0 lookback=2 heads=any
// CHECK-NEXT: head 0 query 0: xxx.. count=3 keys={0..2}
// CHECK-NEXT: head 0 query 1: xxxx. count=4 keys={0..3}
// CHECK-NEXT: head 0 query 2: .xxxx count=4 keys={1..4}
// CHECK-NEXT: head 0 query 3: ..xxx count=3 keys={2..4}
// CHECK-NEXT: head 0 query 4: ...xx count=2 keys={3..4}
func.func @two_sided() attributes {
    rill.test.mask = #rill.window<left = 1, right = 2>,
    rill.test.query_range = array<i64: 0, 5>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}

// CHECK-LABEL: mask @full = #rill.full
// CHECK-NEXT: causal=false sinks=0 lookback=unbounded heads=any
// CHECK-NEXT: head 0 query 0: xxx count=3 keys={0..2}
// CHECK-NEXT: head 0 query 2: xxx count=3 keys={0..2}
func.func @full() attributes {
    rill.test.mask = #rill.full,
    rill.test.queries = array<i64: 0, 2>,
    rill.test.key_range = array<i64: 0, 3>} {
  return
}

// CHECK-LABEL: mask @sinks = #rill.sinks<2>
// CHECK-NEXT: causal=true sinks=2 lookback=0 heads=any
// CHECK-NEXT: head 0 query 0: x... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx.. count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xx.. count=2 keys={0..1}
// CHECK-NEXT: head 0 query 3: xx.. count=2 keys={0..1}
func.func @sinks() attributes {
    rill.test.mask = #rill.sinks<2>,
    rill.test.query_range = array<i64: 0, 4>,
    rill.test.key_range = array<i64: 0, 4>} {
  return
}

// CHECK-LABEL: mask @dilated = #rill.dilated<window = 3, dilation = 2>
// CHECK-NEXT: causal=true sinks=0 lookback=5 heads=any
// CHECK-NEXT: head 0 query 1: .x..... count=1 keys={1}
// CHECK-NEXT: head 0 query 5: .x.x.x. count=3 keys={1,3,5}
// CHECK-NEXT: head 0 query 6: ..x.x.x count=3 keys={2,4,6}
func.func @dilated() attributes {
    rill.test.mask = #rill.dilated<window = 3, dilation = 2>,
    rill.test.queries = array<i64: 1, 5, 6>,
    rill.test.key_range = array<i64: 0, 7>} {
  return
}

// CHECK-LABEL: mask @chunked = #rill.chunked<3>
// CHECK-NEXT: causal=true sinks=0 lookback=3 heads=any
// CHECK-NEXT: head 0 query 0: x..... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx.... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx... count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: ...x.. count=1 keys={3}
// CHECK-NEXT: head 0 query 4: ...xx. count=2 keys={3..4}
// CHECK-NEXT: head 0 query 5: ...xxx count=3 keys={3..5}
func.func @chunked() attributes {
    rill.test.mask = #rill.chunked<3>,
    rill.test.query_range = array<i64: 0, 6>,
    rill.test.key_range = array<i64: 0, 6>} {
  return
}

// Block 2, block 0 global, window of one block, no random blocks.
// CHECK-LABEL: mask @bigbird = #rill.bigbird<block = 2, global = 1, window = 1, random = 0, seed = 0>
// CHECK-NEXT: causal=false sinks=2 lookback=2 heads=any
// CHECK-NEXT: head 0 query 0: xxxxxxxx count=8 keys={0..7}
// CHECK-NEXT: head 0 query 1: xxxxxxxx count=8 keys={0..7}
// CHECK-NEXT: head 0 query 2: xxxx.... count=4 keys={0..3}
// CHECK-NEXT: head 0 query 3: xxxx.... count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xx..xx.. count=4 keys={0..1,4..5}
// CHECK-NEXT: head 0 query 5: xx..xx.. count=4 keys={0..1,4..5}
// CHECK-NEXT: head 0 query 6: xx....xx count=4 keys={0..1,6..7}
// CHECK-NEXT: head 0 query 7: xx....xx count=4 keys={0..1,6..7}
func.func @bigbird() attributes {
    rill.test.mask = #rill.bigbird<block = 2, global = 1, window = 1, random = 0, seed = 0>,
    rill.test.query_range = array<i64: 0, 8>,
    rill.test.key_range = array<i64: 0, 8>} {
  return
}

// CHECK-LABEL: mask @bigbird_causal = #rill.bigbird<block = 2, global = 1, window = 1, random = 0, seed = 0, causal>
// CHECK-NEXT: causal=true sinks=2 lookback=2 heads=any
// CHECK-NEXT: head 0 query 0: x....... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx...... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx..... count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: xxxx.... count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xx..x... count=3 keys={0..1,4}
// CHECK-NEXT: head 0 query 5: xx..xx.. count=4 keys={0..1,4..5}
// CHECK-NEXT: head 0 query 6: xx....x. count=3 keys={0..1,6}
// CHECK-NEXT: head 0 query 7: xx....xx count=4 keys={0..1,6..7}
func.func @bigbird_causal() attributes {
    rill.test.mask = #rill.bigbird<block = 2, global = 1, window = 1, random = 0, seed = 0, causal>,
    rill.test.query_range = array<i64: 0, 8>,
    rill.test.key_range = array<i64: 0, 8>} {
  return
}

// A two-sided window cut by causal is the causal window of 3.
// CHECK-LABEL: mask @intersect = #rill.intersect<[#rill.causal, #rill.window<left = 2, right = 2>]>
// CHECK-NEXT: causal=true sinks=0 lookback=3 heads=any
// CHECK-NEXT: head 0 query 0: x.... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx.. count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: .xxx. count=3 keys={1..3}
// CHECK-NEXT: head 0 query 4: ..xxx count=3 keys={2..4}
func.func @intersect() attributes {
    rill.test.mask = #rill.intersect<[#rill.causal, #rill.window<left = 2, right = 2>]>,
    rill.test.query_range = array<i64: 0, 5>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}

// CHECK-LABEL: mask @per_head = #rill.per_head<[#rill.causal, #rill.window<2>]>
// CHECK-NEXT: causal=true sinks=0 lookback=unbounded heads=2
// CHECK-NEXT: head 0 query 3: xxxx. count=4 keys={0..3}
// CHECK-NEXT: head 1 query 3: ..xx. count=2 keys={2..3}
func.func @per_head() attributes {
    rill.test.mask = #rill.per_head<[#rill.causal, #rill.window<2>]>,
    rill.test.heads = array<i64: 0, 1>,
    rill.test.queries = array<i64: 3>,
    rill.test.key_range = array<i64: 0, 5>} {
  return
}

// Tile grid of StreamingLLM with 2 sinks and a window of 3, 2x2 tiles.
// CHECK-LABEL: mask @tiles = #rill.union<[#rill.sinks<2>, #rill.window<3>]>
// CHECK-NEXT: causal=true sinks=2 lookback=3 heads=any
// CHECK-NEXT: head 0 query 0: x....... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx...... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx..... count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: xxxx.... count=4 keys={0..3}
// CHECK-NEXT: head 0 query 4: xxxxx... count=5 keys={0..4}
// CHECK-NEXT: head 0 query 5: xx.xxx.. count=5 keys={0..1,3..5}
// CHECK-NEXT: head 0 query 6: xx..xxx. count=5 keys={0..1,4..6}
// CHECK-NEXT: head 0 query 7: xx...xxx count=5 keys={0..1,5..7}
// CHECK-NEXT: head 0 tiles 2x2:
// CHECK-NEXT: query [0, 2): P . . .
// CHECK-NEXT: query [2, 4): F P . .
// CHECK-NEXT: query [4, 6): F P P .
// CHECK-NEXT: query [6, 8): F . P P
func.func @tiles() attributes {
    rill.test.mask = #rill.union<[#rill.sinks<2>, #rill.window<3>]>,
    rill.test.query_range = array<i64: 0, 8>,
    rill.test.key_range = array<i64: 0, 8>,
    rill.test.tile = array<i64: 2, 2>} {
  return
}

// Random blocks only (block 1, so blocks are tokens): each query sees its
// own key plus two keys drawn from 0..q by the splitmix64 chain. The rows
// are those of rill.reference.masks.BigBird with the same parameters; head
// 1 draws different keys from head 0.
// CHECK-LABEL: mask @bigbird_random = #rill.bigbird<block = 1, global = 0, window = 1, random = 2, seed = 3>
// CHECK-NEXT: causal=false sinks=0 lookback=unbounded heads=any
// CHECK-NEXT: head 0 query 0: x....... count=1 keys={0}
// CHECK-NEXT: head 0 query 1: xx...... count=2 keys={0..1}
// CHECK-NEXT: head 0 query 2: xxx..... count=3 keys={0..2}
// CHECK-NEXT: head 0 query 3: x.xx.... count=3 keys={0,2..3}
// CHECK-NEXT: head 0 query 4: .x..x... count=2 keys={1,4}
// CHECK-NEXT: head 0 query 5: ..x.xx.. count=3 keys={2,4..5}
// CHECK-NEXT: head 0 query 6: ....x.x. count=2 keys={4,6}
// CHECK-NEXT: head 0 query 7: .x.x...x count=3 keys={1,3,7}
// CHECK-NEXT: head 1 query 0: x....... count=1 keys={0}
// CHECK-NEXT: head 1 query 1: xx...... count=2 keys={0..1}
// CHECK-NEXT: head 1 query 2: xxx..... count=3 keys={0..2}
// CHECK-NEXT: head 1 query 3: x..x.... count=2 keys={0,3}
// CHECK-NEXT: head 1 query 4: ..xxx... count=3 keys={2..4}
// CHECK-NEXT: head 1 query 5: xx...x.. count=3 keys={0..1,5}
// CHECK-NEXT: head 1 query 6: .x.x..x. count=3 keys={1,3,6}
// CHECK-NEXT: head 1 query 7: ...x..xx count=3 keys={3,6..7}
func.func @bigbird_random() attributes {
    rill.test.mask = #rill.bigbird<block = 1, global = 0, window = 1, random = 2, seed = 3>,
    rill.test.heads = array<i64: 0, 1>,
    rill.test.query_range = array<i64: 0, 8>,
    rill.test.key_range = array<i64: 0, 8>} {
  return
}

// Tile grid of a chunked mask, 2x2 tiles over chunks of 4: tiles inside one
// chunk below the diagonal are full, tiles across chunks partial or empty.
// CHECK-LABEL: mask @chunked_tiles = #rill.chunked<4>
// CHECK-NEXT: causal=true sinks=0 lookback=4 heads=any
// CHECK:      head 0 query 8: ........x count=1 keys={8}
// CHECK-NEXT: head 0 tiles 2x2:
// CHECK-NEXT: query [0, 2): P . . . .
// CHECK-NEXT: query [2, 4): F P . . .
// CHECK-NEXT: query [4, 6): . . P . .
// CHECK-NEXT: query [6, 8): . . F P .
// CHECK-NEXT: query [8, 9): . . . . F
func.func @chunked_tiles() attributes {
    rill.test.mask = #rill.chunked<4>,
    rill.test.query_range = array<i64: 0, 9>,
    rill.test.key_range = array<i64: 0, 9>,
    rill.test.tile = array<i64: 2, 2>} {
  return
}
