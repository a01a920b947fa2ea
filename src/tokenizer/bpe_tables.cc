#include "tokenizer/bpe_tables.h"

#include <bit>

namespace lorax {
namespace {

// FNV-1a over the bytes, then a multiply-xorshift finish so short keys spread over all bits.
uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  return h ^ (h >> 32);
}

uint64_t hash_key(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  return k ^ (k >> 33);
}

// Power-of-two capacity keeping `count` entries under 3/4 full.
size_t capacity_for(size_t count) {
  return std::bit_ceil(count + count / 3 + 16);
}

bool needs_growth(size_t count, size_t capacity) {
  return (count + 1) * 4 > capacity * 3;
}

}  // namespace

void TokenIndex::reserve(size_t count) {
  entries_.reserve(count);
  if (capacity_for(count) > slots_.size()) rehash(capacity_for(count));
}

void TokenIndex::rehash(size_t capacity) {
  slots_.assign(capacity, Slot{});
  const size_t mask = capacity - 1;
  for (size_t e = 0; e < entries_.size(); ++e) {
    const uint64_t h = hash_bytes(entries_[e].token);
    size_t i = h & mask;
    while (slots_[i].entry != 0) i = (i + 1) & mask;
    slots_[i] = {static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(e + 1)};
  }
}

void TokenIndex::insert(std::string_view token, int32_t id) {
  if (needs_growth(entries_.size(), slots_.size())) rehash(capacity_for(entries_.size() * 2));
  const uint64_t h = hash_bytes(token);
  const auto tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.entry == 0) {
      entries_.push_back({token, id});
      s = {tag, static_cast<uint32_t>(entries_.size())};
      return;
    }
    if (s.tag == tag && entries_[s.entry - 1].token == token) {
      entries_[s.entry - 1].id = id;
      return;
    }
  }
}

uint64_t TokenIndex::hash(std::string_view token) {
  return hash_bytes(token);
}

void TokenIndex::prefetch(uint64_t h) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
}

std::optional<int32_t> TokenIndex::find(std::string_view token, uint64_t h) const {
  if (slots_.empty()) return std::nullopt;
  const auto tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.entry == 0) return std::nullopt;
    if (s.tag == tag && entries_[s.entry - 1].token == token) return entries_[s.entry - 1].id;
  }
}

void MergeTable::reserve(size_t count) {
  if (capacity_for(count) > slots_.size()) rehash(capacity_for(count));
}

void MergeTable::rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.key != kEmpty) {
      insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFFu), s.merge);
    }
  }
}

void MergeTable::insert(int32_t left, int32_t right, Merge merge) {
  if (needs_growth(size_, slots_.size())) rehash(capacity_for(size_ * 2));
  const uint64_t key = (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.key == kEmpty) {
      s = {key, merge};
      ++size_;
      return;
    }
    if (s.key == key) {
      s.merge = merge;
      return;
    }
  }
}

void MergeTable::prefetch(int32_t left, int32_t right) const {
  if (slots_.empty()) return;
  const uint64_t key = (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  __builtin_prefetch(&slots_[hash_key(key) & (slots_.size() - 1)]);
}

const MergeTable::Merge* MergeTable::find(int32_t left, int32_t right) const {
  if (slots_.empty()) return nullptr;
  const uint64_t key = (uint64_t{static_cast<uint32_t>(left)} << 32) | static_cast<uint32_t>(right);
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash_key(key) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == kEmpty) return nullptr;
    if (s.key == key) return &s.merge;
  }
}

}  // namespace lorax
