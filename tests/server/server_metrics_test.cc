// /metrics: valid Prometheus text, request counts by adapter and outcome, latency histograms;
// and a client that disconnects mid-stream has its request cancelled and its KV blocks freed.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "server_fixture.h"

namespace lorax::testing {
namespace {

struct Sample {
  std::string name;
  std::string labels;  // without braces
  double value = 0.0;
};

// A strict reading of the text format: every line is a HELP or TYPE comment naming a metric, or
// `name{labels} value`; a sample's family was declared with TYPE before it.
std::vector<Sample> parse_prometheus(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*)\})? )"
      R"((-?[0-9.eE+-]+|\+Inf|-Inf|NaN))");
  std::vector<Sample> out;
  std::map<std::string, std::string> types;
  std::istringstream lines(text);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, m, type)) {
      EXPECT_FALSE(types.count(m[1])) << "TYPE twice: " << line;
      types[m[1]] = m[2];
    } else if (line.rfind("#", 0) == 0) {
      EXPECT_TRUE(std::regex_match(line, m, help)) << "bad comment: " << line;
    } else if (std::regex_match(line, m, sample)) {
      const std::string name = m[1];
      std::string family = std::regex_replace(name, std::regex("_(bucket|sum|count)$"), "");
      EXPECT_TRUE(types.count(name) || (types.count(family) && types[family] == "histogram"))
          << "sample before its TYPE: " << line;
      out.push_back({name, m[3], std::stod(m[4])});
    } else {
      ADD_FAILURE() << "not a Prometheus line: '" << line << "'";
    }
  }
  return out;
}

void expect_cumulative_buckets(const std::vector<Sample>& samples, const std::string& family) {
  double previous = 0.0, count = -1.0, inf = -1.0;
  int buckets = 0;
  for (const Sample& s : samples) {
    if (s.name == family + "_bucket") {
      ++buckets;
      EXPECT_GE(s.value, previous) << family << " " << s.labels;
      previous = s.value;
      if (s.labels == "le=\"+Inf\"") inf = s.value;
    }
    if (s.name == family + "_count") count = s.value;
  }
  EXPECT_GT(buckets, 1) << family;
  EXPECT_EQ(inf, count) << family;
}

TEST(ServerMetrics, PrometheusTextWithCountsAndHistograms) {
  TestServer server;
  ASSERT_EQ(
      server
          .post("/generate", {{"inputs", "Once upon a time"},
                              {"parameters", {{"max_new_tokens", 5}, {"adapter_id", "lora-ben"}}}})
          .status,
      200);
  ASSERT_EQ(server.post("/v1/completions", {{"prompt", "Once"}, {"max_tokens", 4}}).status, 200);
  ASSERT_EQ(server.post_raw("/generate", "{").status, 400);
  // The engine publishes its counters just after delivering a request's last token.
  for (int i = 0; i < 200 && server.metric("lorax_kv_blocks_used") != 0.0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Reply reply = server.get("/metrics");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type.rfind("text/plain", 0), 0u);
  const auto samples = parse_prometheus(reply.body);
  std::map<std::string, double> by_series;
  for (const Sample& s : samples) by_series[s.name + "{" + s.labels + "}"] = s.value;
  EXPECT_EQ(by_series["lorax_adapter_request_count{adapter=\"lora-ben\",outcome=\"success\"}"], 1);
  EXPECT_EQ(by_series["lorax_adapter_request_count{adapter=\"base\",outcome=\"success\"}"], 1);
  EXPECT_EQ(
      by_series["lorax_adapter_request_count{adapter=\"unknown\",outcome=\"validation_error\"}"],
      1);
  // LoRAX's own series
  EXPECT_EQ(by_series["lorax_request_count{}"], 3);
  EXPECT_EQ(by_series["lorax_request_success{}"], 2);
  EXPECT_EQ(by_series["lorax_request_failure{err=\"validation\"}"], 1);
  EXPECT_EQ(by_series["lorax_request_generated_tokens_count{}"], 2);
  EXPECT_EQ(by_series["lorax_request_generated_tokens_sum{}"], 9);
  EXPECT_EQ(by_series["lorax_request_input_length_count{}"], 2);
  EXPECT_EQ(by_series["lorax_request_max_new_tokens_sum{}"], 9);
  EXPECT_EQ(by_series["lorax_request_skipped_tokens_sum{}"], 0);
  EXPECT_EQ(by_series["lorax_request_skipped_tokens_count{}"], 9);
  for (const char* method : {"prefill", "decode"}) {
    const std::string label = std::string("{method=\"") + method + "\"}";
    EXPECT_GT(by_series["lorax_batch_inference_success" + label], 0) << method;
    EXPECT_EQ(by_series["lorax_batch_inference_count" + label],
              by_series["lorax_batch_inference_success" + label]);
    EXPECT_EQ(by_series["lorax_batch_inference_failure" + label], 0);
    EXPECT_EQ(by_series["lorax_batch_inference_duration_count" + label],
              by_series["lorax_batch_inference_success" + label]);
    EXPECT_GT(by_series["lorax_batch_inference_duration_sum" + label], 0) << method;
  }
  // Two requests, one after the other: two admissions of one each, neither joining a batch.
  EXPECT_EQ(by_series["lorax_batch_next_size_count{}"], 2);
  EXPECT_EQ(by_series["lorax_batch_next_size_sum{}"], 2);
  EXPECT_EQ(by_series["lorax_batch_next_size_bucket{le=\"1\"}"], 2);
  EXPECT_FALSE(by_series.count("lorax_batch_concat{reason=\"chunking\"}"));
  EXPECT_EQ(by_series["lorax_adapter_loaded{adapter=\"lora-ben\"}"], 1);
  EXPECT_EQ(by_series["lorax_adapter_cache_misses{adapter=\"lora-ben\"}"], 1);
  EXPECT_EQ(by_series["lorax_adapter_loaded{adapter=\"lora-beach\"}"], 0);
  EXPECT_EQ(by_series["lorax_adapter_active_requests{adapter=\"lora-ben\"}"], 0);
  EXPECT_EQ(by_series["lorax_adapter_waiting_requests{adapter=\"lora-ben\"}"], 0);
  EXPECT_EQ(by_series["lorax_request_time_to_first_token_seconds_count{}"], 2);
  EXPECT_EQ(by_series["lorax_request_inter_token_latency_seconds_count{}"], 4 + 3);
  EXPECT_EQ(by_series["lorax_generated_tokens_total{}"], 9);
  EXPECT_GT(by_series["lorax_kv_blocks_total{}"], 0);
  EXPECT_EQ(by_series["lorax_kv_blocks_used{}"], 0);
  for (const char* name :
       {"lorax_queue_length", "lorax_batch_current_size", "lorax_batch_current_max_tokens",
        "lorax_prompt_tokens_total", "lorax_kv_blocks_free", "lorax_prefix_cache_blocks",
        "lorax_prefix_cache_hit_tokens_total", "lorax_prefix_cache_evictions_total"})
    EXPECT_TRUE(by_series.count(std::string(name) + "{}")) << name;
  for (const char* family :
       {"lorax_request_time_to_first_token_seconds", "lorax_request_inter_token_latency_seconds",
        "lorax_request_duration", "lorax_request_validation_duration",
        "lorax_request_queue_duration", "lorax_request_inference_duration",
        "lorax_request_mean_time_per_token_duration", "lorax_request_input_length",
        "lorax_request_max_new_tokens", "lorax_request_generated_tokens", "lorax_batch_next_size"})
    expect_cumulative_buckets(samples, family);
}

// A request that arrives while another generates joins its batch: LoRAX counts that as a concat
// (reason "chunking" when prefill is chunked, as here by default).
TEST(ServerMetrics, ArrivalsJoiningARunningBatchAreCountedAsConcats) {
  TestServer server;
  std::thread long_one([&] {
    const Reply r = server.post(
        "/generate", {{"inputs", "Once"},
                      {"parameters", {{"max_new_tokens", 400}, {"ignore_eos_token", true}}}});
    EXPECT_EQ(r.status, 200) << r.body;
  });
  for (int i = 0; i < 400 && server.metric("lorax_generated_tokens_total").value_or(0) < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Reply joined =
      server.post("/generate", {{"inputs", "Lily"}, {"parameters", {{"max_new_tokens", 2}}}});
  EXPECT_EQ(joined.status, 200) << joined.body;
  long_one.join();
  EXPECT_EQ(server.metric("lorax_batch_concat{reason=\"chunking\"}"), 1.0);
  EXPECT_EQ(server.metric("lorax_batch_next_size_count"), 2.0);
}

TEST(ServerMetrics, ClientDisconnectingMidStreamFreesItsBlocks) {
  TestServer server;
  for (const char* path : {"/generate_stream", "/v1/completions"}) {
    const std::string body =
        std::string(path) == "/generate_stream"
            ? R"({"inputs": "Once", "parameters": {"max_new_tokens": 480, "ignore_eos_token": true}})"
            : R"({"prompt": "Once", "max_tokens": 480, "ignore_eos": true, "stream": true})";
    const std::string got = post_and_hang_up(server.port, path, body, "data: ");
    ASSERT_NE(got.find("200 OK"), std::string::npos) << got;
  }
  // The server notices at its next write; the engine frees the blocks at its next loop.
  for (int i = 0; i < 300; ++i) {
    if (server.metric("lorax_in_flight_requests") == 0.0 &&
        server.metric("lorax_kv_blocks_used") == 0.0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.metric("lorax_in_flight_requests"), 0.0);
  EXPECT_EQ(server.metric("lorax_kv_blocks_used"), 0.0);
  EXPECT_EQ(server.metric("lorax_kv_blocks_free"), server.metric("lorax_kv_blocks_total"));
  EXPECT_EQ(server.metric(
                "lorax_adapter_request_count{adapter=\"base\",outcome=\"client_disconnected\"}"),
            2.0);
  EXPECT_LT(server.metric("lorax_generated_tokens_total").value_or(1e9), 2 * 480.0);
  EXPECT_EQ(server.post("/generate", {{"inputs", "Once"}}).status, 200);
}

}  // namespace
}  // namespace lorax::testing
