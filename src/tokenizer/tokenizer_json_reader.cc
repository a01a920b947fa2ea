#include "tokenizer/tokenizer_json_reader.h"

#include <limits>

#include "core/error.h"

namespace lorax {
namespace {

using nlohmann::json;

StoredSpan store(std::string& storage, std::string_view s) {
  LORAX_CHECK(storage.size() + s.size() <= std::numeric_limits<uint32_t>::max(),
              "tokenizer.json: vocabulary larger than 4 GiB");
  const StoredSpan span{static_cast<uint32_t>(storage.size()), static_cast<uint32_t>(s.size())};
  storage.append(s);
  return span;
}

// SAX events to a DOM, except the two big arrays under "model", which go to flat storage.
class Reader final : public nlohmann::json_sax<json> {
 public:
  explicit Reader(TokenizerJson& out) : out_(out) {}

  const std::string& error() const { return error_; }

  bool null() override { return scalar(nullptr, "null"); }
  bool boolean(bool v) override { return scalar(v, "a boolean"); }
  bool number_integer(number_integer_t v) override { return number(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return number(v > static_cast<number_unsigned_t>(std::numeric_limits<int64_t>::max())
                      ? -1
                      : static_cast<int64_t>(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return scalar(v, "a number"); }
  bool binary(binary_t&) override { return fail_with("unexpected binary value"); }

  bool string(string_t& s) override {
    if (mode_ == Mode::kMerges) return merge_string(s);
    return scalar(std::move(s), "a string");
  }

  bool key(string_t& k) override {
    if (mode_ == Mode::kVocab) {
      vocab_token_ = std::move(k);
    } else {
      pending_key_ = std::move(k);
    }
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::kDom && at_model_field("vocab")) {
      mode_ = Mode::kVocab;
      out_.vocab.emplace();
      return true;
    }
    if (mode_ != Mode::kDom) return fail_with(where() + ": unexpected object");
    push(json::object());
    return true;
  }

  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }

  bool start_array(std::size_t) override {
    if (mode_ == Mode::kDom && at_model_field("merges")) {
      mode_ = Mode::kMerges;
      out_.merges.emplace();
      return true;
    }
    if (mode_ == Mode::kMerges && !in_pair_) {
      in_pair_ = true;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kDom) return fail_with(where() + ": unexpected array");
    push(json::array());
    return true;
  }

  bool end_array() override {
    if (mode_ == Mode::kMerges) return in_pair_ ? end_pair() : (mode_ = Mode::kDom, true);
    stack_.pop_back();
    keys_.pop_back();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail_with(std::string("invalid JSON: ") + e.what());
  }

 private:
  enum class Mode { kDom, kVocab, kMerges };

  // The value at the current position is root["model"][field].
  bool at_model_field(std::string_view field) const {
    return stack_.size() == 2 && keys_[1] == "model" && stack_[1]->is_object() &&
           pending_key_ == field;
  }

  bool fail_with(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  std::string where() const {
    if (mode_ == Mode::kVocab) return "model.vocab";
    if (mode_ == Mode::kMerges) return "model.merges[" + std::to_string(merge_count()) + "]";
    return "tokenizer.json";
  }

  size_t merge_count() const { return out_.merges ? out_.merges->left.size() : 0; }

  json* add(json value) {
    if (stack_.empty()) {
      out_.doc = std::move(value);
      return &out_.doc;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(value));
      return &top.back();
    }
    json& slot = top[pending_key_];
    slot = std::move(value);
    return &slot;
  }

  // A container's pointer stays valid while it is on top: its parent grows only after it closes.
  void push(json container) {
    const bool in_object = !stack_.empty() && stack_.back()->is_object();
    std::string key = in_object ? pending_key_ : std::string();
    stack_.push_back(add(std::move(container)));
    keys_.push_back(std::move(key));
  }

  bool scalar(json value, std::string_view kind) {
    if (mode_ == Mode::kVocab) {
      return fail_with("model.vocab: the id of token '" + vocab_token_ + "' is " +
                       std::string(kind) + ", expected an integer");
    }
    if (mode_ == Mode::kMerges) {
      return fail_with(where() + ": expected \"a b\" or [\"a\", \"b\"], found " +
                       std::string(kind));
    }
    add(std::move(value));
    return true;
  }

  bool number(int64_t v) {
    if (mode_ != Mode::kVocab) return scalar(v, "a number");
    if (v < 0 || v > std::numeric_limits<int32_t>::max()) {
      return fail_with("model.vocab: token '" + vocab_token_ + "' has id " + std::to_string(v) +
                       " outside [0, 2^31)");
    }
    VocabEntries& vocab = *out_.vocab;
    vocab.tokens.push_back(store(vocab.storage, vocab_token_));
    vocab.ids.push_back(static_cast<int32_t>(v));
    return true;
  }

  bool merge_string(const std::string& s) {
    if (in_pair_) {
      if (pair_.size() == 2) return fail_with(where() + ": a merge pair has more than 2 tokens");
      pair_.push_back(s);
      return true;
    }
    if (s.rfind("#version", 0) == 0) return true;  // header line of merges.txt, as HF skips it
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
      return fail_with(where() + ": merge '" + s + "' is not two tokens separated by one space");
    }
    add_merge(std::string_view(s).substr(0, space), std::string_view(s).substr(space + 1));
    return true;
  }

  bool end_pair() {
    in_pair_ = false;
    if (pair_.size() != 2) return fail_with(where() + ": a merge pair must have exactly 2 tokens");
    add_merge(pair_[0], pair_[1]);
    return true;
  }

  void add_merge(std::string_view a, std::string_view b) {
    MergeEntries& m = *out_.merges;
    m.left.push_back(store(m.storage, a));
    m.right.push_back(store(m.storage, b));
  }

  TokenizerJson& out_;
  std::vector<json*> stack_;
  std::vector<std::string> keys_;  // [stack_.size()] key under which each container sits
  std::string pending_key_;
  Mode mode_ = Mode::kDom;
  std::string vocab_token_;
  bool in_pair_ = false;
  std::vector<std::string> pair_;
  std::string error_;
};

}  // namespace

TokenizerJson read_tokenizer_json(std::string_view text, const std::string& source) {
  if (std::optional<TokenizerJson> quick = read_tokenizer_json_fast(text)) return std::move(*quick);
  TokenizerJson out;
  Reader reader(out);
  const bool ok = json::sax_parse(text.begin(), text.end(), &reader);
  if (!ok) {
    fail(source, ": ", reader.error().empty() ? std::string("invalid JSON") : reader.error());
  }
  return out;
}

}  // namespace lorax
