// Chat templates: parsing and rendering. The first byte picks what the rest is:
//  0: a template's source, rendered with a short conversation under tight render limits;
//  1: a conversation (JSON), rendered with the fixtures' real templates (read in place): the
//     Llama 3.1 and Gemma 2 .jinja files and the chat_template of the gemma and llama3
//     tokenizer_config.json.
// Only lorax::Error may come out (syntax, runtime and raise_exception errors all are one).
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fuzz_input.h"
#include "tokenizer/jinja/chat_template.h"

namespace {

using nlohmann::ordered_json;

std::string read_fixture(const std::string& relative) {
  std::ifstream in(std::string(LORAX_FIXTURES_DIR) + "/" + relative, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<lorax::jinja::ChatTemplate> real_templates() {
  const ordered_json special = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
  std::vector<lorax::jinja::ChatTemplate> out;
  for (const char* file : {"tokenizers/meta-llama-Llama-3.1-8B-Instruct.jinja",
                           "tokenizers/google-gemma-2-2b-it.jinja"})
    out.emplace_back(read_fixture(file), special);
  for (const char* config :
       {"tokenizers/gemma/tokenizer_config.json", "tokenizers/llama3/tokenizer_config.json"})
    out.push_back(lorax::jinja::ChatTemplate::from_tokenizer_config(
        ordered_json::parse(read_fixture(config))));
  return out;
}

const ordered_json& default_context() {
  static const ordered_json context = {{"messages",
                                        {{{"role", "system"}, {"content", "Be brief."}},
                                         {{"role", "user"}, {"content", "Hi <b>there</b>"}},
                                         {{"role", "assistant"}, {"content", "Hello."}},
                                         {{"role", "user"}, {"content", "2+2?"}}}},
                                       {"add_generation_prompt", true},
                                       {"bos_token", "<s>"},
                                       {"eos_token", "</s>"}};
  return context;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<lorax::jinja::ChatTemplate> templates = real_templates();
  const auto [mode, payload] = lorax::fuzz::select_mode(data, size, 2);
  if (mode == 0) {
    lorax::jinja::RenderLimits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_loop_iterations = 100'000;
    try {
      lorax::jinja::Template(payload).render(default_context(), limits);
    } catch (const lorax::Error&) {
    }
    return 0;
  }
  // Nested no deeper than the server's request bodies may be (server/json_body.h).
  bool too_deep = false;
  const auto depth_guard = [&](int depth, ordered_json::parse_event_t, ordered_json&) {
    too_deep = too_deep || depth > 64;
    return !too_deep;
  };
  const auto messages = ordered_json::parse(payload, depth_guard, /*allow_exceptions=*/false);
  if (messages.is_discarded() || too_deep) return 0;
  for (const auto& chat_template : templates) {
    try {
      chat_template.apply(messages, true);
    } catch (const lorax::Error&) {
    }
  }
  return 0;
}
