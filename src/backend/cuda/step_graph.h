// A CUDA graph recorded from the backend's stream and its executable instance (RAII).
#pragma once

#include <cuda_runtime.h>

#include "backend/backend.h"

namespace lorax::cuda {

class CudaStepGraph final : public StepGraph {
 public:
  // Ends the capture begun on `stream` and instantiates what it recorded.
  explicit CudaStepGraph(cudaStream_t stream);
  ~CudaStepGraph() override;
  CudaStepGraph(const CudaStepGraph&) = delete;
  CudaStepGraph& operator=(const CudaStepGraph&) = delete;

  void replay() override;

 private:
  cudaStream_t stream_;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

// Starts recording the stream's work (this thread's only: another thread's CUDA calls, such as
// an adapter being read into pinned memory, neither join the graph nor break the capture).
void begin_capture(cudaStream_t stream);

}  // namespace lorax::cuda
