// A real server for the HTTP tests: the stories260K fixture (with its tokenizer and its two
// adapters registered as lora-ben and lora-beach) behind an HttpServer on 127.0.0.1, any free
// port, served from a background thread; plus small clients for JSON, SSE and a client that
// hangs up mid-stream.
#pragma once

#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter_store.h"
#include "backend/cpu/cpu_backend.h"
#include "engine/engine_service.h"
#include "server/http_server.h"
#include "server/json_body.h"
#include "tokenizer/text_processor.h"

namespace lorax::testing {

// A chat template for the story model (it has none): the BOS token and the messages' contents,
// refusing conversations that open with the assistant, as real templates do.
inline constexpr const char* kTestChatTemplate =
    "{{ bos_token }}{% for message in messages %}"
    "{% if loop.first and message['role'] == 'assistant' %}"
    "{{ raise_exception('Conversations must start with a user message') }}{% endif %}"
    "{{ message['content'] }}{% endfor %}";

struct TestServerOptions {
  int64_t max_concurrent_requests = 64;
  int64_t max_running = 256;  // sequences the engine runs at once
  int64_t speculative_tokens = 0;  // prompt-lookup drafts per step (EngineOptions)
  std::string speculative_heads;   // a Medusa directory: the server's own heads
  std::optional<std::string> api_key;
  std::optional<std::string> adapter_root;
  bool tokenizer = true;
  std::vector<std::string> preloaded_adapters;
  std::optional<std::string> default_adapter_id;
  ServerLimits limits = small_limits();

  static ServerLimits small_limits() {
    ServerLimits l;
    l.max_input_length = 256;
    l.max_total_tokens = 512;
    l.max_new_tokens = 500;
    l.max_body_bytes = 64 * 1024;
    return l;
  }
};

struct Reply {
  int status = 0;  // 0: no response (connection error)
  std::string body;
  std::string content_type;
  Json json;  // the body parsed, when it is JSON
  httplib::Headers headers;
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();

  Reply post(const std::string& path, const Json& body, const httplib::Headers& headers = {}) const;
  Reply post_raw(const std::string& path, const std::string& body,
                 const httplib::Headers& headers = {}) const;
  Reply get(const std::string& path, const httplib::Headers& headers = {}) const;

  // What the engine generates greedily for `prompt` alone (adapter "" = base), via the service.
  std::vector<int32_t> engine_greedy(const std::vector<int32_t>& prompt, const std::string& adapter,
                                     int64_t max_new_tokens);
  // One sample of /metrics ("name{labels}" exactly as exposed); nullopt when absent.
  std::optional<double> metric(const std::string& series) const;

  CpuBackend backend{2};
  std::unique_ptr<CausalLM> model;
  std::unique_ptr<EngineService> service;
  std::optional<TextProcessor> text;
  std::unique_ptr<AdapterStore> adapters;
  std::unique_ptr<HttpServer> server;
  int port = 0;
};

// The payloads of a text/event-stream body; fails the test when an event is not
// "data: <payload>\n\n".
std::vector<std::string> sse_payloads(const std::string& body);

// Sends a raw HTTP POST, reads until `until` has arrived, then closes the socket: a client that
// goes away in the middle of a stream. Returns what was read.
std::string post_and_hang_up(int port, const std::string& path, const std::string& body,
                             const std::string& until);

}  // namespace lorax::testing
