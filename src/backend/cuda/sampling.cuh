// The sampling op on the device (see backend/sampling.h for its meaning; sample_row() there is
// the reference these kernels match). Only ids and small logprob arrays leave the device.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "backend/sampling.h"

namespace lorax::cuda {

// One row's parameters, packed by the host into a device array.
struct DeviceSampleRow {
  float temperature;
  float top_p;
  float typical_p;
  float repetition_penalty;
  float frequency_penalty;
  float presence_penalty;
  int32_t top_k;
  int32_t top_logprobs;   // 0..20
  int32_t forced_id;      // >= 0: report this token instead of choosing
  int32_t history_begin;  // offset of the row's history in the histories array
  int32_t history_len;    // prompt + generated tokens
  int32_t prompt_len;
  int32_t mask_begin;  // offset of the row's allowed mask in the masks array (words)
  int32_t mask_words;  // 0: every token allowed; else SampleRow::allowed's words
  int32_t bias_begin;  // offset of the row's logit bias in the biases array
  int32_t bias_len;    // entries of it (distinct ids)
  uint64_t seed;
  uint64_t draw_index;
};

// Scratch bytes for up to max_rows rows over a vocabulary of `vocab` (max_rows * vocab < 2^31).
// About 36 bytes per logit: 64 rows of 128256 logits take some 300 MB.
size_t sampling_workspace_bytes(int max_rows, int64_t vocab);

// logits [rows, vocab] f32. rows_params [rows], histories: token ids the rows' history ranges
// point into (read only for penalised rows), masks: the packed allowed-token masks the rows'
// mask ranges point into (read only for rows with mask_words > 0), biases: the entries the rows'
// bias ranges point into (may be null when no row has any). Outputs (device): ids [rows],
// logprobs [rows], top_ids / top_logprobs [rows, 20] (entries past a row's top_logprobs, or past
// the vocabulary, are unspecified; a masked row with fewer allowed tokens than top_logprobs ends
// its list with id -1). A forced_id past the vocabulary is reported with a NaN logprob. The
// workspace holds sampling_workspace_bytes(n, vocab) bytes for some n >= rows and is 256-byte
// aligned (as cudaMalloc returns it). Logprobs are accumulated in f64 as on the CPU; they match
// sample_row()'s to a float ulp, and the ids match exactly.
void sample(const float* logits, int rows, int64_t vocab, const DeviceSampleRow* rows_params,
            const int32_t* histories, const uint32_t* masks, const LogitBias* biases,
            int32_t* ids, float* logprobs,
            int32_t* top_ids, float* top_logprobs, void* workspace, size_t workspace_bytes,
            cudaStream_t stream);

}  // namespace lorax::cuda
