#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>

#include "core/error.h"
#include "tokenizer/unicode.h"

namespace lorax {
namespace {

// Oniguruma's Unicode \s is the White_Space property, which has U+0085 (NEL); PCRE2's UCP \s is
// the Z categories plus \t\n\v\f\r and lacks it. Oniguruma's \w is letters, marks, decimal
// digits, connector punctuation (UTS #18); PCRE2's is letters, all numbers and '_'.
constexpr std::string_view kSpaceClassBody = R"(\s\x{85})";
constexpr std::string_view kWordClassBody = R"(\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D})";

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Replaces one class escape (`\s`, `\S`, `\w`, `\W`) inside or outside a bracket class; returns
// false when the escape is left as written.
bool append_class_escape(std::string& out, char letter, bool in_class) {
  const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(letter)));
  if (lower != 's' && lower != 'w') return false;
  const std::string_view body = lower == 's' ? kSpaceClassBody : kWordClassBody;
  const bool negated = letter != lower;
  if (in_class) {
    if (negated) return false;  // a negated set inside a class has no simple rewrite
    out.append(body);
    return true;
  }
  out.append(negated ? "[^" : "[");
  out.append(body);
  out.push_back(']');
  return true;
}

}  // namespace

std::string translate_pattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 16);
  int class_depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (!append_class_escape(out, pattern[i + 1], class_depth > 0)) {
        out.push_back(c);
        out.push_back(pattern[i + 1]);
      }
      ++i;
      continue;
    }
    out.push_back(c);
    if (c == '[') {
      // A ']' right after '[' or '[^' is a literal member, not the end of the class.
      ++class_depth;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out.push_back(pattern[++i]);
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out.push_back(pattern[++i]);
    } else if (c == ']' && class_depth > 0) {
      --class_depth;
    }
  }
  return out;
}

std::string escape_regex(std::string_view literal) {
  std::string out;
  out.reserve(literal.size() * 2);
  for (char c : literal) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && std::ispunct(u)) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

struct Regex::Compiled {
  struct CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
  };
  std::unique_ptr<pcre2_code, CodeDeleter> code;
};

namespace {

struct MatchDataDeleter {
  void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* ctx) const { pcre2_match_context_free(ctx); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* stack) const { pcre2_jit_stack_free(stack); }
};

// One search over `text` from `start`. The JIT's default 32 KiB stack is enough for ordinary
// text; long runs of one class can exhaust it, so a larger stack is made on demand (per call:
// the compiled pattern is shared between threads, stacks are not).
class Matcher {
 public:
  explicit Matcher(const pcre2_code* code)
      : code_(code), md_(pcre2_match_data_create_from_pattern(code, nullptr)) {
    LORAX_CHECK(md_ != nullptr, "regex: out of memory for match data");
  }

  // Returns false when there is no match at or after `start`.
  bool search(std::string_view text, size_t start, ByteSpan& found) {
    int rc = run(text, start);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !ctx_) {
      grow_stack();
      rc = run(text, start);
    }
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    LORAX_CHECK(rc >= 0, "regex: matching failed: ", pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md_.get());
    found = {ovector[0], ovector[1]};
    return true;
  }

 private:
  int run(std::string_view text, size_t start) {
    // The text was checked as UTF-8 once on entry to encode; re-checking here per call would make
    // iterating over matches quadratic.
    return pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                       PCRE2_NO_UTF_CHECK, md_.get(), ctx_.get());
  }

  void grow_stack() {
    ctx_.reset(pcre2_match_context_create(nullptr));
    stack_.reset(pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr));
    LORAX_CHECK(ctx_ && stack_, "regex: out of memory for the JIT stack");
    pcre2_jit_stack_assign(ctx_.get(), nullptr, stack_.get());
  }

  const pcre2_code* code_;
  std::unique_ptr<pcre2_match_data, MatchDataDeleter> md_;
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> ctx_;
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> stack_;
};

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view where)
    : pattern_(pattern), compiled_(std::make_unique<Compiled>()) {
  const std::string translated = translate_pattern(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  // Ruby syntax, which Oniguruma uses, makes ^ and $ line anchors.
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), options, &error, &offset, nullptr);
  if (code == nullptr) {
    fail(where, ": invalid regex '", pattern_, "' at offset ", offset, ": ", pcre2_message(error));
  }
  compiled_->code.reset(code);
  // JIT is an optimisation only: where it is unavailable the interpreter runs the same pattern.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<ByteSpan> Regex::find_all(std::string_view text) const {
  std::vector<ByteSpan> matches;
  Matcher matcher(compiled_->code.get());
  size_t search_from = 0;
  bool have_last_end = false;
  size_t last_end = 0;
  while (search_from <= text.size()) {
    ByteSpan m;
    if (!matcher.search(text, search_from, m)) break;
    if (m.begin == m.end && have_last_end && last_end == m.end) {
      // Step over one character and look again.
      search_from += search_from < text.size()
                         ? unicode::sequence_length(static_cast<unsigned char>(text[search_from]))
                         : 1;
      continue;
    }
    matches.push_back(m);
    search_from = m.end;
    last_end = m.end;
    have_last_end = true;
  }
  return matches;
}

}  // namespace lorax
