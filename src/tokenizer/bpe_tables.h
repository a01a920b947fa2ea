// The two lookup tables of a BPE model, built once at load and read-only afterwards.
//
// Open addressing with linear probing in flat arrays, kept small so that building them (1.7M
// lookups to resolve Gemma's 580k merges) stays in cache as much as possible; node-based
// std::unordered_map spends most of such a load allocating and chasing pointers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace lorax {

// Token string -> id. The strings are views into storage owned by the caller, which must outlive
// the index and never move.
class TokenIndex {
 public:
  void reserve(size_t count);
  // Inserts or overwrites (a later duplicate wins, as in a JSON object read into a map).
  void insert(std::string_view token, int32_t id);
  std::optional<int32_t> find(std::string_view token) const { return find(token, hash(token)); }

  // For lookups in bulk: hash first, prefetch the slot, find a little later.
  static uint64_t hash(std::string_view token);
  void prefetch(uint64_t hash) const;
  std::optional<int32_t> find(std::string_view token, uint64_t hash) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string_view token;
    int32_t id;
  };
  // A slot holds 32 bits of the hash, to skip most string compares, and 1 + the entry index.
  struct Slot {
    uint32_t tag = 0;
    uint32_t entry = 0;  // 0: empty
  };
  void rehash(size_t capacity);
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
};

// (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  struct Merge {
    uint32_t rank;
    int32_t merged_id;
  };
  void reserve(size_t count);
  void insert(int32_t left, int32_t right, Merge merge);  // a later duplicate wins
  const Merge* find(int32_t left, int32_t right) const;
  void prefetch(int32_t left, int32_t right) const;

 private:
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void rehash(size_t capacity);
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace lorax
