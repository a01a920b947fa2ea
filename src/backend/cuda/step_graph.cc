#include "backend/cuda/step_graph.h"

#include "backend/cuda/cuda_check.h"

namespace lorax::cuda {

void begin_capture(cudaStream_t stream) {
  LORAX_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
}

CudaStepGraph::CudaStepGraph(cudaStream_t stream) : stream_(stream) {
  LORAX_CUDA_CHECK(cudaStreamEndCapture(stream, &graph_));
  LORAX_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
}

CudaStepGraph::~CudaStepGraph() {
  if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
  if (graph_ != nullptr) cudaGraphDestroy(graph_);
}

void CudaStepGraph::replay() {
  LORAX_CUDA_CHECK(cudaGraphLaunch(exec_, stream_));
}

}  // namespace lorax::cuda
