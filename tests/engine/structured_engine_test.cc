// Structured output in the engine: constrained sequences (greedy and sampled) on the stories260K
// fixture produce valid instances of their schema or regex, end with EOS exactly when their
// constraint accepts, and leave unconstrained neighbours in the same batch untouched.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "structured/constraint.h"
#include "support/fixtures.h"
#include "tokenizer/tokenizer.h"

namespace lorax {
namespace {

struct GeneratedRun {
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
  FinishReason finish = FinishReason::None;
};

std::map<uint64_t, GeneratedRun> run_all(Engine& engine) {
  std::map<uint64_t, GeneratedRun> runs;
  int guard = 0;
  while (engine.has_work() && ++guard < 100000)
    for (const auto& o : engine.step()) {
      GeneratedRun& r = runs[o.request_id];
      if (o.token) {
        r.ids.push_back(o.token->id);
        r.logprobs.push_back(o.token->logprob);
      }
      if (o.finish != FinishReason::None) r.finish = o.finish;
    }
  return runs;
}

constexpr int32_t kEos = 2;  // stories260K's eos_token_id

const char* kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 8},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "happy": {"type": "boolean"}
  },
  "required": ["name", "age", "happy"],
  "additionalProperties": false
})";

class StructuredEngineTest : public ::testing::Test {
 protected:
  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model = CausalLM::load(testing::model_dir("stories260K"), backend);
  Tokenizer tokenizer = Tokenizer::from_file(testing::model_dir("stories260K") + "/tokenizer.json");
  std::shared_ptr<const structured::TokenTrie> trie =
      structured::TokenTrie::from_tokenizer(tokenizer);

  std::shared_ptr<structured::Constraint> schema(const char* text) {
    return structured::Constraint::from_json_schema(nlohmann::json::parse(text), trie);
  }

  GenerationRequest request(std::shared_ptr<structured::Constraint> constraint, float temperature,
                            uint64_t seed, int64_t max_new = 120) {
    GenerationRequest r;
    r.prompt_ids = testing::base_cases("stories260K").front().input_ids;
    r.max_new_tokens = max_new;
    r.sampling.temperature = temperature;
    r.sampling.seed = seed;
    r.constraint = std::move(constraint);
    return r;
  }

  // The generated text, the final EOS left out.
  std::string text_of(const GeneratedRun& run) {
    std::vector<int32_t> ids = run.ids;
    if (!ids.empty() && ids.back() == kEos) ids.pop_back();
    return tokenizer.decode(ids, /*skip_special_tokens=*/false);
  }

  // Replays the tokens: each one allowed, and the constraint accepts only where EOS came.
  void expect_ends_exactly_when_accepting(const std::shared_ptr<structured::Constraint>& c,
                                          const GeneratedRun& run) {
    ASSERT_EQ(run.finish, FinishReason::Eos);
    ASSERT_FALSE(run.ids.empty());
    EXPECT_EQ(run.ids.back(), kEos);
    structured::ConstraintState state(c);
    for (size_t i = 0; i + 1 < run.ids.size(); ++i) {
      EXPECT_NE(run.ids[i], kEos);
      ASSERT_TRUE(state.commit(run.ids[i])) << "token " << i << " is not allowed";
    }
    EXPECT_TRUE(state.is_accepting());
  }
};

void expect_person(const std::string& text) {
  const nlohmann::json value = nlohmann::json::parse(text);  // throws: not JSON
  ASSERT_TRUE(value.is_object()) << text;
  EXPECT_EQ(value.size(), 3u) << text;
  ASSERT_TRUE(value.contains("name") && value["name"].is_string()) << text;
  const size_t name_length = value["name"].get<std::string>().size();
  EXPECT_GE(name_length, 1u) << text;
  EXPECT_LE(name_length, 8u) << text;  // ASCII here: bytes are characters
  ASSERT_TRUE(value.contains("age") && value["age"].is_number_integer()) << text;
  EXPECT_GE(value["age"].get<int64_t>(), 0) << text;
  EXPECT_LE(value["age"].get<int64_t>(), 120) << text;
  ASSERT_TRUE(value.contains("happy") && value["happy"].is_boolean()) << text;
}

TEST_F(StructuredEngineTest, GreedyAndSampledOutputsAreInstancesOfTheSchema) {
  const auto person = schema(kPersonSchema);
  Engine engine(*model, EngineOptions{});
  std::vector<uint64_t> ids = {engine.add(request(person, 0.0f, 0))};
  for (uint64_t seed : {1, 2, 3}) ids.push_back(engine.add(request(person, 1.0f, seed)));
  auto runs = run_all(engine);
  for (uint64_t id : ids) {
    const GeneratedRun& run = runs[id];
    SCOPED_TRACE(text_of(run));
    expect_ends_exactly_when_accepting(person, run);
    expect_person(text_of(run));
    for (float lp : run.logprobs) EXPECT_TRUE(std::isfinite(lp));  // the masked distribution
  }
}

TEST_F(StructuredEngineTest, RegexOutputsMatchInFull) {
  const auto code = structured::Constraint::from_regex("[a-z]{2,6}-[0-9]{2}", trie);
  Engine engine(*model, EngineOptions{});
  std::vector<uint64_t> ids = {engine.add(request(code, 0.0f, 0)),
                               engine.add(request(code, 0.8f, 9))};
  auto runs = run_all(engine);
  for (uint64_t id : ids) {
    SCOPED_TRACE(text_of(runs[id]));
    expect_ends_exactly_when_accepting(code, runs[id]);
    EXPECT_TRUE(std::regex_match(text_of(runs[id]), std::regex("[a-z]{2,6}-[0-9]{2}")));
  }
}

TEST_F(StructuredEngineTest, IgnoreEosStillEndsWhenNothingElseMayFollow) {
  const auto answer = schema(R"({"enum": ["yes", "no"]})");
  GenerationRequest r = request(answer, 0.0f, 0, 50);
  r.ignore_eos = true;
  Engine engine(*model, EngineOptions{});
  const uint64_t id = engine.add(std::move(r));
  auto runs = run_all(engine);
  expect_ends_exactly_when_accepting(answer, runs[id]);
  const std::string text = text_of(runs[id]);
  EXPECT_TRUE(text == "\"yes\"" || text == "\"no\"") << text;
}

TEST_F(StructuredEngineTest, UnconstrainedNeighboursGetWhatTheyGetAlone) {
  const auto person = schema(kPersonSchema);
  std::vector<GenerationRequest> plain;
  for (uint64_t seed : {0, 5}) {
    GenerationRequest r = request(nullptr, seed == 0 ? 0.0f : 0.9f, seed, 40);
    r.ignore_eos = true;
    plain.push_back(r);
  }
  std::vector<GeneratedRun> alone;
  for (const auto& r : plain) {
    Engine engine(*model, EngineOptions{});
    engine.add(r);
    alone.push_back(run_all(engine).begin()->second);
  }
  Engine engine(*model, EngineOptions{});
  std::vector<uint64_t> ids;
  for (size_t i = 0; i < plain.size(); ++i) {
    engine.add(request(person, 0.7f, 40 + i));
    ids.push_back(engine.add(plain[i]));
  }
  auto runs = run_all(engine);
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(runs[ids[i]].ids, alone[i].ids) << "neighbour " << i;
    EXPECT_EQ(runs[ids[i]].finish, FinishReason::Length);
    ASSERT_EQ(runs[ids[i]].logprobs.size(), alone[i].logprobs.size());
    for (size_t t = 0; t < alone[i].logprobs.size(); ++t)
      EXPECT_NEAR(runs[ids[i]].logprobs[t], alone[i].logprobs[t], 1e-4);
  }
}

TEST(StepMasks, EosOnlyWhenAcceptingAndAloneUnderIgnoreEos) {
  // Tokens: 0 "a", 1 "b", 2 EOS (no bytes), 3 "ab".
  auto trie = structured::TokenTrie::from_token_bytes({"a", "b", "", "ab"});
  auto c = structured::Constraint::from_regex("ab?", trie);
  const std::vector<int32_t> eos = {2};
  std::vector<uint32_t> bits(1);
  structured::ConstraintState state(c);
  fill_allowed(state, false, eos, bits);
  EXPECT_EQ(bits[0], 0b1001u);  // "a", "ab"; not EOS
  ASSERT_TRUE(state.commit(0));
  fill_allowed(state, false, eos, bits);
  EXPECT_EQ(bits[0], 0b0110u);  // "b" or EOS
  fill_allowed(state, true, eos, bits);
  EXPECT_EQ(bits[0], 0b0010u);  // ignore_eos: only "b" while it may go on
  ASSERT_TRUE(state.commit(1));
  fill_allowed(state, true, eos, bits);
  EXPECT_EQ(bits[0], 0b0100u);  // nothing else may follow: EOS even with ignore_eos
}

}  // namespace
}  // namespace lorax
