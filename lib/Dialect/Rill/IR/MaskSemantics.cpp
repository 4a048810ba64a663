//===- MaskSemantics.cpp - What each rill mask shows ------------*- C++ -*-===//
//
// Implements the host-side half of MaskAttrInterface for every mask
// attribute: the visibility predicate, exact or sound tile classification,
// causality and the cache bounds (sink keys and lookback). The numpy
// reference in python/rill/reference/masks.py defines the same predicates
// and is tested against this file.
//
//===----------------------------------------------------------------------===//

#include "rill/Dialect/Rill/IR/RillAttrs.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>

using namespace mlir;
using namespace mlir::rill;

using llvm::divideFloorSigned;

static bool isEmptyTile(int64_t qBegin, int64_t qEnd, int64_t kBegin,
                        int64_t kEnd) {
  return qBegin >= qEnd || kBegin >= kEnd;
}

/// Classifies a tile whose visible pairs are those with a query-minus-key
/// difference `d = q - k` in `[minDistance, maxDistance]`. The differences
/// of a rectangle of contiguous ranges form the contiguous interval
/// `[qBegin - (kEnd - 1), (qEnd - 1) - kBegin]`, so the result is exact.
static TileKind classifyDistanceBand(int64_t qBegin, int64_t qEnd,
                                     int64_t kBegin, int64_t kEnd,
                                     int64_t minDistance,
                                     int64_t maxDistance) {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  int64_t lowest = qBegin - (kEnd - 1);
  int64_t highest = (qEnd - 1) - kBegin;
  if (highest < minDistance || lowest > maxDistance)
    return TileKind::Empty;
  if (lowest >= minDistance && highest <= maxDistance)
    return TileKind::Full;
  return TileKind::Partial;
}

//===----------------------------------------------------------------------===//
// FullAttr
//===----------------------------------------------------------------------===//

bool FullAttr::isVisible(int64_t, int64_t, int64_t) const { return true; }

TileKind FullAttr::classifyTile(int64_t qBegin, int64_t qEnd, int64_t kBegin,
                                int64_t kEnd, int64_t) const {
  return isEmptyTile(qBegin, qEnd, kBegin, kEnd) ? TileKind::Empty
                                                 : TileKind::Full;
}

std::optional<int64_t> FullAttr::getNumHeads() const { return std::nullopt; }
bool FullAttr::isCausal() const { return false; }
std::optional<int64_t> FullAttr::getMaxLookback() const {
  return std::nullopt;
}
int64_t FullAttr::getNumSinkKeys() const { return 0; }

//===----------------------------------------------------------------------===//
// CausalAttr
//===----------------------------------------------------------------------===//

bool CausalAttr::isVisible(int64_t q, int64_t k, int64_t) const {
  return k <= q;
}

TileKind CausalAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                  int64_t kBegin, int64_t kEnd,
                                  int64_t) const {
  return classifyDistanceBand(qBegin, qEnd, kBegin, kEnd, 0,
                              std::numeric_limits<int64_t>::max());
}

std::optional<int64_t> CausalAttr::getNumHeads() const {
  return std::nullopt;
}
bool CausalAttr::isCausal() const { return true; }
std::optional<int64_t> CausalAttr::getMaxLookback() const {
  return std::nullopt;
}
int64_t CausalAttr::getNumSinkKeys() const { return 0; }

//===----------------------------------------------------------------------===//
// WindowAttr
//===----------------------------------------------------------------------===//

bool WindowAttr::isVisible(int64_t q, int64_t k, int64_t) const {
  return k >= q - getLeft() && k <= q + getRight();
}

TileKind WindowAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                  int64_t kBegin, int64_t kEnd,
                                  int64_t) const {
  return classifyDistanceBand(qBegin, qEnd, kBegin, kEnd, -getRight(),
                              getLeft());
}

std::optional<int64_t> WindowAttr::getNumHeads() const {
  return std::nullopt;
}
bool WindowAttr::isCausal() const { return getRight() == 0; }
std::optional<int64_t> WindowAttr::getMaxLookback() const {
  return getLeft() + 1;
}
int64_t WindowAttr::getNumSinkKeys() const { return 0; }

//===----------------------------------------------------------------------===//
// SinksAttr
//===----------------------------------------------------------------------===//

bool SinksAttr::isVisible(int64_t q, int64_t k, int64_t) const {
  return k < getCount() && k <= q;
}

TileKind SinksAttr::classifyTile(int64_t qBegin, int64_t qEnd, int64_t kBegin,
                                 int64_t kEnd, int64_t) const {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  // The pair (latest query, earliest key) is the most likely to be visible,
  // and (earliest query, latest key) the least likely.
  if (!isVisible(qEnd - 1, kBegin, 0))
    return TileKind::Empty;
  if (isVisible(qBegin, kEnd - 1, 0))
    return TileKind::Full;
  return TileKind::Partial;
}

std::optional<int64_t> SinksAttr::getNumHeads() const { return std::nullopt; }
bool SinksAttr::isCausal() const { return true; }
std::optional<int64_t> SinksAttr::getMaxLookback() const { return 0; }
int64_t SinksAttr::getNumSinkKeys() const { return getCount(); }

//===----------------------------------------------------------------------===//
// DilatedAttr
//===----------------------------------------------------------------------===//

bool DilatedAttr::isVisible(int64_t q, int64_t k, int64_t) const {
  int64_t distance = q - k;
  return distance >= 0 && distance < getWindow() * getDilation() &&
         distance % getDilation() == 0;
}

TileKind DilatedAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                   int64_t kBegin, int64_t kEnd,
                                   int64_t) const {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  // Visible distances are the multiples of the dilation in [0, maxDistance],
  // and the tile's distances form the interval [lowest, highest].
  int64_t dilation = getDilation();
  int64_t maxDistance = (getWindow() - 1) * dilation;
  int64_t lowest = qBegin - (kEnd - 1);
  int64_t highest = (qEnd - 1) - kBegin;

  int64_t clampedLow = std::max<int64_t>(lowest, 0);
  int64_t clampedHigh = std::min(highest, maxDistance);
  if (clampedLow > clampedHigh)
    return TileKind::Empty;
  int64_t firstMultiple = llvm::divideCeilSigned(clampedLow, dilation) *
                          dilation;
  if (firstMultiple > clampedHigh)
    return TileKind::Empty;

  bool allInSpan = lowest >= 0 && highest <= maxDistance;
  bool allMultiples = dilation == 1 || (lowest == highest &&
                                        lowest % dilation == 0);
  return allInSpan && allMultiples ? TileKind::Full : TileKind::Partial;
}

std::optional<int64_t> DilatedAttr::getNumHeads() const {
  return std::nullopt;
}
bool DilatedAttr::isCausal() const { return true; }
std::optional<int64_t> DilatedAttr::getMaxLookback() const {
  return (getWindow() - 1) * getDilation() + 1;
}
int64_t DilatedAttr::getNumSinkKeys() const { return 0; }

//===----------------------------------------------------------------------===//
// ChunkedAttr
//===----------------------------------------------------------------------===//

bool ChunkedAttr::isVisible(int64_t q, int64_t k, int64_t) const {
  return divideFloorSigned(q, getSize()) == divideFloorSigned(k, getSize()) &&
         k <= q;
}

TileKind ChunkedAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                   int64_t kBegin, int64_t kEnd,
                                   int64_t) const {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  int64_t size = getSize();
  int64_t firstQueryChunk = divideFloorSigned(qBegin, size);
  int64_t lastQueryChunk = divideFloorSigned(qEnd - 1, size);
  int64_t firstKeyChunk = divideFloorSigned(kBegin, size);
  int64_t lastKeyChunk = divideFloorSigned(kEnd - 1, size);

  if (firstQueryChunk == lastQueryChunk && firstKeyChunk == lastKeyChunk &&
      firstQueryChunk == firstKeyChunk)
    return kEnd - 1 <= qBegin ? TileKind::Full
           : kBegin <= qEnd - 1 ? TileKind::Partial
                                : TileKind::Empty;

  // A tile spanning several chunks is never full. It is empty unless some
  // shared chunk contains a key at or before a query. A chunk strictly inside
  // both ranges always does (its first position pairs with itself), so
  // only the first and last shared chunks need checking.
  int64_t firstShared = std::max(firstQueryChunk, firstKeyChunk);
  int64_t lastShared = std::min(lastQueryChunk, lastKeyChunk);
  if (firstShared > lastShared)
    return TileKind::Empty;
  if (lastShared - firstShared >= 2)
    return TileKind::Partial;
  for (int64_t chunk : {firstShared, lastShared}) {
    int64_t earliestKey = std::max(kBegin, chunk * size);
    int64_t latestQuery = std::min(qEnd - 1, chunk * size + size - 1);
    if (earliestKey <= latestQuery)
      return TileKind::Partial;
  }
  return TileKind::Empty;
}

std::optional<int64_t> ChunkedAttr::getNumHeads() const {
  return std::nullopt;
}
bool ChunkedAttr::isCausal() const { return true; }
std::optional<int64_t> ChunkedAttr::getMaxLookback() const {
  return getSize();
}
int64_t ChunkedAttr::getNumSinkKeys() const { return 0; }

//===----------------------------------------------------------------------===//
// BigBirdAttr
//===----------------------------------------------------------------------===//

// This mirrors `bigbird_random_blocks` in python/rill/reference/masks.py
// step by step, with the same splitmix64 chain, draw order and rejection of
// repeats, so both pick bit-identical blocks. MaskTest.cpp and
// python/tests/test_mask_cross_check.py compare them.
SmallVector<int64_t> BigBirdAttr::getRandomBlocks(int64_t queryBlock,
                                                  int64_t head) const {
  SmallVector<int64_t> chosen;
  if (queryBlock < 0 || head < 0)
    return chosen;

  int64_t count = getRandom();
  uint64_t candidates = static_cast<uint64_t>(queryBlock) + 1;
  if (candidates <= static_cast<uint64_t>(count)) {
    for (int64_t block = 0; block <= queryBlock; ++block)
      chosen.push_back(block);
    return chosen;
  }

  uint64_t state = splitmix64(getSeed());
  state = splitmix64(state ^ static_cast<uint64_t>(getLayer()));
  state = splitmix64(state ^ static_cast<uint64_t>(head));
  state = splitmix64(state ^ static_cast<uint64_t>(queryBlock));
  for (uint64_t draw = 0; static_cast<int64_t>(chosen.size()) < count;
       ++draw) {
    auto block = static_cast<int64_t>(splitmix64(state ^ draw) % candidates);
    if (!llvm::is_contained(chosen, block))
      chosen.push_back(block);
  }
  return chosen;
}

bool BigBirdAttr::isBlockVisible(int64_t queryBlock, int64_t keyBlock,
                                 int64_t head) const {
  if (queryBlock < getGlobal() || keyBlock < getGlobal())
    return true;
  int64_t halfWindow = getWindow() / 2;
  if (keyBlock >= queryBlock - halfWindow &&
      keyBlock <= queryBlock + halfWindow)
    return true;
  return getRandom() > 0 &&
         llvm::is_contained(getRandomBlocks(queryBlock, head), keyBlock);
}

bool BigBirdAttr::isVisible(int64_t q, int64_t k, int64_t head) const {
  if (getCausal() && k > q)
    return false;
  return isBlockVisible(divideFloorSigned(q, getBlock()),
                        divideFloorSigned(k, getBlock()), head);
}

namespace {
/// A closed interval of key blocks.
struct BlockInterval {
  int64_t first;
  int64_t last;
};
} // namespace

/// Returns the key blocks in `[firstKeyBlock, lastKeyBlock]` that
/// `queryBlock` attends to, as sorted disjoint intervals.
static SmallVector<BlockInterval>
getVisibleKeyBlocks(BigBirdAttr mask, int64_t queryBlock, int64_t head,
                    int64_t firstKeyBlock, int64_t lastKeyBlock) {
  SmallVector<BlockInterval> intervals;
  auto addClamped = [&](int64_t first, int64_t last) {
    first = std::max(first, firstKeyBlock);
    last = std::min(last, lastKeyBlock);
    if (first <= last)
      intervals.push_back({first, last});
  };

  if (queryBlock < mask.getGlobal()) {
    addClamped(firstKeyBlock, lastKeyBlock);
    return intervals;
  }
  addClamped(std::numeric_limits<int64_t>::min(), mask.getGlobal() - 1);
  int64_t halfWindow = mask.getWindow() / 2;
  addClamped(queryBlock - halfWindow, queryBlock + halfWindow);
  if (mask.getRandom() > 0) {
    for (int64_t block : mask.getRandomBlocks(queryBlock, head))
      addClamped(block, block);
  }

  llvm::sort(intervals, [](const BlockInterval &a, const BlockInterval &b) {
    return a.first < b.first;
  });
  SmallVector<BlockInterval> merged;
  for (const BlockInterval &interval : intervals) {
    if (!merged.empty() && interval.first <= merged.back().last + 1)
      merged.back().last = std::max(merged.back().last, interval.last);
    else
      merged.push_back(interval);
  }
  return merged;
}

TileKind BigBirdAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                   int64_t kBegin, int64_t kEnd,
                                   int64_t head) const {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  int64_t block = getBlock();
  int64_t firstQueryBlock = divideFloorSigned(qBegin, block);
  int64_t lastQueryBlock = divideFloorSigned(qEnd - 1, block);
  int64_t firstKeyBlock = divideFloorSigned(kBegin, block);
  int64_t lastKeyBlock = divideFloorSigned(kEnd - 1, block);

  // NOTE: tiles spanning more query blocks than this are reported as
  // partial without inspection, which is sound but may miss skips.
  constexpr int64_t kMaxQueryBlocks = 1 << 16;
  if (lastQueryBlock - firstQueryBlock >= kMaxQueryBlocks)
    return TileKind::Partial;

  // Classify the slice of the tile in each query block and combine.
  bool anyVisible = false;
  bool allVisible = true;
  for (int64_t queryBlock = firstQueryBlock; queryBlock <= lastQueryBlock;
       ++queryBlock) {
    int64_t sliceBegin = std::max(qBegin, queryBlock * block);
    int64_t sliceLast = std::min(qEnd - 1, queryBlock * block + block - 1);
    SmallVector<BlockInterval> visible = getVisibleKeyBlocks(
        *this, queryBlock, head, firstKeyBlock, lastKeyBlock);

    bool coversAllKeys = visible.size() == 1 &&
                         visible.front().first == firstKeyBlock &&
                         visible.front().last == lastKeyBlock;
    if (visible.empty()) {
      allVisible = false;
    } else if (!getCausal()) {
      anyVisible = true;
      allVisible &= coversAllKeys;
    } else {
      int64_t earliestKey = std::max(kBegin, visible.front().first * block);
      anyVisible |= earliestKey <= sliceLast;
      allVisible &= coversAllKeys && kEnd - 1 <= sliceBegin;
    }

    if (anyVisible && !allVisible)
      return TileKind::Partial;
  }
  if (!anyVisible)
    return TileKind::Empty;
  return allVisible ? TileKind::Full : TileKind::Partial;
}

std::optional<int64_t> BigBirdAttr::getNumHeads() const {
  return std::nullopt;
}
bool BigBirdAttr::isCausal() const { return getCausal(); }

// The global blocks come first, so they act as sinks. Random blocks can be
// any earlier block, so with them no lookback bound exists.
std::optional<int64_t> BigBirdAttr::getMaxLookback() const {
  if (getRandom() > 0)
    return std::nullopt;
  return (getWindow() / 2 + 1) * getBlock();
}
int64_t BigBirdAttr::getNumSinkKeys() const {
  return getGlobal() * getBlock();
}

//===----------------------------------------------------------------------===//
// UnionAttr
//===----------------------------------------------------------------------===//

static auto getMembers(ArrayAttr masks) {
  return masks.getAsRange<MaskAttrInterface>();
}

/// Returns the number of heads of the first member that has one.
static std::optional<int64_t> getMembersNumHeads(ArrayAttr masks) {
  for (MaskAttrInterface member : getMembers(masks))
    if (std::optional<int64_t> numHeads = member.getNumHeads())
      return numHeads;
  return std::nullopt;
}

/// Returns the largest lookback of the members, or std::nullopt if any
/// member has none.
static std::optional<int64_t> getLargestLookback(ArrayAttr masks) {
  int64_t largest = 0;
  for (MaskAttrInterface member : getMembers(masks)) {
    std::optional<int64_t> lookback = member.getMaxLookback();
    if (!lookback)
      return std::nullopt;
    largest = std::max(largest, *lookback);
  }
  return largest;
}

static int64_t getLargestSinkCount(ArrayAttr masks) {
  int64_t largest = 0;
  for (MaskAttrInterface member : getMembers(masks))
    largest = std::max(largest, member.getNumSinkKeys());
  return largest;
}

bool UnionAttr::isVisible(int64_t q, int64_t k, int64_t head) const {
  return llvm::any_of(getMembers(getMasks()), [&](MaskAttrInterface member) {
    return member.isVisible(q, k, head);
  });
}

/// Classifies a tile of a union (`isUnion`) or an intersection of `masks`
/// by members alone: a union is full when a member is full and empty when
/// all are, an intersection the other way round.
static TileKind classifyByMembers(ArrayAttr masks, bool isUnion,
                                  int64_t qBegin, int64_t qEnd,
                                  int64_t kBegin, int64_t kEnd,
                                  int64_t head) {
  TileKind decisive = isUnion ? TileKind::Full : TileKind::Empty;
  TileKind unanimous = isUnion ? TileKind::Empty : TileKind::Full;
  bool allUnanimous = true;
  for (MaskAttrInterface member : getMembers(masks)) {
    TileKind kind = member.classifyTile(qBegin, qEnd, kBegin, kEnd, head);
    if (kind == decisive)
      return decisive;
    allUnanimous &= kind == unanimous;
  }
  return allUnanimous ? unanimous : TileKind::Partial;
}

/// Classifies a tile of a union or intersection after cutting its key
/// range at every member's sink boundary, then combines the pieces. Sinks
/// change behaviour at that boundary, so without the cut a StreamingLLM
/// tile straddling it would be partial although each side is full.
static TileKind classifyComposition(ArrayAttr masks, bool isUnion,
                                    int64_t qBegin, int64_t qEnd,
                                    int64_t kBegin, int64_t kEnd,
                                    int64_t head) {
  if (isEmptyTile(qBegin, qEnd, kBegin, kEnd))
    return TileKind::Empty;

  SmallVector<int64_t> cuts = {kBegin, kEnd};
  for (MaskAttrInterface member : getMembers(masks)) {
    int64_t boundary = member.getNumSinkKeys();
    if (boundary > kBegin && boundary < kEnd)
      cuts.push_back(boundary);
  }
  llvm::sort(cuts);
  cuts.erase(llvm::unique(cuts), cuts.end());

  std::optional<TileKind> combined;
  for (size_t piece = 0; piece + 1 < cuts.size(); ++piece) {
    TileKind kind = classifyByMembers(masks, isUnion, qBegin, qEnd,
                                      cuts[piece], cuts[piece + 1], head);
    if (kind == TileKind::Partial || (combined && *combined != kind))
      return TileKind::Partial;
    combined = kind;
  }
  return *combined;
}

TileKind UnionAttr::classifyTile(int64_t qBegin, int64_t qEnd, int64_t kBegin,
                                 int64_t kEnd, int64_t head) const {
  return classifyComposition(getMasks(), /*isUnion=*/true, qBegin, qEnd,
                             kBegin, kEnd, head);
}

std::optional<int64_t> UnionAttr::getNumHeads() const {
  return getMembersNumHeads(getMasks());
}
bool UnionAttr::isCausal() const {
  return llvm::all_of(getMembers(getMasks()), [](MaskAttrInterface member) {
    return member.isCausal();
  });
}
std::optional<int64_t> UnionAttr::getMaxLookback() const {
  return getLargestLookback(getMasks());
}
int64_t UnionAttr::getNumSinkKeys() const {
  return getLargestSinkCount(getMasks());
}

//===----------------------------------------------------------------------===//
// IntersectAttr
//===----------------------------------------------------------------------===//

bool IntersectAttr::isVisible(int64_t q, int64_t k, int64_t head) const {
  return llvm::all_of(getMembers(getMasks()), [&](MaskAttrInterface member) {
    return member.isVisible(q, k, head);
  });
}

TileKind IntersectAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                     int64_t kBegin, int64_t kEnd,
                                     int64_t head) const {
  return classifyComposition(getMasks(), /*isUnion=*/false, qBegin, qEnd,
                             kBegin, kEnd, head);
}

/// Returns the member whose cache bound (sinks plus lookback) is smallest,
/// or the first member when none is bounded. Every visible key of the
/// intersection is visible in that member, so its bound holds.
static MaskAttrInterface getTightestMember(ArrayAttr masks) {
  MaskAttrInterface best = *getMembers(masks).begin();
  std::optional<int64_t> bestCapacity;
  for (MaskAttrInterface member : getMembers(masks)) {
    std::optional<int64_t> lookback = member.getMaxLookback();
    if (!lookback)
      continue;
    int64_t capacity = *lookback + member.getNumSinkKeys();
    if (!bestCapacity || capacity < *bestCapacity) {
      best = member;
      bestCapacity = capacity;
    }
  }
  return best;
}

std::optional<int64_t> IntersectAttr::getNumHeads() const {
  return getMembersNumHeads(getMasks());
}
bool IntersectAttr::isCausal() const {
  return llvm::any_of(getMembers(getMasks()), [](MaskAttrInterface member) {
    return member.isCausal();
  });
}
std::optional<int64_t> IntersectAttr::getMaxLookback() const {
  return getTightestMember(getMasks()).getMaxLookback();
}
int64_t IntersectAttr::getNumSinkKeys() const {
  return getTightestMember(getMasks()).getNumSinkKeys();
}

//===----------------------------------------------------------------------===//
// PerHeadAttr
//===----------------------------------------------------------------------===//

// Heads outside [0, number of members) see no key.
bool PerHeadAttr::isVisible(int64_t q, int64_t k, int64_t head) const {
  if (head < 0 || head >= static_cast<int64_t>(getMasks().size()))
    return false;
  return cast<MaskAttrInterface>(getMasks()[head]).isVisible(q, k, head);
}

TileKind PerHeadAttr::classifyTile(int64_t qBegin, int64_t qEnd,
                                   int64_t kBegin, int64_t kEnd,
                                   int64_t head) const {
  if (head < 0 || head >= static_cast<int64_t>(getMasks().size()))
    return TileKind::Empty;
  return cast<MaskAttrInterface>(getMasks()[head])
      .classifyTile(qBegin, qEnd, kBegin, kEnd, head);
}

std::optional<int64_t> PerHeadAttr::getNumHeads() const {
  return static_cast<int64_t>(getMasks().size());
}
bool PerHeadAttr::isCausal() const {
  return llvm::all_of(getMembers(getMasks()), [](MaskAttrInterface member) {
    return member.isCausal();
  });
}
std::optional<int64_t> PerHeadAttr::getMaxLookback() const {
  return getLargestLookback(getMasks());
}
int64_t PerHeadAttr::getNumSinkKeys() const {
  return getLargestSinkCount(getMasks());
}
