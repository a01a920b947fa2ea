// The built-in demo model: deterministic, its tokenizer round-trips any bytes, its adapters
// change the output.
#include "cli/demo_model.h"

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"

namespace lorax {
namespace {

std::vector<int32_t> greedy(CausalLM& model, const std::vector<int32_t>& prompt,
                            std::shared_ptr<const LoraAdapter> adapter) {
  Engine engine(model, EngineOptions{});
  GenerationRequest r;
  r.prompt_ids = prompt;
  r.max_new_tokens = 12;
  r.adapter = std::move(adapter);
  engine.add(r);
  std::vector<int32_t> out;
  while (engine.has_work())
    for (const auto& o : engine.step())
      if (o.token) out.push_back(o.token->id);
  return out;
}

TEST(DemoModel, TokenizerRoundTripsBytesWithBos) {
  CpuBackend backend(1);
  const DemoModel demo = build_demo_model(backend);
  const std::string text = "Hello, wörld! \xF0\x9F\x98\x80 tabs\tand\nlines";
  const auto ids = demo.text.encode_prompt(text);
  ASSERT_EQ(ids.front(), 256);
  EXPECT_EQ(ids.size(), text.size() + 1);  // one token per byte, after BOS
  EXPECT_EQ(demo.text.decode(ids, true), text);
  const auto chat = demo.text.render_chat({{{"role", "user"}, {"content", "hi"}}}, true);
  EXPECT_EQ(chat, "<|begin_of_text|><|user|>\nhi\n<|assistant|>\n");
}

TEST(DemoModel, DeterministicAndAdaptersMatter) {
  CpuBackend backend(2);
  DemoModel first = build_demo_model(backend);
  DemoModel second = build_demo_model(backend);
  const auto prompt = first.text.encode_prompt("Once upon a time");
  const auto base = greedy(*first.model, prompt, nullptr);
  EXPECT_EQ(base, greedy(*second.model, prompt, nullptr));
  ASSERT_EQ(first.adapters.size(), 2u);
  const auto a = greedy(*first.model, prompt, first.adapters[0].second);
  const auto b = greedy(*first.model, prompt, first.adapters[1].second);
  EXPECT_NE(a, base);
  EXPECT_NE(b, base);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace lorax
