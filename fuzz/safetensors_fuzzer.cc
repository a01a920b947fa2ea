// safetensors headers and model.safetensors.index.json: the bytes as a whole .safetensors file
// (every tensor it admits is then read end to end, so an entry pointing outside the data shows up
// under ASan) and, when they are JSON, as a shard index.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto file =
        lorax::SafetensorsFile::parse(lorax::MappedFile::from_bytes("fuzz.safetensors", bytes));
    for (const std::string& name : file.names()) {
      const lorax::Tensor t = file.get(name);
      const auto* p = static_cast<const volatile uint8_t*>(t.raw());
      uint8_t sum = 0;
      for (size_t i = 0; i < t.nbytes(); ++i) sum = uint8_t(sum + p[i]);
      (void)sum;
    }
  } catch (const lorax::Error&) {
  }
  try {
    lorax::parse_safetensors_index(bytes, "fuzz.index.json");
  } catch (const lorax::Error&) {
  }
  return 0;
}
