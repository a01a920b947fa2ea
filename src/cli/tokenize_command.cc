#include "cli/tokenize_command.h"

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace lorax {

namespace {

using nlohmann::json;

json answer(const TextProcessor& text, const json& line) {
  LORAX_CHECK(line.is_object(), "a request must be a JSON object");
  if (line.contains("text")) {
    LORAX_CHECK(line["text"].is_string(), "field \"text\" must be a string");
    const bool add = line.value("add_special_tokens", true);
    return {{"ids", text.tokenizer().encode(line["text"].get<std::string>(), add)}};
  }
  LORAX_CHECK(line.contains("ids") && line["ids"].is_array(),
              "give \"text\" to encode or \"ids\" to decode");
  std::vector<int32_t> ids;
  for (const auto& id : line["ids"]) {
    LORAX_CHECK(id.is_number_integer() && id.get<int64_t>() >= 0 &&
                    id.get<int64_t>() < int64_t(text.tokenizer().vocab_size()),
                "token id ", id.dump(), " is outside the vocabulary");
    ids.push_back(id.get<int32_t>());
  }
  return {{"text", text.decode(ids, line.value("skip_special_tokens", false))}};
}

}  // namespace

int run_tokenize(const TextProcessor& text, std::istream& requests, std::ostream& results) {
  int status = 0;
  std::string raw;
  while (std::getline(requests, raw)) {
    if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;
    json out;
    try {
      out = answer(text, json::parse(raw));
    } catch (const json::exception& e) {
      out = {{"error", std::string("malformed request: ") + e.what()}};
      status = 2;
    } catch (const Error& e) {
      out = {{"error", e.what()}};
      status = 2;
    }
    results << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  results.flush();
  return status;
}

int run_tokenize(const std::string& model_dir, const std::string& requests_path) {
  const auto text = TextProcessor::from_model_dir(model_dir);
  LORAX_CHECK(text.has_value(), model_dir, ": no tokenizer.json");
  if (requests_path == "-") return run_tokenize(*text, std::cin, std::cout);
  std::ifstream file(requests_path);
  LORAX_CHECK(file.good(), "cannot open requests file ", requests_path);
  return run_tokenize(*text, file, std::cout);
}

}  // namespace lorax
