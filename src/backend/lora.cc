#include "backend/lora.h"

namespace lorax {

std::string_view lora_target_name(LoraTarget target) {
  switch (target) {
    case LoraTarget::QProj: return "q_proj";
    case LoraTarget::KProj: return "k_proj";
    case LoraTarget::VProj: return "v_proj";
    case LoraTarget::OProj: return "o_proj";
    case LoraTarget::GateProj: return "gate_proj";
    case LoraTarget::UpProj: return "up_proj";
    case LoraTarget::DownProj: return "down_proj";
    case LoraTarget::LmHead: return "lm_head";
  }
  return "?";
}

}  // namespace lorax
