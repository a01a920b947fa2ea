// The pure parts of the HTTP layer, without sockets: request validation, stop-sequence matching,
// error shapes and the metrics text.
#include "server/validation.h"

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/metrics.h"
#include "server/stop_matcher.h"

namespace lorax {
namespace {

ServerLimits limits() {
  ServerLimits l;
  l.max_input_length = 100;
  l.max_total_tokens = 200;
  l.max_new_tokens = 150;
  return l;
}

// The message of the ApiError `f` throws, with its kind checked.
template <typename F>
std::string rejection(F f, ErrorKind kind = ErrorKind::Validation) {
  try {
    f();
  } catch (const ApiError& e) {
    EXPECT_EQ(int(e.kind()), int(kind)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}

std::string lorax_rejection(const char* json) {
  return rejection([&] { parse_lorax_generate(Json::parse(json), limits(), false); });
}

TEST(LoraxValidation, GreedyUnlessASamplingParameterIsGiven) {
  auto r = parse_lorax_generate(Json::parse(R"({"inputs": "hi"})"), limits(), false);
  EXPECT_EQ(r.spec.sampling.temperature, 0.0f);
  EXPECT_FALSE(r.spec.max_new_tokens);
  r = parse_lorax_generate(Json::parse(R"({"inputs": "hi", "parameters": {"top_k": 5}})"), limits(),
                           false);
  EXPECT_EQ(r.spec.sampling.temperature, 1.0f);
  EXPECT_EQ(r.spec.sampling.top_k, 5);
  r = parse_lorax_generate(
      Json::parse(R"({"inputs": "hi", "parameters": {"do_sample": true, "temperature": 0.5,
                      "seed": 7, "stop": ["a", "b"], "max_new_tokens": 9, "details": true,
                      "adapter_id": "x", "return_k_alternatives": 3}})"),
      limits(), false);
  EXPECT_EQ(r.spec.sampling.temperature, 0.5f);
  EXPECT_EQ(r.spec.seed, 7u);
  EXPECT_EQ(r.spec.stop.size(), 2u);
  EXPECT_EQ(r.spec.max_new_tokens, 9);
  EXPECT_EQ(r.spec.adapter.id, "x");
  EXPECT_EQ(r.spec.top_logprobs, 3);
  EXPECT_TRUE(r.details);
}

TEST(LoraxValidation, TemperatureZeroIsGreedyAndTopPOneKeepsEverything) {
  auto r = parse_lorax_generate(
      Json::parse(R"({"inputs": "hi", "parameters": {"temperature": 0, "top_k": 5}})"), limits(),
      false);
  EXPECT_EQ(r.spec.sampling.temperature, 0.0f);
  r = parse_lorax_generate(Json::parse(R"({"inputs": "hi", "parameters": {"top_p": 1.0}})"),
                           limits(), false);
  EXPECT_EQ(r.spec.sampling.temperature, 0.0f);  // no other sampling parameter: greedy
  r = parse_lorax_generate(
      Json::parse(R"({"inputs": "hi", "parameters": {"top_p": 1.0, "do_sample": true}})"), limits(),
      false);
  EXPECT_EQ(r.spec.sampling.temperature, 1.0f);
  EXPECT_EQ(r.spec.sampling.top_p, 1.0f);
}

TEST(LoraxValidation, BestOfNeedsSamplingNoSeedAndNoStream) {
  auto r = parse_lorax_generate(
      Json::parse(R"({"inputs": "hi", "parameters": {"best_of": 3, "do_sample": true}})"), limits(),
      false);
  EXPECT_EQ(r.best_of, 3);
  // temperature 1.0 alone is greedy for one sequence, sampling for best_of (as LoRAX counts it)
  r = parse_lorax_generate(
      Json::parse(R"({"inputs": "hi", "parameters": {"best_of": 2, "temperature": 1.0}})"),
      limits(), false);
  EXPECT_EQ(r.spec.sampling.temperature, 1.0f);
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"best_of": 2}})"),
            "you must use sampling when `best_of` is > 1");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"best_of": 2, "temperature": 0}})"),
            "you must use sampling when `best_of` is > 1");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"best_of": 2, "do_sample": true,
                          "seed": 1}})"),
            "`seed` must not be set when `best_of` > 1");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"best_of": 5, "do_sample": true}})"),
            "`best_of` must be > 0 and <= 4. Given: 5");
  EXPECT_EQ(rejection([] {
              parse_lorax_generate(
                  Json::parse(R"({"inputs": "x", "parameters": {"best_of": 2, "top_k": 3}})"),
                  limits(), true);
            }),
            "`best_of` != 1 is not supported when streaming tokens");
  ServerLimits one = limits();
  one.max_best_of = 1;
  EXPECT_EQ(rejection([&] {
              parse_lorax_generate(
                  Json::parse(R"({"inputs": "x", "parameters": {"best_of": 2, "top_k": 3}})"), one,
                  false);
            }),
            "`best_of` != 1 is not allowed for this endpoint");
}

TEST(LoraxValidation, ApplyChatTemplateReadsMessagesFromInputs) {
  const auto r =
      parse_lorax_generate(Json::parse(R"({"inputs": "[{\"role\": \"user\", \"content\": \"hi\"}]",
                      "parameters": {"apply_chat_template": true}})"),
                           limits(), false);
  EXPECT_EQ(r.spec.prompt.kind, PromptSpec::Kind::Chat);
  EXPECT_EQ(r.spec.prompt.messages[0]["content"], "hi");
  EXPECT_NE(lorax_rejection(R"({"inputs": "hi", "parameters": {"apply_chat_template": true}})")
                .find("JSON list of"),
            std::string::npos);
}

TEST(LoraxValidation, RejectsWithLoraxMessages) {
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"temperature": -1}})"),
            "`temperature` must be non-negative");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"top_p": 1.5}})"),
            "`top_p` must be > 0.0 and <= 1.0");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"typical_p": 0}})"),
            "`typical_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"top_k": 0}})"),
            "`top_k` must be strictly positive");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"repetition_penalty": 0}})"),
            "`repetition_penalty` must be strictly positive");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"max_new_tokens": 0}})"),
            "`max_new_tokens` must be strictly positive");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"max_new_tokens": 151}})"),
            "`max_new_tokens` must be <= 150. Given: 151");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"truncate": 0}})"),
            "`truncate` must be strictly positive and less than 100. Given: 0");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"stop": ["a","b","c","d","e"]}})"),
            "`stop` supports up to 4 stop sequences. Given: 5");
  EXPECT_EQ(lorax_rejection(R"({"inputs": ""})"), "`inputs` cannot be empty");
  EXPECT_EQ(lorax_rejection(R"({"parameters": {}})"), "`inputs` is required");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"temperature": "hot"}})"),
            "`temperature` must be a number, got \"hot\"");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"max_new_tokens": 1.5}})"),
            "`max_new_tokens` must be an integer, got 1.5");
  EXPECT_EQ(lorax_rejection(R"({"inputs": "x", "parameters": {"watermark": true}})"),
            "`watermark` is not supported by this server");
  EXPECT_NE(lorax_rejection(R"({"inputs": "x", "parameters": {"adapter_source": "s3"}})")
                .find("adapter_source"),
            std::string::npos);
  EXPECT_EQ(rejection([] {
              parse_lorax_generate(
                  Json::parse(R"({"inputs": "x", "parameters": {"decoder_input_details": true}})"),
                  limits(), true);
            }),
            "`decoder_input_details` == true is not supported when streaming tokens");
}

TEST(LoraxValidation, NamesTheFieldAtFault) {
  try {
    parse_lorax_generate(Json::parse(R"({"inputs": "x", "parameters": {"top_k": "5"}})"), limits(),
                         false);
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.param(), "parameters.top_k");
  }
}

TEST(OpenAiValidation, CompletionPromptsAndLogprobs) {
  auto r = parse_completion(Json::parse(R"({"prompt": [1, 2, 3], "logprobs": 5, "echo": true})"),
                            limits());
  EXPECT_EQ(r.spec.prompt.kind, PromptSpec::Kind::TokenIds);
  EXPECT_EQ(r.spec.prompt.ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(r.spec.max_new_tokens, 16);  // OpenAI's default
  EXPECT_EQ(r.spec.sampling.temperature, 1.0f);
  EXPECT_TRUE(r.spec.prompt_logprobs);
  EXPECT_EQ(r.spec.top_logprobs, 5);
  r = parse_completion(Json::parse(R"({"prompt": ["hi"], "stop": "x", "temperature": 0})"),
                       limits());
  EXPECT_EQ(r.spec.prompt.text, "hi");
  EXPECT_EQ(r.spec.stop, std::vector<std::string>{"x"});
  EXPECT_EQ(r.spec.sampling.temperature, 0.0f);
  r = parse_completion(Json::parse(R"({"prompt": [[5, 6]]})"), limits());
  EXPECT_EQ(r.spec.prompt.ids, (std::vector<int32_t>{5, 6}));
}

TEST(OpenAiValidation, AcceptsChoicesAndLoraxExtensions) {
  auto r =
      parse_completion(Json::parse(R"({"prompt": "a", "n": 2, "best_of": 3, "logit_bias": {"7": 0,
                      "12": -100, "3": 2.5}, "adapter_source": "local", "api_token": "t",
                      "ignore_eos_token": true})"),
                       limits());
  // Biases of 0 change nothing and are dropped; the others keep their ids (keys in JSON order).
  ASSERT_EQ(r.spec.logit_bias.size(), 2u);
  EXPECT_EQ(r.spec.logit_bias[0].id, 12);
  EXPECT_EQ(r.spec.logit_bias[0].bias, -100.0f);
  EXPECT_EQ(r.spec.logit_bias[1].id, 3);
  EXPECT_EQ(r.spec.logit_bias[1].bias, 2.5f);
  EXPECT_EQ(r.choices.n, 2);
  EXPECT_EQ(r.choices.best_of, 3);
  EXPECT_EQ(r.spec.adapter.source, AdapterSpec::Source::Local);
  EXPECT_TRUE(r.spec.ignore_eos);
  const auto c = parse_chat(
      Json::parse(R"({"messages": [{"role": "user", "content": "x"}], "n": 2, "stream": true})"),
      limits());
  EXPECT_EQ(c.choices.n, 2);
  EXPECT_EQ(c.choices.best_of, 2);
}

TEST(OpenAiValidation, Rejections) {
  auto completion = [](const char* json) {
    return rejection([&] { parse_completion(Json::parse(json), limits()); });
  };
  EXPECT_NE(completion(R"({"prompt": ["a", "b"]})").find("one prompt per request"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "n": 5})").find("`n` must be between 1 and 4"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "n": 2, "best_of": 1})").find("between `n` (2) and 4"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "best_of": 2, "stream": true})")
                .find("must equal `n` when streaming"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logit_bias": {"5": 101}})")
                .find("`logit_bias` values must be between -100 and 100, got 101 for token 5"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logit_bias": {"x7": 1}})")
                .find("keys must be token ids (non-negative integers), got \"x7\""),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logit_bias": {"-1": 1}})").find("got \"-1\""),
            std::string::npos);
  EXPECT_NE(
      completion(R"({"prompt": "a", "logit_bias": {"7": 1, "07": 2}})").find("names token 7 twice"),
      std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logit_bias": {"7": "up"}})")
                .find("values must be numbers, got \"up\" for token 7"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logit_bias": [1]})").find("must be an object"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "adapter_source": "s3"})").find("adapter_source"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "logprobs": 6})").find("between 0 and 5"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "temperature": 2.5})").find("between 0 and 2"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "max_tokens": "5"})").find("must be an integer"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": "a", "stream_options": {"include_usage": true}})")
                .find("only allowed when `stream` is true"),
            std::string::npos);
  EXPECT_NE(completion(R"({"prompt": [1, "a"]})").find("`prompt`"), std::string::npos);
  EXPECT_NE(completion(R"({"max_tokens": 3})").find("`prompt` is required"), std::string::npos);
  auto chat = [](const char* json) {
    return rejection([&] { parse_chat(Json::parse(json), limits()); });
  };
  EXPECT_NE(chat(R"({"messages": []})").find("non-empty"), std::string::npos);
  EXPECT_NE(chat(R"({"messages": [{"content": "x"}]})").find("\"role\""), std::string::npos);
  EXPECT_NE(chat(R"({"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})")
                .find("requires `logprobs`"),
            std::string::npos);
  EXPECT_NE(chat(R"({"messages": [{"role": "user", "content": "x"}], "tools": [{}]})")
                .find("not supported"),
            std::string::npos);
}

TEST(Validation, TopLogprobsAreBoundedByTheServerLimit) {
  ServerLimits l = limits();
  l.max_top_logprobs = 3;
  const auto generate = [&](const char* body) {
    parse_lorax_generate(Json::parse(body), l, false);
  };
  generate(R"({"inputs": "x", "parameters": {"return_k_alternatives": 3}})");
  EXPECT_EQ(rejection([&] {
              generate(R"({"inputs": "x", "parameters": {"return_k_alternatives": 4}})");
            }),
            "`return_k_alternatives` must be <= 3");
  parse_chat(Json::parse(R"({"messages": [{"role": "user", "content": "x"}], "logprobs": true,
                             "top_logprobs": 3})"),
             l);
  EXPECT_EQ(rejection([&] {
              parse_chat(Json::parse(R"({"messages": [{"role": "user", "content": "x"}],
                                         "logprobs": true, "top_logprobs": 1000000000})"),
                         l);
            }),
            "`top_logprobs` must be between 0 and 3, got 1000000000");
  // The completions API allows 5 at most; a lower server limit wins.
  EXPECT_EQ(
      rejection([&] { parse_completion(Json::parse(R"({"prompt": "x", "logprobs": 4})"), l); }),
      "`logprobs` must be between 0 and 3, got 4");
}

TEST(Validation, LongTokenIdPromptsAreRefusedBeforeTheyAreCopied) {
  Json ids = Json::array();
  for (int i = 0; i < 101; ++i) ids.push_back(i);
  EXPECT_EQ(rejection([&] {
              parse_completion(Json{{"prompt", ids}}, limits());
            }),
            "This model's maximum input length is 100 tokens. However, your prompt has 101 "
            "tokens.");
  ids.erase(ids.begin());
  EXPECT_EQ(parse_completion(Json{{"prompt", Json::array({ids})}}, limits()).spec.prompt.ids.size(),
            100u);
}

TEST(Validation, BodiesNestedTooDeepAreRefusedWhileParsing) {
  const std::string deep = "{\"a\": " + std::string(65, '[') + std::string(65, ']') + "}";
  EXPECT_EQ(rejection([&] { parse_json_body(deep); }, ErrorKind::BadRequest),
            "request body nests deeper than 64 levels");
  const std::string fine = "{\"a\": " + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_TRUE(parse_json_body(fine).is_object());
  EXPECT_NE(rejection([] { parse_json_body(R"({"seed": -1e999})"); }, ErrorKind::BadRequest)
                .find("number overflow"),
            std::string::npos);
}

TEST(OpenAiValidation, ChatContentPartsAreFlattened) {
  const auto r = parse_chat(Json::parse(R"({"messages": [{"role": "user", "content":
      [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "max_tokens": 4,
      "logprobs": true, "top_logprobs": 3})"),
                            limits());
  EXPECT_EQ(r.spec.prompt.messages[0]["content"], "a\nb");
  EXPECT_EQ(r.spec.max_new_tokens, 4);
  EXPECT_EQ(r.spec.top_logprobs, 3);
}

TEST(ErrorShapes, LoraxAndOpenAi) {
  const ApiError e(ErrorKind::Validation, "`top_k` must be strictly positive", "top_k");
  EXPECT_EQ(http_status(e.kind(), ApiFlavor::Lorax), 422);
  EXPECT_EQ(http_status(e.kind(), ApiFlavor::OpenAi), 400);
  const Json lorax = error_body(e, ApiFlavor::Lorax);
  EXPECT_EQ(lorax["error"], "`top_k` must be strictly positive");
  EXPECT_EQ(lorax["error_type"], "validation");
  const Json openai = error_body(e, ApiFlavor::OpenAi);
  EXPECT_EQ(openai["error"]["param"], "top_k");
  EXPECT_EQ(openai["error"]["type"], "invalid_request_error");
  EXPECT_EQ(http_status(ErrorKind::UnknownAdapter, ApiFlavor::OpenAi), 404);
  EXPECT_EQ(http_status(ErrorKind::Overloaded, ApiFlavor::Lorax), 429);
}

TEST(ErrorShapes, EveryKindHasItsOwnStatusAndWords) {
  // Only Internal answers 500: a kind missing from the table would fall back to it.
  for (int k = 0; k <= int(ErrorKind::Internal); ++k) {
    const ApiError e(ErrorKind(k), "m");
    const bool internal = e.kind() == ErrorKind::Internal;
    EXPECT_EQ(http_status(e.kind(), ApiFlavor::OpenAi) == 500, internal) << k;
    EXPECT_EQ(http_status(e.kind(), ApiFlavor::Lorax) == 500, internal) << k;
    EXPECT_EQ(error_body(e, ApiFlavor::Lorax)["error_type"] == "internal", internal) << k;
    EXPECT_EQ(error_body(e, ApiFlavor::OpenAi)["error"]["code"] == "internal_error", internal) << k;
    EXPECT_EQ(std::string(outcome_label(e.kind())) == "internal_error", internal) << k;
  }
  EXPECT_EQ(http_status(ErrorKind::PayloadTooLarge, ApiFlavor::Lorax), 413);
  EXPECT_EQ(error_body(ApiError(ErrorKind::AdapterLoad, "m"), ApiFlavor::OpenAi)["error"]["type"],
            "adapter_error");
}

TEST(StopMatcher, MatchesAcrossPiecesAndHoldsBackPrefixes) {
  StopMatcher m({"girl named"});
  std::string out;
  for (const char* piece : {", a little", " girl", " na", "med Lily"}) out += m.push(piece);
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.text(), ", a little ");
  EXPECT_EQ(out, ", a little ");
}

TEST(StopMatcher, ReleasesHeldTextWhenThePrefixDoesNotContinue) {
  StopMatcher m({"abc"});
  EXPECT_EQ(m.push("xa"), "x");
  EXPECT_EQ(m.push("b"), "");
  EXPECT_EQ(m.push("d"), "abd");
  EXPECT_EQ(m.push("ab"), "");
  EXPECT_EQ(m.flush(), "ab");
  EXPECT_FALSE(m.matched());
  EXPECT_EQ(m.text(), "xabdab");
}

TEST(StopMatcher, EarliestOfSeveralStops) {
  StopMatcher m({"park", "Lily"});
  EXPECT_EQ(m.push("Lily went to the park"), "");
  EXPECT_EQ(m.text(), "");
  StopMatcher none({});
  EXPECT_EQ(none.push("anything"), "anything");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Histogram h({0.1, 1.0});
  for (double v : {0.05, 0.5, 0.5, 5.0}) h.observe(v);
  std::string out;
  h.render("x", out);
  EXPECT_EQ(out,
            "x_bucket{le=\"0.1\"} 1\nx_bucket{le=\"1\"} 3\nx_bucket{le=\"+Inf\"} 4\n"
            "x_sum 6.05\nx_count 4\n");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace lorax
