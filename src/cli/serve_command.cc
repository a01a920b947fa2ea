#include "cli/serve_command.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/demo_model.h"
#include "core/log.h"
#include "core/open_files.h"
#include "server/http_server.h"

namespace lorax {

namespace {

// Blocks SIGINT/SIGTERM in this thread and every thread started after it, so they can be
// received synchronously with sigwait() instead of through a handler and global state.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

std::string default_name(const std::string& dir) {
  const std::filesystem::path p = std::filesystem::path(dir).lexically_normal();
  const std::string name = p.filename().empty() ? p.parent_path().filename().string()
                                                : p.filename().string();
  return name.empty() ? dir : name;
}

// The checkpoint's text side with its chat template replaced by the one in `path`.
std::optional<TextProcessor> with_chat_template(std::optional<TextProcessor> text,
                                                const std::string& path) {
  if (path.empty() || !text) return text;
  std::ifstream file(path);
  LORAX_CHECK(file.good(), "--chat-template: cannot read '", path, "'");
  std::ostringstream source;
  source << file.rdbuf();
  TokenizerConfig config = text->config();
  config.chat_templates[TokenizerConfig::kDefaultTemplate] = source.str();
  log_info("chat template from ", path);
  return TextProcessor(text->tokenizer(), config);
}

// Every open connection is a file descriptor: allow as many as the hard limit lets us.
void allow_connections(int64_t wanted) {
  const size_t limit = raise_open_file_limit();
  if (int64_t(limit) < wanted + 64)
    log_warn("the open file limit (", limit, ") is below --max-connections (", wanted,
             "): connections beyond it wait in the accept queue");
}

}  // namespace

int run_serve(const ServeOptions& given) {
  ServeOptions options = given;
  // LoRAX takes a Medusa directory as --adapter-id: its heads then draft for every request,
  // whatever LoRA adapter the request names, and the default adapter stays the base model.
  if (!options.adapter_id.empty() && MedusaHeads::is_medusa_dir(options.adapter_id)) {
    LORAX_CHECK(options.model.speculative_adapter.empty(),
                "--adapter-id names Medusa heads and --speculative-adapter names others: give one");
    options.model.speculative_adapter = options.adapter_id;
    options.adapter_id.clear();
  }
  const sigset_t signals = block_shutdown_signals();
  allow_connections(options.limits.max_connections);
  std::unique_ptr<Backend> backend = options.model.make_backend();
  std::unique_ptr<CausalLM> model;
  std::optional<TextProcessor> text;
  std::vector<std::pair<std::string, std::shared_ptr<const LoraAdapter>>> resident;
  const bool demo = options.model.model_dir.empty();
  if (demo) {
    DemoModel built = build_demo_model(*backend, options.model.activation());
    model = std::move(built.model);
    text = std::move(built.text);
    resident = std::move(built.adapters);
    attach_speculative_heads(options.model, *model);
    log_warn("no --model given: serving the built-in demo model. Its weights are RANDOM: "
             "the API works, the text is noise. Adapters: demo-adapter-a, demo-adapter-b");
  } else {
    model = load_model(options.model, *backend);
    text = TextProcessor::from_model_dir(options.model.model_dir);
    if (!text) log_warn("no tokenizer.json: only token-id prompts can be served");
  }
  text = with_chat_template(std::move(text), options.chat_template_file);
  auto adapters = make_adapter_store(options.model, *model);
  for (auto& [id, adapter] : resident) adapters->add_resident(id, adapter);

  ServiceOptions service_options;
  service_options.engine = options.model.engine_options(*model);
  service_options.max_concurrent_requests = options.max_concurrent_requests;
  EngineService service(*model, service_options);

  ServerLimits limits = options.limits;
  ServerContext context{service,
                        text ? &*text : nullptr,
                        *adapters,
                        !options.served_model_name.empty() ? options.served_model_name
                        : demo ? "lorax-demo"
                               : default_name(options.model.model_dir),
                        demo ? "f32" : std::string(dtype_name(model->weights().lm_head.dtype())),
                        options.adapter_root.empty() ? std::nullopt
                                                     : std::optional(options.adapter_root),
                        options.api_key.empty() ? std::nullopt : std::optional(options.api_key),
                        demo,
                        limits};
  context.preloaded_adapters = options.preloaded_adapter_ids;
  if (!options.adapter_id.empty()) context.default_adapter_id = options.adapter_id;
  HttpServer server(std::move(context));
  const int port = server.start(options.host, options.port);
  log_info("listening on http://", options.host, ":", port, " (", backend->name(), ")");

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log_info("received ", signal_number == SIGINT ? "SIGINT" : "SIGTERM",
           ": finishing in-flight requests (up to ", options.shutdown_grace_s, " s)");
  server.drain();  // /health answers 503 from now on
  service.shutdown(std::chrono::milliseconds(int64_t(options.shutdown_grace_s * 1000)));
  server.stop();
  log_info("shut down cleanly");
  return 0;
}

}  // namespace lorax
