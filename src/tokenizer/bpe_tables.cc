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

// Capacity for `count` entries at most half full.
size_t capacity_for(size_t count) {
  return std::bit_ceil(count * 2 + 16);
}

}  // namespace

void TokenIndex::reserve(size_t count) {
  if (capacity_for(count) <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity_for(count), Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.id >= 0) insert(s.token, s.id);
  }
}

void TokenIndex::grow() {
  reserve(size_ * 2 + 8);
}

void TokenIndex::insert(std::string_view token, int32_t id) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash_bytes(token) & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id < 0) {
      s = {token, id};
      ++size_;
      return;
    }
    if (s.token == token) {
      s.id = id;
      return;
    }
  }
}

std::optional<int32_t> TokenIndex::find(std::string_view token) const {
  if (slots_.empty()) return std::nullopt;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash_bytes(token) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id < 0) return std::nullopt;
    if (s.token == token) return s.id;
  }
}

void MergeTable::reserve(size_t count) {
  if (capacity_for(count) <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity_for(count), Slot{});
  size_ = 0;
  for (const Slot& s : old) {
    if (s.key != kEmpty) {
      insert(static_cast<int32_t>(s.key >> 32), static_cast<int32_t>(s.key & 0xFFFFFFFFu), s.merge);
    }
  }
}

void MergeTable::grow() {
  reserve(size_ * 2 + 8);
}

void MergeTable::insert(int32_t left, int32_t right, Merge merge) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
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
