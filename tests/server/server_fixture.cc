#include "server_fixture.h"

#include "model/medusa.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "support/fixtures.h"

namespace lorax::testing {

namespace {

std::optional<TextProcessor> text_with_chat_template(const std::string& dir) {
  auto plain = TextProcessor::from_model_dir(dir);
  if (!plain) return std::nullopt;
  TokenizerConfig config = plain->config();
  config.chat_templates[TokenizerConfig::kDefaultTemplate] = kTestChatTemplate;
  return TextProcessor(plain->tokenizer(), config);
}

Reply to_reply(const httplib::Result& result) {
  Reply reply;
  if (!result) return reply;
  reply.status = result->status;
  reply.body = result->body;
  reply.content_type = result->get_header_value("Content-Type");
  reply.headers = result->headers;
  reply.json = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  return reply;
}

httplib::Client client_for(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120, 0);
  client.set_write_timeout(30, 0);
  return client;
}

}  // namespace

TestServer::TestServer(TestServerOptions options) {
  const std::string dir = model_dir("stories260K");
  model = CausalLM::load(dir, backend);
  if (!options.speculative_heads.empty())
    model->set_speculative_heads(MedusaHeads::load("heads", options.speculative_heads,
                                                   model->config(), backend, DType::F32));
  ServiceOptions service_options;
  service_options.max_concurrent_requests = options.max_concurrent_requests;
  service_options.engine.max_running = options.max_running;
  service_options.engine.speculative_tokens = options.speculative_tokens;
  service = std::make_unique<EngineService>(*model, service_options);
  if (options.tokenizer) text = text_with_chat_template(dir);
  adapters = std::make_unique<AdapterStore>(model->config(), size_t(64) << 20);
  adapters->register_adapter("lora-ben", dir + "/adapters/lora-ben");
  adapters->register_adapter("lora-beach", dir + "/adapters/lora-beach");
  ServerContext context{*service, text ? &*text : nullptr, *adapters};
  context.served_model_name = "stories260K";
  context.model_dtype = "float32";
  context.adapter_root = options.adapter_root;
  context.api_key = options.api_key;
  context.limits = options.limits;
  context.preloaded_adapters = options.preloaded_adapters;
  context.default_adapter_id = options.default_adapter_id;
  server = std::make_unique<HttpServer>(context);
  port = server->start("127.0.0.1", 0);
}

TestServer::~TestServer() {
  server->stop();
  service->shutdown(std::chrono::milliseconds(0));
}

Reply TestServer::post(const std::string& path, const Json& body,
                       const httplib::Headers& headers) const {
  return post_raw(path, body.dump(), headers);
}

Reply TestServer::post_raw(const std::string& path, const std::string& body,
                           const httplib::Headers& headers) const {
  auto client = client_for(port);
  return to_reply(client.Post(path.c_str(), headers, body, "application/json"));
}

Reply TestServer::get(const std::string& path, const httplib::Headers& headers) const {
  auto client = client_for(port);
  return to_reply(client.Get(path.c_str(), headers));
}

std::vector<int32_t> TestServer::engine_greedy(const std::vector<int32_t>& prompt,
                                               const std::string& adapter, int64_t max_new_tokens) {
  GenerationRequest request;
  request.prompt_ids = prompt;
  request.max_new_tokens = max_new_tokens;
  if (!adapter.empty()) request.adapter = adapters->get(adapter);
  auto handle = service->submit(request);
  std::vector<int32_t> ids;
  for (;;) {
    auto event = handle->next(std::chrono::seconds(30));
    if (!event) {
      ADD_FAILURE() << "engine gave no event within 30 s";
      return ids;
    }
    if (event->token) ids.push_back(event->token->id);
    if (event->finish != FinishReason::None) return ids;
  }
}

std::optional<double> TestServer::metric(const std::string& series) const {
  const Reply reply = get("/metrics");
  std::istringstream lines(reply.body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      ADD_FAILURE() << "event not terminated by a blank line: " << body.substr(pos);
      break;
    }
    const std::string event = body.substr(pos, end - pos);
    if (event.rfind("data: ", 0) != 0 || event.find('\n') != std::string::npos)
      ADD_FAILURE() << "not a single data line: " << event;
    else
      out.push_back(event.substr(6));
    pos = end + 2;
  }
  return out;
}

std::string post_and_hang_up(int port, const std::string& path, const std::string& body,
                             const std::string& until) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(uint16_t(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request =
        "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    if (::send(fd, request.data(), request.size(), 0) == ssize_t(request.size())) {
      char buffer[4096];
      while (received.find(until) == std::string::npos) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        received.append(buffer, size_t(n));
      }
    }
  }
  ::close(fd);
  return received;
}

}  // namespace lorax::testing
