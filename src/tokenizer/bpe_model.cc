#include "tokenizer/bpe_model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <queue>

#include "core/error.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/unicode.h"

namespace lorax {

namespace jf = json_fields;

struct BpeModel::ConstructionKey {};

// A symbol of the word being merged, in a doubly linked list over a vector (HF `Word`).
struct BpeModel::Symbol {
  int32_t id;
  int32_t prev;  // -1: first
  int32_t next;  // -1: last
  uint32_t len;  // bytes of the word it covers; 0 once merged into its left neighbour
};

std::unique_ptr<const BpeModel> BpeModel::from_json(const nlohmann::json& model, VocabEntries vocab,
                                                    MergeEntries merges, const std::string& where) {
  // Built in place on the heap: the index points into storage_, so the model never moves.
  auto bpe = std::make_unique<BpeModel>(ConstructionKey{});
  bpe->unk_token_ = jf::optional_string(model, "unk_token", where);
  bpe->continuing_subword_prefix_ =
      jf::optional_string(model, "continuing_subword_prefix", where).value_or("");
  bpe->end_of_word_suffix_ = jf::optional_string(model, "end_of_word_suffix", where).value_or("");
  bpe->fuse_unk_ = jf::optional_bool(model, "fuse_unk", false, where);
  bpe->byte_fallback_ = jf::optional_bool(model, "byte_fallback", false, where);
  bpe->ignore_merges_ = jf::optional_bool(model, "ignore_merges", false, where);
  bpe->load_vocab(std::move(vocab));
  bpe->load_merges(merges, where);
  return bpe;
}

void BpeModel::load_vocab(VocabEntries vocab) {
  storage_ = std::move(vocab.storage);
  int32_t max_id = -1;
  for (int32_t id : vocab.ids) max_id = std::max(max_id, id);
  by_id_.assign(static_cast<size_t>(max_id + 1), StoredSpan{0, kNoToken});
  index_.reserve(vocab.tokens.size());
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const StoredSpan span = vocab.tokens[i];
    by_id_[static_cast<size_t>(vocab.ids[i])] = span;
    index_.insert(std::string_view(storage_).substr(span.offset, span.length), vocab.ids[i]);
  }
  byte_tokens_.assign(256, -1);
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[static_cast<size_t>(b)] = index_.find(name).value_or(-1);
  }
}

void BpeModel::load_merges(const MergeEntries& merges, const std::string& where) {
  // Resolving 580k merges is three random lookups each; doing them in batches, with every
  // batch's slots prefetched before any is read, overlaps the cache misses.
  constexpr size_t kBatch = 32;
  struct Pending {
    std::string_view left;
    std::string_view right;
    std::string merged;
    uint64_t hash[3];
    int32_t id[3];  // left, right, merged
  };
  std::vector<Pending> batch(kBatch);
  const std::string_view storage(merges.storage);
  merges_.reserve(merges.left.size());
  for (size_t base = 0; base < merges.left.size(); base += kBatch) {
    const size_t count = std::min(kBatch, merges.left.size() - base);
    for (size_t i = 0; i < count; ++i) {
      Pending& p = batch[i];
      p.left = storage.substr(merges.left[base + i].offset, merges.left[base + i].length);
      p.right = storage.substr(merges.right[base + i].offset, merges.right[base + i].length);
      std::string_view tail = p.right;
      // With a continuing-subword prefix ("##"), "a" + "##b" makes "ab".
      if (!continuing_subword_prefix_.empty() && tail.starts_with(continuing_subword_prefix_)) {
        tail.remove_prefix(continuing_subword_prefix_.size());
      }
      p.merged.assign(p.left).append(tail);
      const std::string_view parts[3] = {p.left, p.right, p.merged};
      for (int k = 0; k < 3; ++k) {
        p.hash[k] = TokenIndex::hash(parts[k]);
        index_.prefetch(p.hash[k]);
      }
    }
    for (size_t i = 0; i < count; ++i) {
      Pending& p = batch[i];
      const std::string_view parts[3] = {p.left, p.right, p.merged};
      for (int k = 0; k < 3; ++k) {
        const std::optional<int32_t> id = index_.find(parts[k], p.hash[k]);
        LORAX_CHECK(id.has_value(), where, ".merges[", base + i, "]: token '", parts[k],
                    "' is not in the vocabulary");
        p.id[k] = *id;
      }
      merges_.prefetch(p.id[0], p.id[1]);
    }
    for (size_t i = 0; i < count; ++i) {
      const Pending& p = batch[i];
      merges_.insert(p.id[0], p.id[1], {static_cast<uint32_t>(base + i), p.id[2]});
    }
  }
}

std::optional<std::string_view> BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= by_id_.size()) return std::nullopt;
  const StoredSpan span = by_id_[static_cast<size_t>(id)];
  if (span.length == kNoToken) return std::nullopt;
  return std::string_view(storage_).substr(span.offset, span.length);
}

int32_t BpeModel::unk_id() const {
  const std::optional<int32_t> id = index_.find(*unk_token_);
  LORAX_CHECK(id.has_value(), "BPE model: unk_token '", *unk_token_, "' is not in the vocabulary");
  return *id;
}

std::vector<BpeModel::Symbol> BpeModel::initial_symbols(std::string_view word) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&symbols](int32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(symbols.size());
    if (n > 0) symbols.back().next = n;
    symbols.push_back({id, n - 1, -1, len});
  };
  // An unknown character waits here so that neighbours can fuse into one unk.
  struct PendingUnk {
    int32_t id = -1;  // -1: none
    uint32_t len = 0;
  } unk;
  const auto flush_unk = [&] {
    if (unk.id >= 0) add(unk.id, unk.len);
    unk.id = -1;
  };
  std::string piece;
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = unicode::sequence_length(static_cast<unsigned char>(word[pos]));
    const bool first = pos == 0;
    const bool last = pos + len >= word.size();
    piece.clear();
    if (!first) piece.append(continuing_subword_prefix_);
    piece.append(word.substr(pos, len));
    if (last) piece.append(end_of_word_suffix_);
    pos += len;

    if (const std::optional<int32_t> id = index_.find(piece)) {
      flush_unk();
      add(*id, static_cast<uint32_t>(len));
      continue;
    }
    if (byte_fallback_ && std::all_of(piece.begin(), piece.end(), [&](char b) {
          return byte_tokens_[static_cast<unsigned char>(b)] >= 0;
        })) {
      // As HF: a pending unk is not flushed here, so it lands after these bytes.
      for (char b : piece) add(byte_tokens_[static_cast<unsigned char>(b)], 1);
      continue;
    }
    if (!unk_token_) continue;  // HF drops the character when there is no unk token
    if (unk.id >= 0 && fuse_unk_) {
      unk.len += static_cast<uint32_t>(len);
      continue;
    }
    flush_unk();
    unk = {unk_id(), static_cast<uint32_t>(len)};
  }
  flush_unk();
  return symbols;
}

void BpeModel::merge_all(std::vector<Symbol>& symbols) const {
  // Lowest rank first; among equal ranks the leftmost (HF's Merge ordering).
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t merged_id;
    bool operator<(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate> queue;
  const auto consider = [&](int32_t pos) {
    const Symbol& left = symbols[static_cast<size_t>(pos)];
    if (left.next < 0) return;
    if (const MergeTable::Merge* m =
            merges_.find(left.id, symbols[static_cast<size_t>(left.next)].id)) {
      queue.push({m->rank, pos, m->merged_id});
    }
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) consider(static_cast<int32_t>(i));

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.pos)];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    // Skip entries made stale by an earlier merge of either side.
    const MergeTable::Merge* m = merges_.find(left.id, right.id);
    if (m == nullptr || m->merged_id != top.merged_id) continue;

    left.id = top.merged_id;
    left.len += right.len;
    left.next = right.next;
    right.len = 0;
    if (left.next >= 0) symbols[static_cast<size_t>(left.next)].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const std::optional<int32_t> id = index_.find(word)) {
      ids.push_back(*id);
      return;
    }
  }
  std::vector<Symbol> symbols = initial_symbols(word);
  merge_all(symbols);
  for (const Symbol& s : symbols) {
    if (s.len != 0) ids.push_back(s.id);
  }
}

}  // namespace lorax
