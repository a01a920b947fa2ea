#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/decoders.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/post_processors.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/tokenizer_json_reader.h"
#include "tokenizer/unicode.h"

namespace lorax {

namespace jf = json_fields;
using nlohmann::json;

struct Tokenizer::Pipeline {
  std::unique_ptr<const Normalizer> normalizer;       // may be null
  std::unique_ptr<const PreTokenizer> pre_tokenizer;  // may be null
  std::unique_ptr<const BpeModel> model;
  std::unique_ptr<const PostProcessor> post_processor;  // may be null
  std::unique_ptr<const Decoder> decoder;               // may be null
  AddedVocabulary added;
  bool track_origin = false;       // a pre-tokenizer needs to know where pieces start
  bool joins_byte_tokens = false;  // the decoder reads "<0xNN>" runs as bytes
};

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LORAX_CHECK(in.good(), "cannot open tokenizer file '", path, "'");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  LORAX_CHECK(size >= 0, "cannot read tokenizer file '", path, "'");
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  LORAX_CHECK(in.good() || in.eof(), "cannot read tokenizer file '", path, "'");
  return text;
}

std::unique_ptr<const BpeModel> model_from_json(TokenizerJson& file) {
  LORAX_CHECK(file.doc.contains("model"), "missing field 'model'");
  const json& model = file.doc["model"];
  LORAX_CHECK(model.is_object(), "model: expected an object");
  // HF reads an untyped model by its fields; merges mean BPE.
  const std::string type = model.contains("type") ? jf::type_of(model, "model")
                           : file.merges          ? "BPE"
                                                  : "unknown";
  LORAX_CHECK(type == "BPE", "model: unsupported model type '", type,
              "' (this tokenizer implements BPE only)");
  LORAX_CHECK(file.vocab.has_value(), "model: missing field 'vocab' (an object of token -> id)");
  LORAX_CHECK(file.merges.has_value(), "model: missing field 'merges'");
  return BpeModel::from_json(model, std::move(*file.vocab), std::move(*file.merges), "model");
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const Pipeline> pipeline) : pipeline_(std::move(pipeline)) {}

Tokenizer Tokenizer::from_file(const std::string& tokenizer_json_path) {
  return from_json_string(read_file(tokenizer_json_path), tokenizer_json_path);
}

Tokenizer Tokenizer::from_json_string(std::string_view json_text, const std::string& source) {
  TokenizerJson file = read_tokenizer_json(json_text, source);
  auto p = std::make_shared<Pipeline>();
  try {
    LORAX_CHECK(file.doc.is_object(), "expected a JSON object at the top level");
    const auto field = [&](const char* key) { return file.doc.value(key, json()); };
    p->normalizer = normalizer_from_json(field("normalizer"), "normalizer");
    p->pre_tokenizer = pre_tokenizer_from_json(field("pre_tokenizer"), "pre_tokenizer");
    p->post_processor = post_processor_from_json(field("post_processor"), "post_processor");
    p->decoder = decoder_from_json(field("decoder"), "decoder");
    p->model = model_from_json(file);
    p->added = AddedVocabulary::from_json(field("added_tokens"), *p->model, p->normalizer.get(),
                                          "added_tokens");
    p->track_origin = p->pre_tokenizer && p->pre_tokenizer->needs_origin();
    p->joins_byte_tokens = p->decoder && p->decoder->joins_byte_tokens();
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  return Tokenizer(std::move(p));
}

void Tokenizer::encode_words(NormalizedText text, std::vector<int32_t>& ids) const {
  const Pipeline& p = *pipeline_;
  if (!p.pre_tokenizer) {
    p.model->tokenize(text.text, ids);
    return;
  }
  std::vector<NormalizedText> pieces;
  pieces.push_back(std::move(text));
  for (const NormalizedText& word : p.pre_tokenizer->pre_tokenize(std::move(pieces))) {
    p.model->tokenize(word.text, ids);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const size_t bad = unicode::find_invalid_utf8(text);
  LORAX_CHECK(bad == std::string_view::npos, "encode: input text is not valid UTF-8 (byte offset ",
              bad, ")");
  LORAX_CHECK(text.size() < std::numeric_limits<uint32_t>::max(),
              "encode: input text longer than 4 GiB");
  const Pipeline& p = *pipeline_;
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  for (TextSegment& raw :
       p.added.split(NormalizedText::from_input(text, 0, p.track_origin), false)) {
    if (raw.token) {
      ids.push_back(*raw.token);
      continue;
    }
    NormalizedText normal =
        p.normalizer ? p.normalizer->normalize(std::move(raw.text)) : std::move(raw.text);
    for (TextSegment& piece : p.added.split(std::move(normal), true)) {
      if (piece.token) {
        ids.push_back(*piece.token);
      } else {
        encode_words(std::move(piece.text), ids);
      }
    }
  }
  if (add_special_tokens && p.post_processor) ids = p.post_processor->process(std::move(ids));
  return ids;
}

std::optional<std::string_view> Tokenizer::token_string(int32_t id) const {
  if (const std::string* added = pipeline_->added.id_to_token(id)) return *added;
  return pipeline_->model->id_to_token(id);
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::optional<std::string_view> token = token_string(id);
    if (!token) continue;
    if (skip_special_tokens && pipeline_->added.is_special_content(*token)) continue;
    tokens.emplace_back(*token);
  }
  return decode_tokens(pipeline_->decoder.get(), std::move(tokens));
}

std::string Tokenizer::id_to_token(int32_t id) const {
  const std::optional<std::string_view> token = token_string(id);
  LORAX_CHECK(token.has_value(), "token id ", id, " is not in the vocabulary (size ", vocab_size(),
              ")");
  return std::string(*token);
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (const auto id = pipeline_->added.token_to_id(token)) return id;
  return pipeline_->model->token_to_id(token);
}

size_t Tokenizer::vocab_size() const {
  const auto added = static_cast<size_t>(pipeline_->added.max_id() + 1);
  return std::max(pipeline_->model->id_space(), added);
}

bool Tokenizer::is_special(int32_t id) const {
  const std::optional<std::string_view> token = token_string(id);
  return token && pipeline_->added.is_special_content(*token);
}

bool Tokenizer::is_fallback_byte(int32_t id) const {
  if (!pipeline_->joins_byte_tokens) return false;
  const std::optional<std::string_view> token = token_string(id);
  return token && byte_token_value(*token) >= 0;
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const {
  return pipeline_->added.tokens();
}

}  // namespace lorax
