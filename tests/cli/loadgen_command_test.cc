// `lorax loadgen` against a real `lorax serve`: its table counts completed requests and tokens,
// holds the idle keep-alive connections it was asked for, and tells connection errors (no
// server) from HTTP errors (an answer that is not a completed stream).
#include <gtest/gtest.h>

#include <string>

#include "support/fixtures.h"
#include "support/serve_process.h"

namespace lorax {
namespace {

std::string loadgen(int port, const std::string& args) {
  const auto r = testing::run_command(testing::lorax_binary() + " loadgen --port " +
                                      std::to_string(port) + " " + args + " 2>&1");
  return "exit " + std::to_string(r.status) + "\n" + r.output;
}

TEST(LoadgenCommand, CountsStreamsAndHoldsIdleConnections) {
  testing::TempDir dir;
  testing::ServeProcess serve({"--model", testing::model_dir("stories260K"), "--threads", "1"},
                              dir.file("serve.log"));
  ASSERT_GT(serve.port(), 0) << testing::read_file(dir.file("serve.log"));
  const std::string out =
      loadgen(serve.port(), "--clients 3 --requests 2 --max-new-tokens 4 --connections 20");
  EXPECT_NE(out.find("exit 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("holding 20 idle keep-alive connections (0 failed to open)"),
            std::string::npos)
      << out;
  // 6 requests of 4 tokens, no error of either kind.
  EXPECT_NE(out.find("|           6 |                 0 |           0 |     24 |"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("idle keep-alive connections: 20 opened, 0 failed, 20 still open at the end"),
            std::string::npos)
      << out;

  // An adapter the server does not have: every stream is answered, and ends with an error event
  // that names it.
  const std::string refused =
      loadgen(serve.port(), "--clients 2 --requests 1 --max-new-tokens 4 --adapters nope");
  EXPECT_NE(refused.find("exit 1\n"), std::string::npos) << refused;
  EXPECT_NE(refused.find("|           0 |                 0 |           2 |"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("last error: the stream ended with an error event: "), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("nope"), std::string::npos) << refused;
}

TEST(LoadgenCommand, NoServerIsAConnectionError) {
  const int port = [] {
    testing::TempDir dir;
    testing::ServeProcess gone({"--model", testing::model_dir("stories260K")},
                               dir.file("serve.log"));
    return gone.port();  // free again once the server is gone
  }();
  ASSERT_GT(port, 0);
  const std::string out = loadgen(port, "--clients 2 --requests 1 --max-new-tokens 4");
  EXPECT_NE(out.find("exit 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("|           0 |                 2 |           0 |"), std::string::npos)
      << out;
  EXPECT_NE(out.find("last error: connection failed"), std::string::npos) << out;
}

}  // namespace
}  // namespace lorax
