// What the `lorax generate` fixture tests (CPU and GPU) send: one request line per fixture case
// (greedy, prompt logprobs, 20 alternatives) and --adapter flags for every adapter a fixture
// model ships.
#pragma once

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/fixtures.h"

namespace lorax::testing {

inline std::string request_line(const FixtureCase& c, int index) {
  const nlohmann::json r = {{"id", index},
                            {"adapter", c.adapter ? nlohmann::json(*c.adapter) : nullptr},
                            {"prompt_ids", c.input_ids},
                            {"max_new_tokens", std::max<size_t>(c.greedy.size(), 1)},
                            {"temperature", 0},
                            {"top_logprobs", 20},
                            {"prompt_logprobs", true}};
  return r.dump() + "\n";
}

inline std::string adapter_flags(const std::string& model) {
  std::string flags;
  const std::string root = model_dir(model) + "/adapters";
  if (!std::filesystem::exists(root)) return flags;
  for (const auto& entry : std::filesystem::directory_iterator(root))
    flags += " --adapter " + entry.path().filename().string() + "=" + entry.path().string();
  return flags;
}

}  // namespace lorax::testing
