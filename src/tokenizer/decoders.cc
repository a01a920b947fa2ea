#include "tokenizer/decoders.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalized_text.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

using nlohmann::json;
namespace jf = json_fields;

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<const Decoder>> steps)
      : steps_(std::move(steps)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& step : steps_) tokens = step->decode_chain(std::move(tokens));
    return tokens;
  }
  bool joins_byte_tokens() const override {
    return std::any_of(steps_.begin(), steps_.end(),
                       [](const auto& step) { return step->joins_byte_tokens(); });
  }

 private:
  std::vector<std::unique_ptr<const Decoder>> steps_;
};

// Byte-level alphabet back to bytes. A token with a character outside the alphabet (an added
// token such as "<|eot_id|>" with a space) is taken as its own UTF-8 bytes; the whole byte
// string is then read as UTF-8, bad sequences becoming U+FFFD.
class ByteLevelDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) append_token_bytes(token, bytes);
    return {unicode::from_utf8_lossy(bytes)};
  }

 private:
  static void append_token_bytes(const std::string& token, std::string& bytes) {
    const size_t start = bytes.size();
    for (size_t pos = 0; pos < token.size();) {
      const int b = byte_level::byte_for_char(unicode::decode_at(token, pos));
      if (b < 0) {
        bytes.resize(start);
        bytes.append(token);
        return;
      }
      bytes.push_back(static_cast<char>(b));
      pos += unicode::sequence_length(static_cast<unsigned char>(token[pos]));
    }
  }
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(TextPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) {
      std::string out;
      for (const MatchSpan& s : pattern_.find_matches(token)) {
        if (s.is_match) {
          out.append(content_);
        } else {
          out.append(token, s.begin, s.end - s.begin);
        }
      }
      token = std::move(out);
    }
    return tokens;
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

// "<0xNN>" tokens become bytes; each run of them is one string if it is valid UTF-8, otherwise
// one U+FFFD per byte.
class ByteFallbackDecoder final : public Decoder {
 public:
  bool joins_byte_tokens() const override { return true; }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    for (std::string& token : tokens) {
      if (const int b = byte_token_value(token); b >= 0) {
        run.push_back(static_cast<char>(b));
        continue;
      }
      flush(run, out);
      out.push_back(std::move(token));
    }
    flush(run, out);
    return out;
  }

 private:
  static void flush(std::string& run, std::vector<std::string>& out) {
    if (run.empty()) return;
    if (unicode::find_invalid_utf8(run) == std::string::npos) {
      out.push_back(run);
    } else {
      for (size_t i = 0; i < run.size(); ++i)
        out.push_back(unicode::to_utf8(unicode::kReplacementChar));
    }
    run.clear();
  }
};

class FuseDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all.append(t);
    return {std::move(all)};
  }
};

// Removes up to `start` leading and `stop` trailing `content` characters from each token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop)
      : content_(content), start_(start), stop_(stop) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) token = strip(token);
    return tokens;
  }

 private:
  std::string strip(const std::string& token) const {
    std::vector<size_t> starts;  // byte offset of each character
    for (size_t pos = 0; pos < token.size();
         pos += unicode::sequence_length(static_cast<unsigned char>(token[pos]))) {
      starts.push_back(pos);
    }
    size_t first = 0;
    while (first < starts.size() && first < start_ &&
           unicode::decode_at(token, starts[first]) == content_) {
      ++first;
    }
    size_t last = starts.size();  // one past the last kept character
    for (size_t n = 0; n < stop_ && last > first; ++n) {
      if (unicode::decode_at(token, starts[last - 1]) != content_) break;
      --last;
    }
    const size_t begin = first < starts.size() ? starts[first] : token.size();
    const size_t end = last < starts.size() ? starts[last] : token.size();
    return begin < end ? token.substr(begin, end - begin) : std::string();
  }

  char32_t content_;
  size_t start_;
  size_t stop_;
};

// '▁' back to spaces; the first token loses its markers unless prepend_scheme is "never".
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, bool strip_first)
      : replacement_(replacement), strip_first_(strip_first) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& token = tokens[i];
      std::string out;
      for (size_t pos = 0; pos < token.size();) {
        const size_t len = unicode::sequence_length(static_cast<unsigned char>(token[pos]));
        if (unicode::decode_at(token, pos) != replacement_) {
          out.append(token, pos, len);
        } else if (i != 0 || !strip_first_) {
          out.push_back(' ');
        }
        pos += len;
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  char32_t replacement_;
  bool strip_first_;
};

char32_t one_char(const std::string& s, std::string_view field, const std::string& where) {
  const bool ok = !s.empty() && unicode::find_invalid_utf8(s) == std::string::npos &&
                  unicode::sequence_length(static_cast<unsigned char>(s[0])) == s.size();
  LORAX_CHECK(ok, where, ": field '", field, "' must be a single character");
  return unicode::decode_at(s, 0);
}

size_t count_field(const json& j, std::string_view key, const std::string& where) {
  const int64_t n = jf::require_int(j, key, where);
  LORAX_CHECK(n >= 0, where, ": field '", key, "' must not be negative");
  return static_cast<size_t>(n);
}

std::unique_ptr<const Decoder> metaspace_from_json(const json& j, const std::string& where) {
  const char32_t replacement =
      one_char(jf::require_string(j, "replacement", where), "replacement", where);
  bool strip_first = jf::optional_bool(j, "add_prefix_space", true, where);
  if (const auto scheme = jf::optional_string(j, "prepend_scheme", where)) {
    LORAX_CHECK(*scheme == "always" || *scheme == "first" || *scheme == "never", where,
                ": unknown prepend_scheme '", *scheme, "'");
    strip_first = *scheme != "never";
  }
  return std::make_unique<MetaspaceDecoder>(replacement, strip_first);
}

std::unique_ptr<const Decoder> sequence_from_json(const json& j, const std::string& where) {
  const json& list = jf::require(j, "decoders", where);
  LORAX_CHECK(list.is_array(), where, ": field 'decoders' must be an array");
  std::vector<std::unique_ptr<const Decoder>> steps;
  for (size_t i = 0; i < list.size(); ++i) {
    auto step = decoder_from_json(list[i], jf::index_path(jf::field_path(where, "decoders"), i));
    if (step) steps.push_back(std::move(step));
  }
  return std::make_unique<SequenceDecoder>(std::move(steps));
}

}  // namespace

// Rust's u8::from_str_radix(&token[3..5], 16) on "<0x..>" tokens, which also takes "+N".
int byte_token_value(std::string_view token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  const auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int lo = hex(token[4]);
  if (lo < 0) return -1;
  if (token[3] == '+') return lo;
  const int hi = hex(token[3]);
  return hi < 0 ? -1 : hi * 16 + lo;
}

std::unique_ptr<const Decoder> decoder_from_json(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  const std::string type = jf::type_of(j, where);
  if (type == "Sequence") return sequence_from_json(j, where);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(
        TextPattern::from_json(jf::require(j, "pattern", where), jf::field_path(where, "pattern")),
        jf::require_string(j, "content", where));
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(
        one_char(jf::require_string(j, "content", where), "content", where),
        count_field(j, "start", where), count_field(j, "stop", where));
  }
  if (type == "Metaspace") return metaspace_from_json(j, where);
  fail(where, ": unknown decoder type '", type, "'");
}

std::string decode_tokens(const Decoder* decoder, std::vector<std::string> tokens) {
  std::string text;
  if (decoder == nullptr) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) text.push_back(' ');
      text.append(tokens[i]);
    }
    return text;
  }
  for (const std::string& piece : decoder->decode_chain(std::move(tokens))) text.append(piece);
  return text;
}

}  // namespace lorax
