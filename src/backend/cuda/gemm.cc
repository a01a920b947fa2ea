#include "backend/cuda/gemm.h"

#include "backend/cuda/cuda_check.h"

namespace lorax::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t(32) << 20;  // what cuBLAS recommends for Hopper

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return CUDA_R_32F;
    case DType::BF16:
      return CUDA_R_16BF;
    case DType::F16:
      return CUDA_R_16F;
    default:
      fail("linear: unsupported dtype ", dtype_name(dtype), " on CUDA");
  }
}

}  // namespace

// Column-major view of the row-major product: C (N x T) = op(A) . B with A = w stored as a
// K x N column-major matrix (transposed), B = x as K x T, C = y as N x T (= y [T, N] row-major).
struct CublasLtGemm::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  ~Plan() {
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

CublasLtGemm::CublasLtGemm() {
  LORAX_CUBLAS_CHECK(cublasLtCreate(&handle_));
  workspace_.reserve(kWorkspaceBytes);
}

CublasLtGemm::~CublasLtGemm() {
  plans_.clear();
  if (handle_ != nullptr) cublasLtDestroy(handle_);
}

const CublasLtGemm::Plan& CublasLtGemm::plan_for(int64_t T, int64_t N, int64_t K, DType operands,
                                                 DType y_dtype) {
  const Key key{T, N, K, int(operands), int(y_dtype)};
  auto it = plans_.find(key);
  if (it != plans_.end()) return *it->second;
  auto plan = std::make_unique<Plan>();
  const cudaDataType_t ab = cuda_type(operands), c = cuda_type(y_dtype);
  LORAX_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t transpose = CUBLAS_OP_T, none = CUBLAS_OP_N;
  LORAX_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                                    &transpose, sizeof(transpose)));
  LORAX_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan->desc, CUBLASLT_MATMUL_DESC_TRANSB, &none,
                                                    sizeof(none)));
  LORAX_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->a, ab, uint64_t(K), uint64_t(N), K));
  LORAX_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->b, ab, uint64_t(K), uint64_t(T), K));
  LORAX_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan->c, c, uint64_t(N), uint64_t(T), N));
  cublasLtMatmulPreference_t preference = nullptr;
  LORAX_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
  const uint64_t workspace = workspace_.bytes();
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = [&] {
    cublasStatus_t s = cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace, sizeof(workspace));
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    return cublasLtMatmulAlgoGetHeuristic(handle_, plan->desc, plan->a, plan->b, plan->c, plan->c,
                                          preference, 1, &result, &found);
  }();
  cublasLtMatmulPreferenceDestroy(preference);
  LORAX_CUBLAS_CHECK(status);
  LORAX_CHECK(found > 0, "cuBLASLt has no algorithm for a ", T, " x ", N, " x ", K, " ",
              dtype_name(operands), " matmul");
  plan->algo = result.algo;
  return *plans_.emplace(key, std::move(plan)).first->second;
}

void CublasLtGemm::matmul(const void* x, const void* w, DType operands, void* y, DType y_dtype,
                          int64_t T, int64_t N, int64_t K, cudaStream_t stream) {
  if (T == 0 || N == 0) return;
  const Plan& plan = plan_for(T, N, K, operands, y_dtype);
  const float alpha = 1.0f, beta = 0.0f;
  LORAX_CUBLAS_CHECK(cublasLtMatmul(handle_, plan.desc, &alpha, w, plan.a, x, plan.b, &beta, y,
                                    plan.c, y, plan.c, &plan.algo, workspace_.data(),
                                    workspace_.bytes(), stream));
}

}  // namespace lorax::cuda
