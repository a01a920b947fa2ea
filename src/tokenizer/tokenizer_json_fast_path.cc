// The quick way through tokenizer.json: skim the file for model.vocab and model.merges, read
// those two with a parser that knows their exact shape, and hand the rest (a few kilobytes) to
// nlohmann::json. Anything unexpected makes it give up, and read_tokenizer_json then takes the
// general SAX route, which also words the errors.
#include <nlohmann/json.hpp>

#include <cstring>

#include "tokenizer/tokenizer_json_reader.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : t_(text) {}

  size_t pos() const { return pos_; }
  void skip_space() {
    while (pos_ < t_.size() && is_space(t_[pos_])) ++pos_;
  }
  bool peek(char c) {
    skip_space();
    return pos_ < t_.size() && t_[pos_] == c;
  }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++pos_;
    return true;
  }

  // The undecoded body of the string at the cursor.
  bool raw_string(std::string_view& body) {
    if (!eat('"')) return false;
    const size_t begin = pos_;
    while (true) {
      const void* hit = std::memchr(t_.data() + pos_, '"', t_.size() - pos_);
      if (hit == nullptr) return false;
      const size_t quote = static_cast<size_t>(static_cast<const char*>(hit) - t_.data());
      size_t backslashes = 0;
      while (quote - backslashes > begin && t_[quote - backslashes - 1] == '\\') ++backslashes;
      pos_ = quote + 1;
      if (backslashes % 2 == 0) {
        body = t_.substr(begin, quote - begin);
        return true;
      }
    }
  }

  // The decoded string at the cursor, appended to `out`.
  bool string(std::string& out) {
    std::string_view body;
    if (!raw_string(body)) return false;
    size_t run = 0;  // start of the plain characters not yet copied
    for (size_t i = 0; i < body.size(); ++i) {
      const char c = body[i];
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') continue;
      out.append(body.substr(run, i - run));
      if (++i >= body.size() || !escape(body, i, out)) return false;
      run = i + 1;
    }
    out.append(body.substr(run));
    return true;
  }

  bool unsigned_int(int64_t& value) {
    skip_space();
    const size_t begin = pos_;
    value = 0;
    while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9' && pos_ - begin < 10) {
      value = value * 10 + (t_[pos_++] - '0');
    }
    return pos_ > begin && pos_ < t_.size() && t_[pos_] != '.' && t_[pos_] != 'e' &&
           t_[pos_] != 'E' && (t_[pos_] < '0' || t_[pos_] > '9');
  }

  // Steps over one value of any kind (validity is nlohmann's business later).
  bool skip_value() {
    skip_space();
    int depth = 0;
    while (pos_ < t_.size()) {
      const char c = t_[pos_];
      if (c == '"') {
        std::string_view ignored;
        if (!raw_string(ignored)) return false;
        if (depth == 0) return true;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if (c == '}' || c == ']' || c == ',') {
        if (depth == 0) return true;
        if (c != ',' && --depth == 0) {
          ++pos_;
          return true;
        }
      }
      ++pos_;
    }
    return false;
  }

 private:
  // One escape sequence; `i` is at the character after the backslash.
  static bool escape(std::string_view body, size_t& i, std::string& out) {
    switch (body[i]) {
      case '"':
        out.push_back('"');
        return true;
      case '\\':
        out.push_back('\\');
        return true;
      case '/':
        out.push_back('/');
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    char32_t cp = 0;
    if (!hex4(body, i + 1, cp)) return false;
    i += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      char32_t low = 0;
      if (i + 6 >= body.size() || body[i + 1] != '\\' || body[i + 2] != 'u' ||
          !hex4(body, i + 3, low) || low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      i += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    unicode::append_utf8(out, cp);
    return true;
  }

  static bool hex4(std::string_view body, size_t at, char32_t& cp) {
    if (at + 4 > body.size()) return false;
    cp = 0;
    for (size_t k = 0; k < 4; ++k) {
      const int h = hex_value(body[at + k]);
      if (h < 0) return false;
      cp = cp * 16 + static_cast<char32_t>(h);
    }
    return true;
  }

  std::string_view t_;
  size_t pos_ = 0;
};

StoredSpan store(std::string& storage, std::string_view s) {
  const StoredSpan span{static_cast<uint32_t>(storage.size()), static_cast<uint32_t>(s.size())};
  storage.append(s);
  return span;
}

// Reading straight into reserved arrays: growing them piecemeal costs more in page faults and
// copies than the parsing itself. The reservations are upper bounds from the file size (an entry
// takes at least 6 bytes of JSON); pages never written are never touched.
bool read_vocab(Scanner& s, size_t file_size, VocabEntries& vocab) {
  vocab.storage.reserve(file_size);
  vocab.tokens.reserve(file_size / 6);
  vocab.ids.reserve(file_size / 6);
  if (!s.eat('{')) return false;
  if (s.eat('}')) return true;
  std::string token;
  do {
    token.clear();
    int64_t id = 0;
    if (!s.string(token) || !s.eat(':') || !s.unsigned_int(id) || id > INT32_MAX) return false;
    vocab.tokens.push_back(store(vocab.storage, token));
    vocab.ids.push_back(static_cast<int32_t>(id));
  } while (s.eat(','));
  return s.eat('}') && vocab.storage.size() < UINT32_MAX;
}

bool read_merge(Scanner& s, MergeEntries& merges, std::string& a, std::string& b) {
  a.clear();
  b.clear();
  std::string_view left;
  std::string_view right;
  if (s.eat('[')) {
    // ["a", "b"]
    if (!s.string(a) || !s.eat(',') || !s.string(b) || !s.eat(']')) return false;
    left = a;
    right = b;
  } else {
    // "a b"; merges.txt's "#version" header line is skipped, as HF does
    if (!s.string(a)) return false;
    if (a.rfind("#version", 0) == 0) return true;
    const size_t space = a.find(' ');
    if (space == std::string::npos || a.find(' ', space + 1) != std::string::npos) return false;
    left = std::string_view(a).substr(0, space);
    right = std::string_view(a).substr(space + 1);
  }
  merges.left.push_back(store(merges.storage, left));
  merges.right.push_back(store(merges.storage, right));
  return true;
}

bool read_merges(Scanner& s, size_t file_size, MergeEntries& merges) {
  merges.storage.reserve(file_size);
  merges.left.reserve(file_size / 6);
  merges.right.reserve(file_size / 6);
  if (!s.eat('[')) return false;
  if (s.eat(']')) return true;
  std::string a;
  std::string b;
  do {
    if (!read_merge(s, merges, a, b)) return false;
  } while (s.eat(','));
  return s.eat(']') && merges.storage.size() < UINT32_MAX;
}

// Where a value lies in the file.
struct Range {
  size_t begin = 0;
  size_t end = 0;
};

struct FastRead {
  TokenizerJson out;
  std::optional<Range> vocab;
  std::optional<Range> merges;
};

// Reads the "model" object (cursor at its '{'): vocab and merges into `read`, the rest skipped.
bool scan_model(Scanner& s, size_t file_size, FastRead& read) {
  if (!s.eat('{')) return false;
  if (s.eat('}')) return true;
  do {
    std::string_view key;
    if (!s.raw_string(key) || !s.eat(':')) return false;
    s.skip_space();
    const size_t begin = s.pos();
    if (key == "vocab" && s.peek('{') && !read.vocab) {
      if (!read_vocab(s, file_size, read.out.vocab.emplace())) return false;
      read.vocab = Range{begin, s.pos()};
    } else if (key == "merges" && s.peek('[') && !read.merges) {
      if (!read_merges(s, file_size, read.out.merges.emplace())) return false;
      read.merges = Range{begin, s.pos()};
    } else if (!s.skip_value()) {
      return false;
    }
  } while (s.eat(','));
  return s.eat('}');
}

bool scan_top_level(std::string_view text, FastRead& read) {
  Scanner s(text);
  if (!s.eat('{')) return false;
  if (s.eat('}')) return true;
  do {
    std::string_view key;
    if (!s.raw_string(key) || !s.eat(':')) return false;
    if (key == "model" && s.peek('{')) {
      if (!scan_model(s, text.size(), read)) return false;
    } else if (!s.skip_value()) {
      return false;
    }
  } while (s.eat(','));
  s.skip_space();
  return s.eat('}');
}

}  // namespace

std::optional<TokenizerJson> read_tokenizer_json_fast(std::string_view text) {
  FastRead read;
  if (!scan_top_level(text, read) || !read.vocab || !read.merges) return std::nullopt;
  TokenizerJson& out = read.out;
  if (unicode::find_invalid_utf8(out.vocab->storage) != std::string::npos ||
      unicode::find_invalid_utf8(out.merges->storage) != std::string::npos) {
    return std::nullopt;
  }
  // The rest of the file with the two big values emptied, parsed as an ordinary DOM.
  const bool vocab_first = read.vocab->begin < read.merges->begin;
  const Range& first = vocab_first ? *read.vocab : *read.merges;
  const Range& second = vocab_first ? *read.merges : *read.vocab;
  std::string rest;
  rest.append(text.substr(0, first.begin)).append(vocab_first ? "{}" : "[]");
  rest.append(text.substr(first.end, second.begin - first.end)).append(vocab_first ? "[]" : "{}");
  rest.append(text.substr(second.end));
  out.doc = nlohmann::json::parse(rest, nullptr, /*allow_exceptions=*/false);
  if (out.doc.is_discarded()) return std::nullopt;
  return std::move(out);
}

}  // namespace lorax
