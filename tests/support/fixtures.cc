#include "support/fixtures.h"

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "core/error.h"
#include "io/mapped_file.h"

namespace lorax::testing {

namespace fs = std::filesystem;

std::string fixtures_dir() {
  return LORAX_FIXTURES_DIR;
}
std::string model_dir(const std::string& model) {
  return fixtures_dir() + "/models/" + model;
}

std::vector<std::string> fixture_models() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(fixtures_dir() + "/models"))
    if (entry.is_directory()) out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string model_param_name(const std::string& model) {
  std::string name = model;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

namespace {
std::vector<int32_t> ids_of(const Tensor& t) {
  std::vector<int32_t> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(int32_t(t.data<int64_t>()[i]));
  return out;
}
}  // namespace

std::vector<FixtureCase> load_cases(const std::string& model) {
  const std::string dir = model_dir(model);
  const auto cases = nlohmann::json::parse(read_text_file(dir + "/cases.json"));
  const auto ref = CheckpointTensors::open_file(dir + "/reference.safetensors");
  std::vector<FixtureCase> out;
  for (const auto& c : cases["cases"]) {
    FixtureCase fc;
    fc.model = model;
    if (!c["adapter"].is_null()) fc.adapter = c["adapter"].get<std::string>();
    fc.prompt = c["prompt"].get<int>();
    fc.input_ids = ids_of(ref.get(c["input_ids"].get<std::string>()));
    fc.logits = ref.get(c["logits"].get<std::string>());
    if (c.contains("greedy")) {
      fc.greedy = ids_of(ref.get(c["greedy"].get<std::string>()));
      fc.greedy_margin = c["greedy_min_top2_margin"].get<double>();
    }
    if (c.contains("greedy_text")) fc.greedy_text = c["greedy_text"].get<std::string>();
    if (c.contains("prompt_text")) fc.prompt_text = c["prompt_text"].get<std::string>();
    out.push_back(std::move(fc));
  }
  return out;
}

std::vector<FixtureCase> base_cases(const std::string& model) {
  std::vector<FixtureCase> out;
  for (auto& c : load_cases(model))
    if (!c.adapter) out.push_back(std::move(c));
  return out;
}

std::vector<std::vector<double>> log_softmax_rows(const Tensor& logits) {
  const int64_t rows = logits.dim(0), vocab = logits.dim(1);
  std::vector<std::vector<double>> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = logits.data<float>() + r * vocab;
    double max = row[0];
    for (int64_t i = 1; i < vocab; ++i) max = std::max(max, double(row[i]));
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(row[i]) - max);
    const double log_sum = std::log(sum) + max;
    out[r].resize(static_cast<size_t>(vocab));
    for (int64_t i = 0; i < vocab; ++i) out[r][i] = double(row[i]) - log_sum;
  }
  return out;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = (fs::temp_directory_path() / ("lorax-test-" + std::to_string(rd()))).string();
  fs::create_directories(path_);
}
TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::string& path) {
  return read_text_file(path);
}

CommandResult run_command(const std::string& command) {
  CommandResult result{0, ""};
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int raw = pclose(pipe);
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return result;
}

std::string lorax_binary() {
  return std::string(LORAX_BINARY_DIR) + "/lorax";
}

}  // namespace lorax::testing

namespace lorax::testing {

void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  size_t offset = 0;
  const std::map<DType, std::string> names = {{DType::F32, "F32"},
                                              {DType::BF16, "BF16"},
                                              {DType::F16, "F16"},
                                              {DType::I64, "I64"},
                                              {DType::I32, "I32"}};
  for (const auto& [name, t] : tensors) {
    header[name] = {{"dtype", names.at(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // as writers do: data starts 8-byte aligned
  std::ofstream out(path, std::ios::binary);
  const uint64_t len = text.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << text;
  for (const auto& [name, t] : tensors)
    out.write(static_cast<const char*>(t.raw()), std::streamsize(t.nbytes()));
}

}  // namespace lorax::testing
