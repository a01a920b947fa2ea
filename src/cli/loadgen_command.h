// `lorax loadgen`: N concurrent streaming clients spread over M adapters against a running
// server's /generate_stream, each sending requests back to back; prints throughput, time to
// first token and inter-token latency percentiles, and errors: connection errors (no answer)
// apart from HTTP errors (an error status, or a stream without its last event). With
// --connections, that many idle keep-alive connections are held open during the run, as a
// server's many quiet clients would be. Every loop is bounded by the request count and a
// wall-clock limit.
#pragma once

#include <string>
#include <vector>

namespace lorax {

struct LoadgenOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;
  int clients = 16;
  std::vector<std::string> adapters;  // spread round-robin over clients; "base" = no adapter
  int requests_per_client = 4;
  int max_new_tokens = 64;
  std::string prompt = "Once upon a time";
  double time_limit_s = 300;
  int connections = 0;  // idle keep-alive connections held open during the run
};

int run_loadgen(const LoadgenOptions& options);

}  // namespace lorax
