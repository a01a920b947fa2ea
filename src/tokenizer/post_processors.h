// Post-processors of tokenizer.json: add the special tokens around an encoded sequence (BOS,
// EOS, ...) when encode is asked to add special tokens.
//
// Types: TemplateProcessing (its "single" template), ByteLevel (changes only offsets, so nothing
// here), RobertaProcessing and BertProcessing (cls A sep), Sequence. Pair templates are not
// used: the server encodes one sequence at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lorax {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Returns `ids` with the special tokens of a single sequence around it.
  virtual std::vector<int32_t> process(std::vector<int32_t> ids) const = 0;
};

std::unique_ptr<const PostProcessor> post_processor_from_json(const nlohmann::json& j,
                                                              const std::string& where);

}  // namespace lorax
