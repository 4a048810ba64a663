// Invalid option values of rill-set-mask. They are checked before any IR is
// visited, so the errors have no location. The last cases are option values
// that do not fit the op: huge ranges and a per-head pattern of the wrong
// length.

// RUN: not rill-opt %s --rill-set-mask 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not rill-opt %s --rill-set-mask="pattern=window(0)" 2>&1 | FileCheck %s --check-prefix=WINDOW-ZERO
// RUN: not rill-opt %s --rill-set-mask="pattern=sinks(4)|windo(3)" 2>&1 | FileCheck %s --check-prefix=UNKNOWN-MASK
// RUN: not rill-opt %s --rill-set-mask="pattern=sinks(4)|" 2>&1 | FileCheck %s --check-prefix=TRAILING
// RUN: not rill-opt %s --rill-set-mask="pattern=bigbird(block=4,global=1,window=2,random=1)" 2>&1 | FileCheck %s --check-prefix=EVEN-WINDOW
// RUN: not rill-opt %s --rill-set-mask="pattern=dilated(window=8)" 2>&1 | FileCheck %s --check-prefix=MISSING-PARAM
// RUN: not rill-opt %s --rill-set-mask="pattern='[[causal], full]'" 2>&1 | FileCheck %s --check-prefix=NESTED
// RUN: not rill-opt %s --rill-set-mask="pattern=causal layers=x" 2>&1 | FileCheck %s --check-prefix=LAYERS-WORD
// RUN: not rill-opt %s --rill-set-mask="pattern=causal layers=3-1" 2>&1 | FileCheck %s --check-prefix=LAYERS-RANGE
// RUN: not rill-opt %s --rill-set-mask="pattern=causal layers=1,,2" 2>&1 | FileCheck %s --check-prefix=LAYERS-EMPTY
// RUN: not rill-opt %s --rill-set-mask="pattern=causal layers=-1" 2>&1 | FileCheck %s --check-prefix=LAYERS-NEGATIVE
// RUN: not rill-opt %s --rill-set-mask="pattern=causal heads=0-x" 2>&1 | FileCheck %s --check-prefix=HEADS-WORD
// RUN: not rill-opt %s --rill-set-mask="pattern='[causal, full]' heads=0" 2>&1 | FileCheck %s --check-prefix=HEADS-PER-HEAD
// RUN: not rill-opt %s --rill-set-mask="pattern=causal layers=0-1000000000" 2>&1 | FileCheck %s --check-prefix=HUGE-LAYERS
// RUN: not rill-opt %s --rill-set-mask="pattern=causal heads=2-1000000000" 2>&1 | FileCheck %s --check-prefix=HUGE-HEADS
// RUN: rill-opt %s -verify-diagnostics --rill-set-mask="pattern='[causal, full, sinks(1)]'" -o /dev/null

// MISSING: error: rill-set-mask: missing value of option 'pattern' (expected a mask such as pattern=sinks(4)|window(1020))
// WINDOW-ZERO: error: rill-set-mask: invalid value of option 'pattern': invalid mask pattern 'window(0)': window parameter 'size' must be an integer >= 1 (got 0) at column 8
// UNKNOWN-MASK: error: rill-set-mask: invalid value of option 'pattern': invalid mask pattern 'sinks(4)|windo(3)': unknown mask 'windo' at column 10 (expected one of: bigbird, causal, chunked, dilated, full, sinks, window)
// TRAILING: error: rill-set-mask: invalid value of option 'pattern': invalid mask pattern 'sinks(4)|': expected a mask name (got end of input)
// EVEN-WINDOW: invalid mask pattern 'bigbird(block=4,global=1,window=2,random=1)': bigbird parameter 'window' must be odd (got 2) at column 33
// MISSING-PARAM: invalid mask pattern 'dilated(window=8)': missing parameter 'dilation' of dilated at column 1
// NESTED: invalid mask pattern '{{\[\[}}causal], full]': per-head list at column 1 has another per-head list as its member #0
// LAYERS-WORD: error: rill-set-mask: invalid value 'x' of option 'layers': 'x' is neither a non-negative integer nor a range A-B (expected 'all' or numbers and ranges such as '0-3,5')
// LAYERS-RANGE: error: rill-set-mask: invalid value '3-1' of option 'layers': range '3-1' ends before it starts
// LAYERS-EMPTY: error: rill-set-mask: invalid value '1,,2' of option 'layers': empty item
// LAYERS-NEGATIVE: error: rill-set-mask: invalid value '-1' of option 'layers': '-1' is neither a non-negative integer nor a range A-B
// HEADS-WORD: error: rill-set-mask: invalid value '0-x' of option 'heads': '0-x' is neither a non-negative integer nor a range A-B
// HEADS-PER-HEAD: error: rill-set-mask: option 'pattern' must not contain a per-head list when option 'heads' is set (got pattern '[causal, full]' and heads '0')

// Ranges are not expanded, so a huge range is cheap and fails on its first
// missing member.
// HUGE-LAYERS: error: option 'layers' selects layer 1, but function @four_heads has 1 rill.attention ops (layers 0 to 0)
// HUGE-HEADS: error: option 'heads' selects query head 4, but this op has 4 query heads

func.func @four_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>,
                      %v: tensor<1x2x8x16xf32>, %pos: index)
    -> tensor<1x4x8x16xf32> {
  // expected-error@+1 {{option 'pattern' gives a per-head mask with 3 members, but this op has 4 query heads (query dimension 1)}}
  %out = rill.attention %q, %k, %v at %pos, %pos mask(#rill.causal)
      : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>
      -> tensor<1x4x8x16xf32>
  return %out : tensor<1x4x8x16xf32>
}
