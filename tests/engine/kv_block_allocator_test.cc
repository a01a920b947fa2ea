// The KV block manager's prefix cache on its own: matching, sharing, eviction order, retiring an
// owner, and no block ever handed out while someone reads it.
#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/paged_kv_cache.h"

namespace lorax {
namespace {

// The keys of a chain of blocks of `tokens` (block size 2) for `owner`.
std::vector<KvBlockKey> chain(uint64_t owner, const std::vector<int32_t>& tokens) {
  std::vector<KvBlockKey> keys;
  uint64_t parent = 0;
  for (size_t i = 0; i + 2 <= tokens.size(); i += 2) {
    keys.push_back({parent, owner, {tokens[i], tokens[i + 1]}});
    parent = keys.back().hash();
  }
  return keys;
}

void publish_all(KvBlockAllocator& blocks, const std::vector<int32_t>& table,
                 const std::vector<KvBlockKey>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) blocks.publish(table[i], keys[i]);
}

TEST(KvBlockAllocator, SharesTheLongestPublishedPrefix) {
  KvBlockAllocator blocks(8);
  std::vector<int32_t> a;
  blocks.allocate(3, a);
  publish_all(blocks, a, chain(0, {1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(blocks.num_cached(), 3);
  std::vector<int32_t> b;
  EXPECT_EQ(blocks.match(chain(0, {1, 2, 3, 4, 9, 9}), b), 2);
  EXPECT_EQ(b, (std::vector<int32_t>{a[0], a[1]}));
  EXPECT_EQ(blocks.num_free(), 5);  // shared blocks are counted once
  blocks.release(a);
  EXPECT_EQ(blocks.num_free(), 6);  // a's last block: published, nobody reads it
  blocks.release(b);
  EXPECT_EQ(blocks.num_free(), 8);
  EXPECT_EQ(blocks.num_cached(), 3);  // still published until room is needed
}

TEST(KvBlockAllocator, OwnersNeverShareBlocks) {
  KvBlockAllocator blocks(4);
  std::vector<int32_t> a, b, c;
  blocks.allocate(2, a);
  publish_all(blocks, a, chain(7, {1, 2, 3, 4}));
  EXPECT_EQ(blocks.match(chain(8, {1, 2, 3, 4}), b), 0);  // another adapter
  EXPECT_EQ(blocks.match(chain(0, {1, 2, 3, 4}), c), 0);  // the base model
  EXPECT_EQ(blocks.match(chain(7, {1, 2, 3, 4}), c), 2);
  blocks.release(a);
  blocks.release(c);
  EXPECT_EQ(blocks.num_free(), 4);
}

TEST(KvBlockAllocator, EvictsWhatNobodyReadsLeastRecentlyReleasedFirst) {
  KvBlockAllocator blocks(4);
  std::vector<int32_t> a, b, held;
  blocks.allocate(2, a);
  publish_all(blocks, a, chain(0, {1, 2, 3, 4}));
  blocks.allocate(2, b);
  publish_all(blocks, b, chain(0, {5, 6, 7, 8}));
  blocks.release(a);  // released first: evicted first, its tail before its head
  blocks.release(b);
  blocks.allocate(1, held);
  EXPECT_EQ(held[0], a[1]);
  EXPECT_EQ(blocks.evictions(), 1);
  std::vector<int32_t> m;
  EXPECT_EQ(blocks.match(chain(0, {1, 2, 3, 4}), m), 1);  // the head is still there
  EXPECT_EQ(blocks.match(chain(0, {5, 6, 7, 8}), m), 2);
  EXPECT_EQ(blocks.num_free(), 0);
  EXPECT_THROW(blocks.allocate(1, held), Error);  // a block someone reads is never taken
  blocks.release(m);
  blocks.release(held);
  EXPECT_EQ(blocks.num_free(), 4);
}

TEST(KvBlockAllocator, RetiringAnOwnerFreesItsBlocksOnceNobodyReadsThem) {
  KvBlockAllocator blocks(4);
  std::vector<int32_t> a, b;
  blocks.allocate(2, a);
  publish_all(blocks, a, chain(3, {1, 2, 3, 4}));
  blocks.allocate(1, b);
  publish_all(blocks, b, chain(0, {1, 2}));
  blocks.release(b);
  blocks.retire_owner(3);
  EXPECT_EQ(blocks.num_cached(), 1);  // the base model's block stays
  std::vector<int32_t> m;
  EXPECT_EQ(blocks.match(chain(3, {1, 2, 3, 4}), m), 0);
  blocks.release(a);
  EXPECT_EQ(blocks.num_free(), 4);
  EXPECT_EQ(blocks.evictions(), 0);
}

TEST(KvBlockAllocator, ADuplicateKeyLeavesTheSecondBlockPrivate) {
  KvBlockAllocator blocks(4);
  std::vector<int32_t> a, b;
  blocks.allocate(1, a);
  blocks.allocate(1, b);
  blocks.publish(a[0], chain(0, {1, 2})[0]);
  blocks.publish(b[0], chain(0, {1, 2})[0]);
  EXPECT_EQ(blocks.num_cached(), 1);
  blocks.release(b);  // private: straight back to the free list
  blocks.release(a);
  EXPECT_EQ(blocks.num_free(), 4);
  EXPECT_EQ(blocks.num_cached(), 1);
}

}  // namespace
}  // namespace lorax
