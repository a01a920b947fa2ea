#include "tokenizer/post_processors.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>

#include "core/error.h"
#include "tokenizer/json_fields.h"

namespace lorax {
namespace {

using nlohmann::json;
namespace jf = json_fields;

class SequenceProcessor final : public PostProcessor {
 public:
  explicit SequenceProcessor(std::vector<std::unique_ptr<const PostProcessor>> steps)
      : steps_(std::move(steps)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids) const override {
    for (const auto& step : steps_) ids = step->process(std::move(ids));
    return ids;
  }

 private:
  std::vector<std::unique_ptr<const PostProcessor>> steps_;
};

class IdentityProcessor final : public PostProcessor {
 public:
  std::vector<int32_t> process(std::vector<int32_t> ids) const override { return ids; }
};

// The single-sequence template: each item is fixed ids (a special token) or the sequence itself
// (represented by an empty optional).
class TemplateProcessor final : public PostProcessor {
 public:
  using Item = std::optional<std::vector<int32_t>>;
  explicit TemplateProcessor(std::vector<Item> items) : items_(std::move(items)) {}
  std::vector<int32_t> process(std::vector<int32_t> ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids.size() + 4);
    for (const Item& item : items_) {
      const std::vector<int32_t>& part = item ? *item : ids;
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }

 private:
  std::vector<Item> items_;
};

// A template piece: "$A" / "$B" / "$0" (optionally ":type_id") is a sequence, anything else the
// name of a special token; or the object form {"Sequence": {...}} / {"SpecialToken": {...}}.
struct Piece {
  bool is_sequence = false;
  std::string name;  // sequence id ("A", "B") or special token id
};

Piece piece_from_string(std::string s) {
  if (const size_t colon = s.rfind(':'); colon != std::string::npos && colon > 0) {
    s = s.substr(0, colon);
  }
  if (!s.empty() && s[0] == '$') {
    const std::string id = s.substr(1);
    return {true, id == "B" || id == "1" ? "B" : "A"};
  }
  return {false, s};
}

Piece piece_from_json(const json& j, const std::string& where) {
  if (j.is_string()) return piece_from_string(j.get<std::string>());
  LORAX_CHECK(j.is_object(), where, ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
  if (j.contains("Sequence")) {
    return {true, jf::require_string(j["Sequence"], "id", jf::field_path(where, "Sequence"))};
  }
  if (j.contains("SpecialToken")) {
    return {false,
            jf::require_string(j["SpecialToken"], "id", jf::field_path(where, "SpecialToken"))};
  }
  fail(where, ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
}

std::vector<Piece> template_pieces(const json& single, const std::string& where) {
  std::vector<Piece> pieces;
  if (single.is_string()) {
    const std::string text = single.get<std::string>();
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t end = std::min(text.find(' ', pos), text.size());
      if (end > pos) pieces.push_back(piece_from_string(text.substr(pos, end - pos)));
      pos = end + 1;
    }
    return pieces;
  }
  LORAX_CHECK(single.is_array(), where, ": field 'single' must be a string or an array");
  for (size_t i = 0; i < single.size(); ++i) {
    pieces.push_back(piece_from_json(single[i], jf::index_path(where + ".single", i)));
  }
  return pieces;
}

// special_tokens: {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}} (or a list of the values).
std::map<std::string, std::vector<int32_t>> special_tokens_from_json(const json& j,
                                                                     const std::string& where) {
  std::map<std::string, std::vector<int32_t>> out;
  if (j.is_null()) return out;
  LORAX_CHECK(j.is_object() || j.is_array(), where, ": must be an object");
  for (const auto& [key, value] : j.items()) {
    const std::string at = jf::field_path(where, key);
    const std::string name = jf::require_string(value, "id", at);
    const json& ids = jf::require(value, "ids", at);
    LORAX_CHECK(ids.is_array(), at, ": field 'ids' must be an array of integers");
    std::vector<int32_t>& dest = out[name];
    for (const json& id : ids) {
      LORAX_CHECK(id.is_number_integer(), at, ": field 'ids' must be an array of integers");
      dest.push_back(id.get<int32_t>());
    }
  }
  return out;
}

std::unique_ptr<const PostProcessor> template_from_json(const json& j, const std::string& where) {
  const auto specials =
      special_tokens_from_json(j.value("special_tokens", json()), where + ".special_tokens");
  std::vector<TemplateProcessor::Item> items;
  for (const Piece& piece : template_pieces(jf::require(j, "single", where), where)) {
    if (piece.is_sequence) {
      // A single sequence fills $A; $B has nothing to put there.
      if (piece.name == "A") items.emplace_back(std::nullopt);
      continue;
    }
    const auto it = specials.find(piece.name);
    LORAX_CHECK(it != specials.end(), where, ": template uses special token '", piece.name,
                "' missing from special_tokens");
    items.emplace_back(it->second);
  }
  return std::make_unique<TemplateProcessor>(std::move(items));
}

// RobertaProcessing / BertProcessing: "cls": ["<s>", 0], "sep": ["</s>", 2] around the sequence.
std::unique_ptr<const PostProcessor> cls_sep_from_json(const json& j, const std::string& where) {
  const auto id_of = [&](std::string_view key) {
    const json& pair = jf::require(j, key, where);
    LORAX_CHECK(pair.is_array() && pair.size() == 2 && pair[1].is_number_integer(), where,
                ": field '", key, "' must be [token, id]");
    return pair[1].get<int32_t>();
  };
  std::vector<TemplateProcessor::Item> items;
  items.emplace_back(std::vector<int32_t>{id_of("cls")});
  items.emplace_back(std::nullopt);
  items.emplace_back(std::vector<int32_t>{id_of("sep")});
  return std::make_unique<TemplateProcessor>(std::move(items));
}

std::unique_ptr<const PostProcessor> sequence_from_json(const json& j, const std::string& where) {
  const json& list = jf::require(j, "processors", where);
  LORAX_CHECK(list.is_array(), where, ": field 'processors' must be an array");
  std::vector<std::unique_ptr<const PostProcessor>> steps;
  for (size_t i = 0; i < list.size(); ++i) {
    auto step =
        post_processor_from_json(list[i], jf::index_path(jf::field_path(where, "processors"), i));
    if (step) steps.push_back(std::move(step));
  }
  return std::make_unique<SequenceProcessor>(std::move(steps));
}

}  // namespace

std::unique_ptr<const PostProcessor> post_processor_from_json(const json& j,
                                                              const std::string& where) {
  if (j.is_null()) return nullptr;
  const std::string type = jf::type_of(j, where);
  if (type == "TemplateProcessing") return template_from_json(j, where);
  if (type == "ByteLevel") return std::make_unique<IdentityProcessor>();
  if (type == "RobertaProcessing" || type == "BertProcessing") return cls_sep_from_json(j, where);
  if (type == "Sequence") return sequence_from_json(j, where);
  fail(where, ": unknown post_processor type '", type, "'");
}

}  // namespace lorax
