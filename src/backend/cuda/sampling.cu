// The sampling op on the device: the steps listed in backend/sampling.h, one block per row, with
// the float helpers of backend/sampling_math.h so that every float is rounded as in the CPU
// reference and a seeded row draws the same token on both.
//
// Three launches per call:
//  1. prepare_rows: the raw row's log-softmax normaliser (f64, as the reference), its top
//     alternatives, the working logits, the token of forced and greedy rows and, for sampled
//     rows, the sort keys: the descending-logit key above the id, so that every key is distinct
//     and the candidate order does not rest on the sort being stable.
//  2. cub::DeviceSegmentedRadixSort of the sampled rows' keys (other rows: empty segments).
//  3. draw_rows: top-k, top-p and typical-p over the sorted candidates, then the draw.
// A row with an allowed-token mask (structured output) reads its disallowed logits as -inf in
// every step, so it is sampled and reported as the reference does (sampling.h).
#include "backend/cuda/sampling.cuh"

#include <climits>
#include <cub/cub.cuh>

#include "backend/cuda/cuda_check.h"
#include "backend/sampling.h"
#include "backend/sampling_math.h"
#include "core/error.h"
#include "core/philox.h"

namespace lorax::cuda {
namespace {

namespace sm = ::lorax::sampling_math;

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullWarp = 0xffffffffu;
constexpr int kTopWidth = 20;  // the row width of top_ids / top_logprobs (sampling.cuh)
static_assert(kTopWidth == kMaxTopLogprobs);

// ---- The workspace ---------------------------------------------------------------------------

// Per-row arrays hold `vocab` elements (the tree: tree_stride floats), rows one after another.
struct Workspace {
  float* w;         // working logits: penalised, NaN as -inf
  uint32_t* marks;  // history marks: bit 0 seen, the bits above the generated count
  float* x;         // the candidates' scaled logits, then their typical distances
  float* e;         // the candidates' weights
  float* run;       // level-0 running sums of the sum tree (sampling_math.h)
  float* tree;      // the sum tree's upper levels
  int64_t tree_stride;
  uint64_t* keys[2];  // sort keys, the radix sort's double buffer
  double* log_norm;   // log-sum-exp of each raw row
  int* segment_begin;
  int* segment_end;
  void* sort_temp;
  size_t sort_temp_bytes;
};

constexpr size_t kAlign = 256;

// Bits that hold an id below vocab.
int id_bits(int64_t vocab) {
  int bits = 0;
  while ((int64_t(1) << bits) < vocab) ++bits;
  return bits;
}

size_t sort_temp_bytes(int rows, int64_t vocab) {
  cub::DoubleBuffer<uint64_t> keys(nullptr, nullptr);
  const int* no_offsets = nullptr;
  size_t bytes = 0;
  LORAX_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(nullptr, bytes, keys, int(rows * vocab),
                                                           rows, no_offsets, no_offsets, 0,
                                                           32 + id_bits(vocab)));
  return bytes;
}

// Lays the workspace out from `base` (which may be null to count bytes only).
class Carver {
 public:
  explicit Carver(void* base) : base_(reinterpret_cast<uintptr_t>(base)) {}
  template <typename T>
  T* take(size_t count) {
    const size_t at = used_;
    used_ = (used_ + count * sizeof(T) + kAlign - 1) / kAlign * kAlign;
    return reinterpret_cast<T*>(base_ + at);
  }
  size_t used() const { return used_; }

 private:
  uintptr_t base_;
  size_t used_ = 0;
};

Workspace carve(void* base, int rows, int64_t vocab, size_t& bytes) {
  Carver carver(base);
  const size_t cells = size_t(rows) * size_t(vocab);
  Workspace ws;
  ws.w = carver.take<float>(cells);
  ws.marks = carver.take<uint32_t>(cells);
  ws.x = carver.take<float>(cells);
  ws.e = carver.take<float>(cells);
  ws.run = carver.take<float>(cells);
  ws.tree_stride = sm::sum_tree_floats(vocab);
  ws.tree = carver.take<float>(size_t(rows) * size_t(ws.tree_stride));
  ws.keys[0] = carver.take<uint64_t>(cells);
  ws.keys[1] = carver.take<uint64_t>(cells);
  ws.log_norm = carver.take<double>(size_t(rows));
  ws.segment_begin = carver.take<int>(size_t(rows));
  ws.segment_end = carver.take<int>(size_t(rows));
  ws.sort_temp_bytes = sort_temp_bytes(rows, vocab);
  ws.sort_temp = carver.take<char>(ws.sort_temp_bytes);
  bytes = carver.used();
  return ws;
}

void check_shape(int rows, int64_t vocab) {
  // The sort indexes all rows' candidates with int.
  LORAX_CHECK(vocab > 0 && rows > 0 && vocab <= INT_MAX / rows, "sampling ", rows, " rows of ",
              vocab, " logits: more than 2^31 candidates");
}

// ---- Block-wide helpers ----------------------------------------------------------------------

// A token and its value; id < 0: none. Ranked by descending value, then ascending id.
struct Candidate {
  float value;
  int id;
};

__device__ bool ranks_before(Candidate a, Candidate b) {
  return a.id >= 0 && (b.id < 0 || a.value > b.value || (a.value == b.value && a.id < b.id));
}

struct Scratch {
  float f[kWarps];
  double d[kWarps];
  int i[kWarps];
  unsigned long long u[kWarps];
  Candidate c[kWarps];
};

__device__ float shuffle_xor(float v, int lanes) {
  return __shfl_xor_sync(kFullWarp, v, lanes);
}
__device__ double shuffle_xor(double v, int lanes) {
  return __shfl_xor_sync(kFullWarp, v, lanes);
}
__device__ int shuffle_xor(int v, int lanes) {
  return __shfl_xor_sync(kFullWarp, v, lanes);
}
__device__ unsigned long long shuffle_xor(unsigned long long v, int lanes) {
  return __shfl_xor_sync(kFullWarp, v, lanes);
}
__device__ Candidate shuffle_xor(Candidate c, int lanes) {
  return Candidate{__shfl_xor_sync(kFullWarp, c.value, lanes),
                   __shfl_xor_sync(kFullWarp, c.id, lanes)};
}

struct MaxFloat {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumDouble {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct MinInt {
  __device__ int operator()(int a, int b) const { return min(a, b); }
};
struct MaxInt {
  __device__ int operator()(int a, int b) const { return max(a, b); }
};
struct MinU64 {
  __device__ unsigned long long operator()(unsigned long long a, unsigned long long b) const {
    return a < b ? a : b;
  }
};
struct Better {
  __device__ Candidate operator()(Candidate a, Candidate b) const {
    return ranks_before(a, b) ? a : b;
  }
};

// Combines every thread's value; all threads get the result. Called by the whole block.
template <typename T, typename Op>
__device__ T block_reduce(T value, Op op, T* scratch) {
  for (int lanes = 16; lanes > 0; lanes /= 2) value = op(value, shuffle_xor(value, lanes));
  __syncthreads();  // the previous reduction's threads are done reading scratch
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = value;
  __syncthreads();
  T result = scratch[0];
  for (int warp = 1; warp < kWarps; ++warp) result = op(result, scratch[warp]);
  return result;
}

// The best of v[0, n) (NaN as -inf) that ranks after `previous` (any, if previous.id < 0),
// among the ids `allowed` (every id if null).
__device__ Candidate best_after(const float* v, int n, Candidate previous, Scratch& s,
                                const uint32_t* allowed = nullptr, int allowed_words = 0) {
  Candidate best{0.0f, -1};
  for (int i = threadIdx.x; i < n; i += kThreads) {
    if (allowed != nullptr &&
        !(i / 32 < allowed_words && ((allowed[i / 32] >> (i % 32)) & 1u) != 0))
      continue;
    const Candidate c{sm::sanitize(v[i]), i};
    if ((previous.id < 0 || ranks_before(previous, c)) && ranks_before(c, best)) best = c;
  }
  return block_reduce(best, Better{}, s.c);
}

// ---- Sums in the fixed order of sampling_math.h ----------------------------------------------

// The levels above 0 of a tree whose level-0 group sums are in tree[0, groups(n)); keeps the
// exclusive running sums prefix_mass() reads when keep_running. Returns the total to all.
__device__ float finish_tree(int n, float* tree, bool keep_running) {
  __syncthreads();
  int64_t offset = 0;
  for (int64_t count = sm::sum_groups(n); count > 1; count = sm::sum_groups(count)) {
    float* level = tree + offset;
    for (int64_t g = threadIdx.x; g < sm::sum_groups(count); g += kThreads)
      level[2 * count + g] =
          sm::sum_inner_group(level, count, g, keep_running ? level + count : nullptr);
    __syncthreads();
    offset += 2 * count;
  }
  const float total = tree[offset];
  __syncthreads();  // all have read the total before the tree is written again
  return total;
}

// The tree of a[0, n); with `run` not null, keeps everything prefix_mass() reads.
__device__ float sum_tree(const float* a, int n, float* run, float* tree) {
  __syncthreads();  // a[] and tree[] are no longer being written or read by a previous step
  for (int64_t g = threadIdx.x; g < sm::sum_groups(n); g += kThreads)
    tree[g] = sm::sum_leaf_group(a, n, g, run);
  return finish_tree(n, tree, run != nullptr);
}

// The total of the tree of value(0), ..., value(n - 1) (the same additions as sum_tree() over
// an array holding those values).
template <typename Value>
__device__ float sum_values(int n, float* tree, Value value) {
  __syncthreads();
  for (int64_t g = threadIdx.x; g < sm::sum_groups(n); g += kThreads) {
    const int64_t end = min((g + 1) * sm::kSumGroup, int64_t(n));
    float sum = 0.0f;
    for (int64_t j = g * sm::kSumGroup; j < end; ++j) sum = sm::add(sum, value(int(j)));
    tree[g] = sum;
  }
  return finish_tree(n, tree, false);
}

// ---- Steps -----------------------------------------------------------------------------------

// A row's allowed-token mask (SampleRow::allowed): null words means every token is allowed.
struct RowMask {
  const uint32_t* words;
  int count;
  __device__ bool allows(int i) const {
    return words == nullptr || (i / 32 < count && ((words[i / 32] >> (i % 32)) & 1u) != 0);
  }
  // The row as the sampler sees it: disallowed logits are -inf (sampling.h).
  __device__ float logit(const float* raw, int i) const { return allows(i) ? raw[i] : -INFINITY; }
};

__device__ RowMask row_mask(const DeviceSampleRow& p, const uint32_t* masks) {
  if (p.forced_id >= 0 || p.mask_words <= 0) return RowMask{nullptr, 0};
  return RowMask{masks + p.mask_begin, p.mask_words};
}

__device__ float logprob(float raw, double log_norm) {
  return float(double(raw) - log_norm);
}

// log(sum(exp(raw - max))) + max in f64, as log_softmax() in backend/sampling.cc (NaN is skipped
// by the max and poisons the sum, as there).
__device__ double log_norm_of(const float* raw, int n, RowMask mask, Scratch& s) {
  float max = -INFINITY;
  for (int i = threadIdx.x; i < n; i += kThreads) max = fmaxf(max, mask.logit(raw, i));
  max = block_reduce(max, MaxFloat{}, s.f);
  double sum = 0.0;
  for (int i = threadIdx.x; i < n; i += kThreads)
    sum += exp(double(mask.logit(raw, i)) - double(max));
  sum = block_reduce(sum, SumDouble{}, s.d);
  return log(sum) + double(max);
}

// Step 8's alternatives: `count` passes, each taking the best (allowed) after the previous one.
__device__ void write_top(const float* raw, int n, int count, double log_norm, RowMask mask,
                          int32_t* top_ids, float* top_logprobs, Scratch& s) {
  Candidate previous{0.0f, -1};
  for (int k = 0; k < count; ++k) {
    const Candidate c = best_after(raw, n, previous, s, mask.words, mask.count);
    if (c.id < 0) {  // fewer tokens than asked for
      if (threadIdx.x == 0) top_ids[k] = -1;
      break;
    }
    if (threadIdx.x == 0) {
      top_ids[k] = c.id;
      top_logprobs[k] = logprob(raw[c.id], log_norm);
    }
    previous = c;
  }
}

__device__ bool penalised(const DeviceSampleRow& p) {
  return p.repetition_penalty != 1.0f || p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f;
}

// Step 2 into w: the biased logits first (when the row has a bias), then the mask and the
// penalties.
__device__ void working_logits(const float* raw, int n, const DeviceSampleRow& p, RowMask mask,
                               const int32_t* histories, const LogitBias* biases, uint32_t* marks,
                               float* w) {
  const bool biased = p.bias_len > 0;
  if (biased) {
    for (int i = threadIdx.x; i < n; i += kThreads) w[i] = raw[i];
    __syncthreads();
    for (int b = threadIdx.x; b < p.bias_len; b += kThreads) {  // distinct ids: no two writers
      const LogitBias bias = biases[p.bias_begin + b];
      if (bias.id >= 0 && bias.id < n) w[bias.id] = sm::add(w[bias.id], bias.bias);
    }
    __syncthreads();
  }
  const float* source = biased ? w : raw;
  const bool penalise = penalised(p);
  if (penalise) {
    for (int i = threadIdx.x; i < n; i += kThreads) marks[i] = 0;
    __syncthreads();
    for (int h = threadIdx.x; h < p.history_len; h += kThreads) {
      const int32_t t = histories[p.history_begin + h];
      if (t < 0 || t >= n) continue;
      atomicOr(&marks[t], 1u);
      if (h >= p.prompt_len) atomicAdd(&marks[t], 2u);
    }
    __syncthreads();
  }
  for (int i = threadIdx.x; i < n; i += kThreads) {
    float v = mask.logit(source, i);  // each thread reads and writes only its own i
    if (penalise) {
      const uint32_t m = marks[i];
      v = sm::penalise(v, (m & 1u) != 0, int32_t(m >> 1), p.repetition_penalty, p.frequency_penalty,
                       p.presence_penalty);
    }
    w[i] = sm::sanitize(v);
  }
  __syncthreads();
}

__device__ bool is_sampled(const DeviceSampleRow& p) {
  return p.forced_id < 0 && p.temperature > 0.0f;
}

__global__ void __launch_bounds__(kThreads)
    prepare_rows(const float* logits, int64_t vocab, const DeviceSampleRow* params,
                 const int32_t* histories, const uint32_t* masks, const LogitBias* biases,
                 Workspace ws, int key_shift,
                 int32_t* ids, float* logprobs, int32_t* top_ids, float* top_logprobs) {
  __shared__ Scratch scratch;
  const int row = blockIdx.x;
  const int n = int(vocab);
  const DeviceSampleRow p = params[row];
  const size_t base = size_t(row) * size_t(vocab);
  const float* raw = logits + base;
  const RowMask mask = row_mask(p, masks);
  const double log_norm = log_norm_of(raw, n, mask, scratch);
  if (threadIdx.x == 0) ws.log_norm[row] = log_norm;
  write_top(raw, n, min(max(p.top_logprobs, 0), kTopWidth), log_norm, mask,
            top_ids + size_t(row) * kTopWidth, top_logprobs + size_t(row) * kTopWidth, scratch);
  bool sort = false;
  if (p.forced_id >= 0) {  // step 1 (an id past the vocabulary gets a NaN logprob)
    if (threadIdx.x == 0) {
      ids[row] = p.forced_id;
      logprobs[row] = p.forced_id < n ? logprob(raw[p.forced_id], log_norm) : NAN;
    }
  } else {
    float* w = ws.w + base;
    working_logits(raw, n, p, mask, histories, biases, ws.marks + base, w);
    if (!is_sampled(p)) {  // step 3
      const Candidate best = best_after(w, n, Candidate{0.0f, -1}, scratch);
      if (threadIdx.x == 0) {
        ids[row] = best.id;
        logprobs[row] = logprob(raw[best.id], log_norm);
      }
    } else {  // step 4's order, by the sort
      uint64_t* keys = ws.keys[0] + base;
      for (int i = threadIdx.x; i < n; i += kThreads)
        keys[i] = (uint64_t(sm::descending_logit_key(w[i])) << key_shift) | uint64_t(i);
      sort = true;
    }
  }
  if (threadIdx.x == 0) {
    ws.segment_begin[row] = int(base);
    ws.segment_end[row] = int(base) + (sort ? n : 0);
  }
}

// One sampled row's candidate arrays.
struct RowArrays {
  float* x;
  float* e;
  float* run;
  float* tree;
};

// Step 5: how many candidates the nucleus keeps.
__device__ int nucleus(const RowArrays& r, int n, float top_p, Scratch& s) {
  const float target = sm::mul(top_p, sum_tree(r.e, n, r.run, r.tree));
  int first = INT_MAX;
  for (int j = threadIdx.x; j < n; j += kThreads)
    if (sm::prefix_mass(j, n, r.run, r.tree) >= target) {
      first = j;  // this thread's smallest
      break;
    }
  first = block_reduce(first, MinInt{}, s.i);
  return first == INT_MAX ? n : first + 1;
}

// The candidates kept by typical-p: typical-order keys (distance bits, position) up to
// (bits, position).
struct TypicalCut {
  uint32_t bits;
  int position;
  __device__ bool keeps(float distance, int j) const {
    const uint32_t b = sm::float_bits(distance);
    return b < bits || (b == bits && j <= position);
  }
};

__device__ float kept_mass(const RowArrays& r, int n, TypicalCut cut) {
  return sum_values(n, r.tree, [&](int j) { return cut.keeps(r.x[j], j) ? r.e[j] : 0.0f; });
}

// The shortest prefix of the typical order whose mass reaches target, found by bisecting on the
// key (the mass only grows with the key): first the distance bits, then the position among
// equal distances. The first key in typical order bounds the search from below, so at least one
// candidate is kept, as in the reference.
__device__ TypicalCut typical_cut(const RowArrays& r, int n, float target, Scratch& s) {
  unsigned long long first = ~0ull;
  for (int j = threadIdx.x; j < n; j += kThreads) {
    const unsigned long long key =
        (static_cast<unsigned long long>(sm::float_bits(r.x[j])) << 32) | unsigned(j);
    first = key < first ? key : first;
  }
  first = block_reduce(first, MinU64{}, s.u);
  const uint32_t first_bits = uint32_t(first >> 32);
  uint32_t lo = first_bits, hi = 0xffffffffu;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (kept_mass(r, n, TypicalCut{mid, INT_MAX}) >= target)
      hi = mid;
    else
      lo = mid + 1;
  }
  int position_lo = lo == first_bits ? int(uint32_t(first)) : 0, position_hi = n - 1;
  while (position_lo < position_hi) {
    const int mid = position_lo + (position_hi - position_lo) / 2;
    if (kept_mass(r, n, TypicalCut{lo, mid}) >= target)
      position_hi = mid;
    else
      position_lo = mid + 1;
  }
  return TypicalCut{lo, position_lo};
}

// Step 6: zeroes the weights of the candidates outside the locally typical set.
__device__ void keep_typical(const RowArrays& r, int n, float typical_p, Scratch& s) {
  const float total = sum_tree(r.e, n, nullptr, r.tree);
  const float weighted =
      sum_values(n, r.tree, [&](int j) { return r.e[j] > 0.0f ? sm::mul(r.e[j], r.x[j]) : 0.0f; });
  const float mean = sm::div(weighted, total);
  for (int j = threadIdx.x; j < n; j += kThreads) r.x[j] = sm::abs(sm::sub(r.x[j], mean));
  __syncthreads();
  const TypicalCut cut = typical_cut(r, n, sm::mul(typical_p, total), s);
  for (int j = threadIdx.x; j < n; j += kThreads)
    if (!cut.keeps(r.x[j], j)) r.e[j] = 0.0f;
  __syncthreads();
}

// Step 7: the position drawn by inverse CDF.
__device__ int draw_position(const RowArrays& r, int n, float u, Scratch& s) {
  const float target = sm::mul(u, sum_tree(r.e, n, r.run, r.tree));
  int first = INT_MAX;
  for (int j = threadIdx.x; j < n; j += kThreads)
    if (sm::prefix_mass(j, n, r.run, r.tree) > target) {
      first = j;
      break;
    }
  first = block_reduce(first, MinInt{}, s.i);
  if (first != INT_MAX) return first;
  int last = -1;  // rounding put the target at the total: the last candidate with weight
  for (int j = threadIdx.x; j < n; j += kThreads)
    if (r.e[j] > 0.0f) last = j;
  last = block_reduce(last, MaxInt{}, s.i);
  return last >= 0 ? last : 0;
}

__global__ void __launch_bounds__(kThreads)
    draw_rows(const float* logits, int64_t vocab, const DeviceSampleRow* params, Workspace ws,
              const uint64_t* sorted_keys, int key_shift, int32_t* ids, float* logprobs) {
  __shared__ Scratch scratch;
  const int row = blockIdx.x;
  const DeviceSampleRow p = params[row];
  if (!is_sampled(p)) return;  // prepare_rows reported it
  const size_t base = size_t(row) * size_t(vocab);
  const uint64_t* keys = sorted_keys + base;
  const uint64_t id_mask = (uint64_t(1) << key_shift) - 1;
  const float* w = ws.w + base;
  const RowArrays r{ws.x + base, ws.e + base, ws.run + base,
                    ws.tree + size_t(row) * size_t(ws.tree_stride)};
  // Step 4.
  int n = p.top_k > 0 && p.top_k < vocab ? p.top_k : int(vocab);
  const float best = w[keys[0] & id_mask];
  for (int j = threadIdx.x; j < n; j += kThreads) {
    const float x = sm::scaled_logit(w[keys[j] & id_mask], best, p.temperature);
    r.x[j] = x;
    r.e[j] = sm::exp_nonpositive(x);
  }
  __syncthreads();
  if (p.top_p < 1.0f) n = nucleus(r, n, p.top_p, scratch);
  if (p.typical_p < 1.0f) keep_typical(r, n, p.typical_p, scratch);
  const int j = draw_position(r, n, philox_uniform(p.seed, p.draw_index), scratch);
  if (threadIdx.x == 0) {
    const int id = int(keys[j] & id_mask);
    ids[row] = id;
    logprobs[row] = logprob(logits[base + size_t(id)], ws.log_norm[row]);
  }
}

}  // namespace

size_t sampling_workspace_bytes(int max_rows, int64_t vocab) {
  if (max_rows <= 0) return 0;
  check_shape(max_rows, vocab);
  size_t bytes = 0;
  carve(nullptr, max_rows, vocab, bytes);
  return bytes;
}

void sample(const float* logits, int rows, int64_t vocab, const DeviceSampleRow* rows_params,
            const int32_t* histories, const uint32_t* masks, const LogitBias* biases,
            int32_t* ids, float* logprobs,
            int32_t* top_ids, float* top_logprobs, void* workspace, size_t workspace_bytes,
            cudaStream_t stream) {
  if (rows <= 0) return;
  check_shape(rows, vocab);
  LORAX_CHECK(reinterpret_cast<uintptr_t>(workspace) % kAlign == 0,
              "the sampling workspace must be 256-byte aligned");
  size_t needed = 0;
  const Workspace ws = carve(workspace, rows, vocab, needed);
  LORAX_CHECK(needed <= workspace_bytes, "sampling ", rows, " rows of ", vocab, " logits needs ",
              needed, " workspace bytes, got ", workspace_bytes);
  const int key_shift = id_bits(vocab);
  prepare_rows<<<rows, kThreads, 0, stream>>>(logits, vocab, rows_params, histories, masks, biases,
                                              ws,
                                              key_shift, ids, logprobs, top_ids, top_logprobs);
  LORAX_CUDA_CHECK_LAUNCH();
  cub::DoubleBuffer<uint64_t> keys(ws.keys[0], ws.keys[1]);
  size_t temp_bytes = ws.sort_temp_bytes;
  LORAX_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortKeys(
      ws.sort_temp, temp_bytes, keys, int(rows * vocab), rows,
      static_cast<const int*>(ws.segment_begin), static_cast<const int*>(ws.segment_end), 0,
      32 + key_shift, stream));
  draw_rows<<<rows, kThreads, 0, stream>>>(logits, vocab, rows_params, ws, keys.Current(),
                                           key_shift, ids, logprobs);
  LORAX_CUDA_CHECK_LAUNCH();
}

}  // namespace lorax::cuda
