// `lorax bench --maskbench FILE --maskbench-tokenizer tokenizer.json`: MaskBench
// (JSONSchemaBench's mask benchmark) on this server's constraint engine, single-threaded.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/bench_command.h"
#include "core/error.h"
#include "structured/constraint.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace st = structured;

double micros_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Every line of a file, gzip or plain (zlib reads both).
std::vector<std::string> read_lines(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  LORAX_CHECK(f != nullptr, "maskbench: cannot open ", path);
  std::vector<std::string> lines;
  std::string line;
  char buf[1 << 16];
  while (gzgets(f, buf, sizeof buf) != nullptr) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty()) lines.push_back(std::move(line));
      line.clear();
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  gzclose(f);
  return lines;
}

// The keyword an error names: `schema keyword "not" ...` -> not, `format "x" ...` -> format,
// `regex /../: ...` -> pattern, `oneOf: ...` -> oneOf.
std::string error_keyword(const std::string& message) {
  const std::string kKeyword = "schema keyword \"";
  if (message.rfind(kKeyword, 0) == 0) {
    return message.substr(kKeyword.size(), message.find('"', kKeyword.size()) - kKeyword.size());
  }
  if (message.rfind("regex", 0) == 0) return "pattern";
  if (message.rfind("pattern/format", 0) == 0) return "pattern";
  size_t end = message.find_first_of(" :\"");
  return message.substr(0, end);
}

struct SchemaResult {
  json line;
  bool passed = false;
  std::string keyword;  // of a compile error
  double ttfm_us = 0;
};

// Walks one instance through the masks; true when every token is allowed and the end accepts.
bool walk_instance(const std::shared_ptr<st::Constraint>& c, const std::vector<int32_t>& ids,
                   std::vector<uint32_t>& bits, std::vector<double>& mask_us) {
  st::ConstraintState state(c);
  for (int32_t id : ids) {
    auto t = Clock::now();
    state.fill_mask(bits.data());
    mask_us.push_back(micros_since(t));
    if (!(bits[static_cast<size_t>(id) >> 5] >> (id & 31) & 1u)) return false;
    if (!state.commit(id)) return false;
  }
  return state.is_accepting();
}

SchemaResult run_schema(const json& entry, const Tokenizer& tokenizer,
                        const std::shared_ptr<const st::TokenTrie>& trie,
                        std::vector<double>& all_masks, std::vector<double>& all_ttfm) {
  SchemaResult r;
  r.line = {{"name", entry.value("name", "")}, {"compiled", false}, {"error", nullptr}};
  int valid_ok = 0, valid_total = 0, invalid_ok = 0, invalid_total = 0;
  std::vector<double> masks;
  std::vector<uint32_t> bits(trie->mask_words());
  st::ConstraintOptions options;
  options.compile_seconds = 10.0;
  auto start = Clock::now();
  std::shared_ptr<st::Constraint> c;
  try {
    c = st::Constraint::from_json_schema(entry.at("schema"), trie, options);
    st::ConstraintState first(c);
    first.fill_mask(bits.data());
    r.ttfm_us = micros_since(start);
    all_ttfm.push_back(r.ttfm_us);
    r.line["compiled"] = true;
  } catch (const std::exception& e) {
    r.line["error"] = e.what();
    r.keyword = error_keyword(e.what());
  }
  for (const json& test : entry.value("tests", json::array())) {
    bool valid = test.value("valid", false);
    (valid ? valid_total : invalid_total)++;
    if (!c) continue;
    std::string text = test["data"].dump(-1, ' ', false, json::error_handler_t::replace);
    bool accepted = false;
    try {
      accepted = walk_instance(c, tokenizer.encode(text, false), bits, masks);
    } catch (const std::exception& e) {
      if (r.line["error"].is_null()) r.line["error"] = e.what();
    }
    if (valid && accepted) ++valid_ok;
    if (!valid && !accepted) ++invalid_ok;
  }
  all_masks.insert(all_masks.end(), masks.begin(), masks.end());
  r.passed = c && valid_ok == valid_total && invalid_ok == invalid_total;
  r.line["valid_ok"] = valid_ok;
  r.line["valid_total"] = valid_total;
  r.line["invalid_ok"] = invalid_ok;
  r.line["invalid_total"] = invalid_total;
  r.line["ttfm_us"] = c ? json(r.ttfm_us) : json(nullptr);
  r.line["mask_us_p50"] = percentile(masks, 0.5);
  r.line["mask_us_p99"] = percentile(masks, 0.99);
  return r;
}

}  // namespace

int run_maskbench(const MaskBenchOptions& options) {
  Tokenizer tokenizer = Tokenizer::from_file(options.tokenizer_path);
  auto t = Clock::now();
  auto trie = st::TokenTrie::from_tokenizer(tokenizer);
  std::fprintf(stderr, "token trie: %zu tokens, %zu nodes, %.1f ms\n", trie->vocab_size(),
               trie->nodes().size(), micros_since(t) / 1000);
  std::vector<double> all_masks, all_ttfm;
  std::map<std::string, int> errors;
  int total = 0, passed = 0, compiled = 0;
  for (const std::string& line : read_lines(options.path)) {
    json entry = json::parse(line);
    SchemaResult r = run_schema(entry, tokenizer, trie, all_masks, all_ttfm);
    std::printf("%s\n", r.line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    std::fflush(stdout);
    ++total;
    passed += r.passed;
    compiled += r.line["compiled"].get<bool>();
    if (!r.keyword.empty()) ++errors[r.keyword];
  }
  json summary = {{"schemas", total},
                  {"passing", passed},
                  {"passing_percent", total ? 100.0 * passed / total : 0.0},
                  {"compiled", compiled},
                  {"compile_errors_by_keyword", errors},
                  {"ttfm_us_p50", percentile(all_ttfm, 0.5)},
                  {"ttfm_us_p99", percentile(all_ttfm, 0.99)},
                  {"mask_us_p50", percentile(all_masks, 0.5)},
                  {"mask_us_p99", percentile(all_masks, 0.99)},
                  {"masks", all_masks.size()},
                  {"threads", 1}};
  std::printf("%s\n", json{{"summary", summary}}.dump().c_str());
  return 0;
}

}  // namespace lorax
