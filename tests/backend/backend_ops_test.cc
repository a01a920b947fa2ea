// Every op of backend.h on every available backend against the CPU reference, on fresh random
// inputs at several shapes (the idea of llama.cpp's test-backend-ops). Inputs are rounded to the
// activation dtype first, so both sides see the same values; the device's results are compared
// by normalized mean squared error with the tolerances below, one per activation dtype.
//
// The CPU is also run against itself, which keeps the harness honest where no GPU is present;
// GPU devices skip, saying why, when the build has no CUDA backend or the machine no GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "backend/cpu/cpu_backend.h"
#include "support/devices.h"

namespace lorax {
namespace {

using testing::fetch_f32;
using testing::nmse;
using testing::put;
using testing::round_to;
using testing::TestDevice;

// The tolerances, in one place: NMSE of a device's output against the CPU's.
// f32: different summation orders and device libm (a few ulp). bf16: one rounding of every
// output to 8 bits of mantissa is ~1.3e-6; chained roundings and bf16 attention probabilities
// stay well under the bound. An FP8 cache read back differs by the quantisation of the values
// that land on a rounding boundary differently.
double tolerance(DType activation) {
  return activation == DType::F32 ? 1e-10 : 1e-4;
}
constexpr double kFp8StoreTolerance = 1e-3;

Tensor random_f32(const Shape& shape, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  Tensor t = Tensor::empty(shape, DType::F32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

Tensor i32(const std::vector<int32_t>& values) {
  Tensor t = Tensor::empty({int64_t(values.size())}, DType::I32);
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

class BackendOps : public ::testing::TestWithParam<TestDevice> {
 protected:
  void SetUp() override {
    const std::string why = testing::unavailable_reason(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
    device_ = testing::make_test_backend(GetParam());
    act_ = GetParam().activation;
  }
  Backend& dev() { return *device_; }
  // Host f32 values rounded to the activation dtype: the reference's input.
  Tensor rounded(const Tensor& t) const { return round_to(t, act_); }
  void expect_close(const Tensor& device_out, const Tensor& reference, const std::string& what,
                    double bound = -1) {
    const double err = nmse(fetch_f32(*device_, device_out), reference);
    EXPECT_LT(err, bound >= 0 ? bound : tolerance(act_)) << what << " on " << GetParam().name;
  }

  // Samples `rows` of `logits` on the CPU and on the device: ids and alternatives must agree
  // exactly, log-probabilities to f32 accuracy. Returns the CPU's results.
  std::vector<TokenLogprob> expect_same_samples(const Tensor& logits,
                                                const std::vector<SampleRow>& rows) {
    StepCapacity cap;
    cap.max_tokens = cap.max_sequences = logits.dim(0);
    cap.vocab = logits.dim(1);
    dev().reserve(cap);
    const auto ref = cpu_.sample(logits, rows);
    const auto got = dev().sample(dev().upload(logits), rows);
    EXPECT_EQ(got.size(), ref.size());
    for (size_t r = 0; r < std::min(ref.size(), got.size()); ++r) {
      EXPECT_EQ(got[r].id, ref[r].id) << "row " << r << " vocab " << cap.vocab;
      EXPECT_NEAR(got[r].logprob, ref[r].logprob, 2e-4) << "row " << r;
      EXPECT_EQ(got[r].top.size(), ref[r].top.size()) << "row " << r;
      for (size_t k = 0; k < std::min(ref[r].top.size(), got[r].top.size()); ++k) {
        EXPECT_EQ(got[r].top[k].first, ref[r].top[k].first) << "row " << r << " alt " << k;
        EXPECT_NEAR(got[r].top[k].second, ref[r].top[k].second, 2e-4) << "row " << r;
      }
    }
    return ref;
  }

  CpuBackend cpu_{2};
  std::unique_ptr<Backend> device_;
  DType act_ = DType::F32;
  std::mt19937 rng_{20261202};
};

TEST_P(BackendOps, Linear) {
  // Decode-sized row counts (1 to 65) at odd widths, and prefill-sized ones.
  for (auto [T, K, N] : {std::tuple<int64_t, int64_t, int64_t>{1, 64, 96},
                         {3, 4096, 1000},
                         {7, 100, 33},
                         {9, 128, 17},
                         {17, 160, 50},
                         {33, 256, 512},
                         {64, 288, 70},
                         {65, 128, 64},
                         {130, 72, 200}}) {
    const Tensor x = rounded(random_f32({T, K}, rng_));
    const Tensor w = rounded(random_f32({N, K}, rng_, 0.1f));
    Tensor ref = Tensor::empty({T, N}, DType::F32);
    cpu_.linear(x, w, ref);
    const Tensor dw = put(dev(), w, dev().weight_dtype(DType::F32, act_));
    for (DType out_dtype : {act_, DType::F32}) {  // f32 out: the LM head's logits
      Tensor y = dev().alloc({T, N}, out_dtype);
      dev().linear(put(dev(), x, act_), dw, y);
      expect_close(y, ref, "linear " + std::to_string(T) + "x" + std::to_string(K) + "x" +
                               std::to_string(N));
    }
  }
}

// A Medusa head's residual block, out = x + silu(y + bias), out apart from x and in place.
TEST_P(BackendOps, BiasSiluResidual) {
  for (auto [T, N] : {std::pair<int64_t, int64_t>{1, 64}, {7, 100}, {33, 4096}}) {
    const Tensor x = rounded(random_f32({T, N}, rng_));
    const Tensor y = rounded(random_f32({T, N}, rng_, 2.0f));
    const Tensor bias = random_f32({N}, rng_);
    Tensor ref = Tensor::empty({T, N}, DType::F32);
    cpu_.bias_silu_residual(x, y, bias, ref);
    const int64_t i = T * N - 1;  // the formula itself, on the last element
    const float v = y.data<float>()[i] + bias.data<float>()[N - 1];
    EXPECT_NEAR(ref.data<float>()[i], x.data<float>()[i] + v / (1.0f + std::exp(-v)), 1e-5f);
    const std::string what = "bias_silu_residual " + std::to_string(T) + "x" + std::to_string(N);
    const Tensor dbias = put(dev(), bias, DType::F32);
    Tensor out = dev().alloc({T, N}, act_);
    dev().bias_silu_residual(put(dev(), x, act_), put(dev(), y, act_), dbias, out);
    expect_close(out, ref, what);
    Tensor inplace = put(dev(), x, act_);
    dev().bias_silu_residual(inplace, put(dev(), y, act_), dbias, inplace);
    expect_close(inplace, ref, what + " in place");
    dev().bias_silu_residual(put(dev(), x, act_), put(dev(), y, DType::F32), dbias, out);
    expect_close(out, ref, what + " with y in f32");
  }
}

// The residual stream may be f32 beside bf16 activations (the model keeps it so).
TEST_P(BackendOps, RmsNormPlainFusedAndAdd) {
  for (DType stream : {act_, DType::F32})
  for (int64_t H : {64, 72, 100, 4096})
    for (int64_t T : {1, 5, 33})
      for (float offset : {0.0f, 1.0f}) {
        const Tensor x = rounded(random_f32({T, H}, rng_));
        const Tensor r = rounded(random_f32({T, H}, rng_));
        const Tensor w = random_f32({H}, rng_, 0.5f);
        const std::string what = "H " + std::to_string(H) + " T " + std::to_string(T);
        Tensor ref = Tensor::empty({T, H}, DType::F32);
        cpu_.rms_norm(x, w, 1e-5f, offset, ref);
        Tensor out = dev().alloc({T, H}, act_);
        const Tensor dw = put(dev(), w, DType::F32);
        dev().rms_norm(put(dev(), x, stream), dw, 1e-5f, offset, out);
        expect_close(out, ref, "rms_norm " + what);

        Tensor ref_residual = r.clone();
        cpu_.add_rms_norm(ref_residual, x, w, 1e-5f, offset, ref);
        Tensor residual = put(dev(), r, stream);
        dev().add_rms_norm(residual, put(dev(), x, act_), dw, 1e-5f, offset, out);
        expect_close(residual, ref_residual, "add_rms_norm residual " + what);
        expect_close(out, ref, "add_rms_norm " + what);

        Tensor sum = put(dev(), r, stream);
        dev().add(sum, put(dev(), x, act_));
        expect_close(sum, ref_residual, "add " + what);
      }
}

TEST_P(BackendOps, EmbeddingAndRowGather) {
  for (int64_t H : {64, 100}) {
    const Tensor table = random_f32({300, H}, rng_);
    const std::vector<int32_t> ids = {0, 299, 17, 17, 150, 3};
    for (DType table_dtype : {DType::F32, DType::BF16, DType::F16}) {
      const Tensor host_table = round_to(table, table_dtype);
      Tensor ref = Tensor::empty({int64_t(ids.size()), H}, DType::F32);
      cpu_.embedding(i32(ids), host_table, 1.5f, ref);
      ref = rounded(ref);
      Tensor out = dev().alloc({int64_t(ids.size()), H}, act_);
      dev().embedding(dev().upload_i32(ids), put(dev(), table, table_dtype), 1.5f, out);
      expect_close(out, ref, "embedding H " + std::to_string(H));

      const std::vector<int32_t> rows = {5, 0, 2, 2};
      Tensor gathered_ref = Tensor::empty({4, H}, DType::F32);
      cpu_.gather_rows(ref, i32(rows), gathered_ref);
      Tensor gathered = dev().alloc({4, H}, act_);
      dev().gather_rows(out, dev().upload_i32(rows), gathered);
      expect_close(gathered, gathered_ref, "gather_rows H " + std::to_string(H));
    }
  }
}

TEST_P(BackendOps, GatedActivations) {
  for (Activation f : {Activation::Silu, Activation::GeluTanh, Activation::GeluErf})
    for (int64_t I : {64, 100, 1000})
      for (int64_t T : {1, 9}) {
        const Tensor gate_up = rounded(random_f32({T, 2 * I}, rng_, 2.0f));
        Tensor ref = Tensor::empty({T, I}, DType::F32);
        cpu_.gated_activation(gate_up, f, ref);
        Tensor out = dev().alloc({T, I}, act_);
        dev().gated_activation(put(dev(), gate_up, act_), f, out);
        expect_close(out, ref, std::string(activation_name(f)) + " I " + std::to_string(I));
      }
}

// The head layouts every attention test covers: GQA ratios 1, 2, 4, 8, MQA, head_dim 8 to 256.
const HeadLayout kHeadLayouts[] = {{4, 2, 8},  {8, 8, 16}, {4, 1, 32}, {8, 2, 64},
                                   {8, 1, 48}, {4, 4, 128}, {16, 2, 128}, {2, 1, 256}};

// A rotary table like the model's: cos then sin of position times frequency.
Tensor rope_table(int64_t positions, int64_t D) {
  Tensor t = Tensor::empty({positions, D}, DType::F32);
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t i = 0; i < D / 2; ++i) {
      const double angle = double(p) * std::pow(10000.0, -2.0 * double(i) / double(D));
      t.data<float>()[p * D + i] = float(std::cos(angle));
      t.data<float>()[p * D + D / 2 + i] = float(std::sin(angle));
    }
  return t;
}

KvCacheLayer host_cache(int64_t blocks, int64_t block_size, const HeadLayout& h, DType dtype,
                        std::mt19937& rng) {
  KvCacheLayer c;
  c.k = round_to(random_f32({blocks, block_size, h.num_kv_heads, h.head_dim}, rng), dtype);
  c.v = round_to(random_f32({blocks, block_size, h.num_kv_heads, h.head_dim}, rng), dtype);
  if (dtype == DType::F8E4M3) c.k_scale = 0.5f, c.v_scale = 2.0f;
  return c;
}

// A host cache's contents in `dtype` (f32 values that are exact in it), on a backend.
KvCacheLayer put_cache(Backend& b, const KvCacheLayer& c, DType dtype) {
  KvCacheLayer out;
  out.k = put(b, c.k, dtype);
  out.v = put(b, c.v, dtype);
  out.k_scale = c.k_scale;
  out.v_scale = c.v_scale;
  return out;
}

TEST_P(BackendOps, RotaryFusedWithTheKvWrite) {
  for (const HeadLayout& h : kHeadLayouts)
    for (DType cache_dtype : {DType::F32, DType::BF16, DType::F16, DType::F8E4M3}) {
      const int64_t T = 11, block_size = 16, blocks = 4;
      const Tensor qkv = rounded(random_f32({T, h.qkv_width()}, rng_));
      const Tensor table = rope_table(64, h.head_dim);
      const std::vector<int32_t> positions = {0, 1, 2, 63, 5, 7, 9, 40, 41, 42, 3};
      const std::vector<int32_t> slots = {0, 1, 17, 18, 63, -1, 40, 2, 3, 50, 33};
      const float scale = cache_dtype == DType::F8E4M3 ? 0.75f : 1.0f;
      const KvCacheLayer initial = host_cache(blocks, block_size, h, DType::F32, rng_);
      KvCacheLayer ref = put_cache(cpu_, initial, DType::F32);
      Tensor ref_qkv = qkv.clone();
      cpu_.rotary_kv_write(ref_qkv, i32(positions), table, h, i32(slots), ref);
      KvCacheLayer cache = put_cache(dev(), initial, cache_dtype);
      cache.k_scale = cache.v_scale = scale;
      Tensor out = put(dev(), qkv, act_);
      dev().rotary_kv_write(out, dev().upload_i32(positions), dev().upload(table), h,
                            dev().upload_i32(slots), cache);
      const std::string what = "rotary D " + std::to_string(h.head_dim) + " cache " +
                               std::string(dtype_name(cache_dtype));
      expect_close(out, rounded(ref_qkv), what);
      // The written rows, read back, against the reference rounded the way the store rounds:
      // to the activation dtype, then (divided by the scale) to the cache dtype.
      const Tensor k = fetch_f32(dev(), cache.k), v = fetch_f32(dev(), cache.v);
      const int64_t width = h.kv_width();
      Tensor got = Tensor::empty({2 * T, width}, DType::F32);
      Tensor want = Tensor::empty({2 * T, width}, DType::F32);
      int64_t n = 0;
      for (int32_t slot : slots) {
        if (slot < 0) continue;
        for (int side = 0; side < 2; ++side, ++n) {
          const Tensor& stored = side == 0 ? k : v;
          const Tensor& reference = side == 0 ? ref.k : ref.v;
          const Tensor row = rounded(reference.reshape({reference.numel() / width, width}).rows(slot, slot + 1).clone());
          Tensor quantised = row.clone();
          for (int64_t i = 0; i < width; ++i) quantised.data<float>()[i] /= scale;
          quantised = round_to(quantised, cache_dtype);
          for (int64_t i = 0; i < width; ++i) {
            want.data<float>()[n * width + i] = quantised.data<float>()[i] * scale;
            got.data<float>()[n * width + i] = stored.data<float>()[slot * width + i] * scale;
          }
        }
      }
      const double bound = cache_dtype == DType::F8E4M3 ? kFp8StoreTolerance
                           : cache_dtype == DType::F32  ? tolerance(act_)
                                                        : 1e-4;
      EXPECT_LT(nmse(got.rows(0, n), want.rows(0, n)), bound)
          << what << " stored rows on " << GetParam().name;
    }
}

// A step of query chunks: (q_len, seqlen) per sequence.
struct ChunkCase {
  const char* name;
  std::vector<std::pair<int32_t, int32_t>> seqs;
};

const ChunkCase kChunkCases[] = {
    {"decode", {{1, 1}, {1, 17}, {1, 33}, {1, 200}}},
    {"long decode (split context)", {{1, 1500}, {1, 700}, {1, 2}}},
    {"prefill", {{5, 5}, {40, 40}, {1, 1}, {70, 70}}},
    {"chunks after cached tokens", {{7, 30}, {16, 16}, {33, 100}, {1, 64}}},
};

TEST_P(BackendOps, AttentionOverChunksOfThePagedCache) {
  for (const HeadLayout& h : kHeadLayouts)
    for (DType cache_dtype : {DType::F32, DType::BF16, DType::F16, DType::F8E4M3})
      for (int64_t block_size : {16, 32})
        for (const ChunkCase& cc : kChunkCases) {
          if (h.head_dim == 256 && cache_dtype == DType::F32) continue;  // covered by the others
          // Scattered blocks: every sequence's table is a random pick of the pool.
          int32_t max_blocks = 0, total_q = 0, max_q = 0, max_s = 0;
          for (auto [q, s] : cc.seqs) {
            max_blocks = std::max<int32_t>(max_blocks, int32_t((s + block_size - 1) / block_size));
            total_q += q, max_q = std::max(max_q, q), max_s = std::max(max_s, s);
          }
          const int64_t B = int64_t(cc.seqs.size()), pool = B * max_blocks + 3;
          std::vector<int32_t> ids(static_cast<size_t>(pool));
          std::iota(ids.begin(), ids.end(), 0);
          std::shuffle(ids.begin(), ids.end(), rng_);
          std::vector<int32_t> tables(size_t(B * max_blocks), -1), cu = {0}, lens;
          for (int64_t b = 0; b < B; ++b) {
            for (int64_t k = 0; k < (cc.seqs[size_t(b)].second + block_size - 1) / block_size; ++k)
              tables[size_t(b * max_blocks + k)] = ids[size_t(b * max_blocks + k)];
            cu.push_back(cu.back() + cc.seqs[size_t(b)].first);
            lens.push_back(cc.seqs[size_t(b)].second);
          }
          const KvCacheLayer host = host_cache(pool, block_size, h, cache_dtype, rng_);
          const Tensor qkv = rounded(random_f32({total_q, h.qkv_width()}, rng_));
          const float scale = float(1.0 / std::sqrt(double(h.head_dim)));
          auto chunks_on = [&](Backend& b) {
            AttentionChunks c;
            c.cu_seqlens_q = b.upload_i32(cu);
            c.seqlens_k = b.upload_i32(lens);
            c.block_tables = b.upload_i32(tables).reshape({B, max_blocks});
            c.max_q = max_q;
            c.max_s = max_s;
            return c;
          };
          Tensor ref = Tensor::empty({total_q, h.q_width()}, DType::F32);
          KvCacheLayer ref_cache = host;  // f32 values exactly representable in cache_dtype
          ref_cache.k = round_to(host.k, DType::F32);
          ref_cache.v = round_to(host.v, DType::F32);
          {
            // The CPU reads an f32 cache; scale its values as an fp8 cache would be read back.
            for (int64_t i = 0; i < ref_cache.k.numel(); ++i) {
              ref_cache.k.data<float>()[i] *= host.k_scale;
              ref_cache.v.data<float>()[i] *= host.v_scale;
            }
            KvCacheLayer plain = ref_cache;
            plain.k_scale = plain.v_scale = 1.0f;
            cpu_.attention(qkv, plain, chunks_on(cpu_), h, scale, ref);
          }
          const KvCacheLayer cache = put_cache(dev(), host, cache_dtype);
          Tensor out = dev().alloc({total_q, h.q_width()}, act_);
          StepCapacity cap;
          cap.max_tokens = total_q, cap.max_sequences = B, cap.max_context = 2048, cap.heads = h;
          dev().reserve(cap);
          dev().attention(put(dev(), qkv, act_), cache, chunks_on(dev()), h, scale, out);
          expect_close(out, ref,
                       std::string(cc.name) + " D " + std::to_string(h.head_dim) + " Hq/Hkv " +
                           std::to_string(h.num_heads) + "/" + std::to_string(h.num_kv_heads) +
                           " cache " + std::string(dtype_name(cache_dtype)) + " block " +
                           std::to_string(block_size));
        }
}

// Three adapters of different ranks in three slots, one lacking k_proj; rows: base, then
// adapter 0, adapter 2, a gap of base rows, adapter 1 (the segments the model makes of that).
TEST_P(BackendOps, LoraOverSlotsAndSegments) {
  const int64_t H = 72, q = 64, kv = 32, vocab = 300;
  const int64_t ranks[] = {4, 16, 1};
  for (Backend* b : {static_cast<Backend*>(&cpu_), &dev()}) b->lora_configure(3, 1);
  for (int a = 0; a < 3; ++a) {
    auto set = std::make_shared<LoraWeightSet>();
    set->layers.resize(1);
    const int64_t outs[] = {q, kv, kv};
    for (int t = 0; t < 3; ++t) {
      if (a == 1 && t == 1) continue;  // adapter 1 leaves k_proj alone
      LoraWeights w;
      w.a = rounded(random_f32({ranks[a], H}, rng_, 0.2f));
      w.b = rounded(random_f32({outs[t], ranks[a]}, rng_, 0.2f));
      w.scale = 0.5f + float(a);
      set->layers[0][size_t(t)] = std::move(w);
    }
    LoraWeights head;
    head.a = rounded(random_f32({ranks[a], H}, rng_, 0.2f));
    head.b = rounded(random_f32({vocab, ranks[a]}, rng_, 0.2f));
    head.scale = 2.0f;
    set->lm_head = std::move(head);
    cpu_.lora_load(a, set, DType::F32);
    dev().lora_load(a, set, act_);
  }
  StepCapacity cap;
  cap.max_tokens = 64, cap.max_sequences = 8, cap.max_lora_rank = 16;
  dev().reserve(cap);
  const std::vector<int32_t> row_slot = {-1, -1, 0, 0, 0, 2, -1, -1, 1, 1, 1, 1, 1};
  const std::vector<int32_t> seg_start = {2, 5, 6, 8, 13}, seg_slot = {0, 2, -1, 1};
  const int64_t T = int64_t(row_slot.size());
  auto step_on = [&](Backend& b) {
    LoraStep s;
    s.seg_start = b.upload_i32(seg_start);
    s.seg_slot = b.upload_i32(seg_slot);
    s.row_slot = b.upload_i32(row_slot);
    s.host_seg_start = seg_start;
    s.host_seg_slot = seg_slot;
    s.max_rank = 16;
    return s;
  };
  const Tensor x = rounded(random_f32({T, H}, rng_));
  const Tensor y0 = rounded(random_f32({T, q + 2 * kv}, rng_));
  const LoraSlice qkv_slices[] = {
      {LoraTarget::QProj, 0}, {LoraTarget::KProj, q}, {LoraTarget::VProj, q + kv}};
  Tensor ref = y0.clone();
  cpu_.lora(x, step_on(cpu_), 0, qkv_slices, ref);
  Tensor y = put(dev(), y0, act_);
  dev().lora(put(dev(), x, act_), step_on(dev()), 0, qkv_slices, y);
  expect_close(y, ref, "lora q/k/v");
  EXPECT_GT(nmse(ref, y0), 1e-4) << "the adapters change the rows they cover";
  for (int64_t c = 0; c < q + 2 * kv; ++c)  // base rows untouched
    EXPECT_EQ(ref.data<float>()[c], y0.data<float>()[c]);

  // The LM head: f32 logits from activations of the device's dtype.
  const Tensor logits0 = random_f32({T, vocab}, rng_);
  const LoraSlice head[] = {{LoraTarget::LmHead, 0}};
  Tensor ref_logits = logits0.clone();
  cpu_.lora(x, step_on(cpu_), 0, head, ref_logits);
  Tensor logits = put(dev(), logits0, DType::F32);
  dev().lora(put(dev(), x, act_), step_on(dev()), 0, head, logits);
  expect_close(logits, ref_logits, "lora lm_head");
}

// Same logits on both sides: the chosen ids must agree exactly (the draws come from the same
// counter-based generator and the same candidate order), the logprobs to f32 accuracy. Two rows
// in three carry a logit bias (a boost, a ban, one on a penalised history token).
TEST_P(BackendOps, SamplingMatchesTheReferenceSampler) {
  for (int64_t vocab : {1000, 32000}) {
    const int64_t R = 24;
    const Tensor logits = random_f32({R, vocab}, rng_, 3.0f);
    std::vector<std::vector<int32_t>> histories(static_cast<size_t>(R));
    std::vector<std::vector<LogitBias>> biases(static_cast<size_t>(R));
    std::vector<SampleRow> rows(static_cast<size_t>(R));
    for (int64_t r = 0; r < R; ++r) {
      SampleRow& row = rows[size_t(r)];
      for (int i = 0; i < 20; ++i) histories[size_t(r)].push_back(int32_t((r * 37 + i * 11) % vocab));
      row.history = histories[size_t(r)];
      row.prompt_len = 8;
      row.draw_index = uint64_t(r * 3);
      row.params.seed = 1000 + uint64_t(r);
      row.top_logprobs = int(r % 6);
      switch (r % 8) {
        case 0: break;  // greedy
        case 1: row.params.temperature = 1.0f; break;
        case 2: row.params.temperature = 0.7f, row.params.top_k = 50; break;
        case 3: row.params.temperature = 1.2f, row.params.top_p = 0.9f; break;
        case 4: row.params.temperature = 1.0f, row.params.typical_p = 0.8f; break;
        case 5: row.params.repetition_penalty = 1.3f, row.params.frequency_penalty = 0.5f,
                row.params.presence_penalty = 0.4f, row.params.temperature = 0.9f; break;
        case 6: row.forced_id = int32_t((r * 101) % vocab), row.top_logprobs = 20; break;
        case 7: row.params.temperature = 0.5f, row.params.top_k = 5, row.params.top_p = 0.5f; break;
      }
      if (r % 3 != 2) {
        biases[size_t(r)] = {{int32_t((r * 53 + 7) % vocab), 6.5f},
                             {int32_t((r * 29 + 3) % vocab), -100.0f},
                             {histories[size_t(r)][10], 1.75f}};
        row.logit_bias = biases[size_t(r)];
      }
    }
    expect_same_samples(logits, rows);
  }
}

// Structured output: rows with allowed-token masks (dense, sparse, a single token, fewer allowed
// than the alternatives asked for, a mask shorter than the vocabulary) beside unmasked rows,
// under every sampling mode. Ids must agree exactly, logprobs (of the masked distribution) and
// the allowed alternatives to f32 accuracy.
TEST_P(BackendOps, SamplingWithAllowedMasksMatchesTheReferenceSampler) {
  for (int64_t vocab : {1000, 32000}) {
    const int64_t R = 16;
    const size_t words = size_t((vocab + 31) / 32);
    const Tensor logits = random_f32({R, vocab}, rng_, 3.0f);
    std::vector<std::vector<int32_t>> histories(static_cast<size_t>(R));
    std::vector<std::vector<uint32_t>> masks(static_cast<size_t>(R));
    std::vector<SampleRow> rows(static_cast<size_t>(R));
    std::uniform_int_distribution<uint32_t> bits;
    for (int64_t r = 0; r < R; ++r) {
      SampleRow& row = rows[size_t(r)];
      for (int i = 0; i < 20; ++i)
        histories[size_t(r)].push_back(int32_t((r * 29 + i * 7) % vocab));
      row.history = histories[size_t(r)];
      row.prompt_len = 8;
      row.draw_index = uint64_t(r * 5);
      row.params.seed = 2000 + uint64_t(r);
      row.top_logprobs = int(r % 4) * 5;
      std::vector<uint32_t>& mask = masks[size_t(r)];
      switch (r % 4) {
        case 0:
          break;  // unmasked
        case 1:   // about half the vocabulary
          mask.resize(words);
          for (uint32_t& w : mask) w = bits(rng_);
          break;
        case 2:  // a handful of tokens, fewer than the alternatives asked for
          mask.assign(words, 0u);
          for (int64_t id : {int64_t(3), vocab / 3, vocab / 2 + 1, vocab - 1})
            mask[size_t(id / 32)] |= 1u << (id % 32);
          break;
        case 3:  // one token, in a mask shorter than the vocabulary
          mask.assign(words / 2, 0u);
          mask[1] = 1u << 7;
          break;
      }
      row.allowed = mask;
      switch ((r / 4) % 4) {
        case 0:
          break;  // greedy
        case 1:
          row.params.temperature = 1.0f, row.params.top_k = 40;
          break;
        case 2:
          row.params.temperature = 1.1f, row.params.top_p = 0.9f,
          row.params.repetition_penalty = 1.2f;
          break;
        case 3:
          row.params.temperature = 0.8f, row.params.typical_p = 0.7f;
          break;
      }
    }
    const auto ref = expect_same_samples(logits, rows);
    for (size_t r = 0; r < ref.size(); ++r)
      EXPECT_TRUE(token_allowed(rows[r].allowed, ref[r].id)) << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, BackendOps, ::testing::ValuesIn(testing::all_test_devices()),
                         [](const auto& info) {
                           std::string name = info.param.name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace lorax
