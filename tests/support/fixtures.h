// Access to the reference fixtures (../shared/fixtures), read in place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/safetensors.h"

namespace lorax::testing {

// Built with ASan or TSan (GCC defines the macros, Clang answers __has_feature): such builds run
// everything several times slower, so tests assert latencies only without them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizedBuild = true;
#else
constexpr bool kSanitizedBuild = false;
#endif
#else
constexpr bool kSanitizedBuild = false;
#endif

std::string fixtures_dir();
std::string model_dir(const std::string& model);  // fixtures/models/<model>
std::vector<std::string> fixture_models();        // every folder under fixtures/models
// A gtest-safe test name for a model (for INSTANTIATE_TEST_SUITE_P over fixture_models()).
std::string model_param_name(const std::string& model);

struct FixtureCase {
  std::string model;
  std::optional<std::string> adapter;
  int prompt = 0;
  std::vector<int32_t> input_ids;
  Tensor logits;                // [len, vocab] f32 reference logits at every prompt position
  std::vector<int32_t> greedy;  // reference greedy continuation (may be empty)
  double greedy_margin = 0.0;   // smallest top-2 gap on the greedy path
  std::string greedy_text;      // when the fixture has it
  std::string prompt_text;
};

// All cases of a model (base and adapters); keeps the reference file mapped.
std::vector<FixtureCase> load_cases(const std::string& model);
std::vector<FixtureCase> base_cases(const std::string& model);

// log-softmax of every row of a [rows, vocab] f32 tensor, in f64.
std::vector<std::vector<double>> log_softmax_rows(const Tensor& logits);

// A fresh empty directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

// Runs a shell command, returns {exit status, stdout}.
struct CommandResult {
  int status;
  std::string output;
};
CommandResult run_command(const std::string& command);
std::string lorax_binary();

}  // namespace lorax::testing

namespace lorax::testing {
// Writes tensors as a safetensors file (for building broken or synthetic checkpoints in tests).
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors);
}  // namespace lorax::testing
