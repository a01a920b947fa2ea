// The two lookup tables of a BPE model, built once at load and read-only afterwards.
//
// Open addressing with linear probing in flat arrays: a 256k-token vocabulary and 580k merges
// load in a few tens of milliseconds and every lookup touches one or two cache lines, where
// node-based std::unordered_map spends most of the load time allocating.
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
  std::optional<int32_t> find(std::string_view token) const;
  size_t size() const { return size_; }

 private:
  struct Slot {
    std::string_view token;
    int32_t id = -1;  // -1: empty
  };
  void grow();
  std::vector<Slot> slots_;
  size_t size_ = 0;
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

 private:
  struct Slot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  void grow();
  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace lorax
