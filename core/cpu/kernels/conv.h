// Convolution and pooling CPU kernels, NCHW: conv2d through im2col + GEMM (backward:
// dX through GEMM + col2im, dW through GEMM), max/avg pooling and global average
// pooling. Conventions: common.h.
//
// Sizes: x is [n, c, height, width]; the output is [n, f (or c), outH, outW] with
// outH = (height + 2 pad - kernelH) / stride + 1 (floor) and likewise outW: windows
// never start past the padded input (PyTorch's floor mode).
#pragma once

#include <cstdint>

#include "core/cpu/kernels/common.h"
#include "core/cpu/kernels/nn.h"

namespace nng::cpu {

// outH/outW of a convolution or pooling window (floor mode).
inline int64_t convOutSize(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

// Elements of T that conv2d_fwd and conv2d_bwd need in `workspace`: im2col column
// matrices ([c*kh*kw, outH*outW], one per image in flight forward; backward one per
// group in flight, with room for one image's dz [f, outH*outW] and its transpose).
// Depends on the OpenMP thread count at the time of the call (images run in
// parallel), so query it with the pool the kernels will use.
int64_t conv2d_workspace_size(int64_t n, int64_t c, int64_t height, int64_t width, int64_t f,
                              int64_t kh, int64_t kw, int64_t stride, int64_t pad);

// y[n, f, outH, outW] = act(cross-correlation of x with weight [f, c, kh, kw] + bias[f]),
// zero padding `pad` on each side; bias may be nullptr (plain conv2d: the sugar adds
// its bias with `add`), act is None for plain conv2d (fused_conv2d: any activation),
// applied per image right after its GEMM, while the output is in cache.
// Images run in parallel (single-threaded GEMMs) when there are at least as many as
// threads and the batch is big enough, else one after another with threaded GEMMs.
template <typename T>
void conv2d_fwd(T *y, const T *x, const T *weight, int64_t n, int64_t c, int64_t height,
                int64_t width, int64_t f, int64_t kh, int64_t kw, int64_t stride, int64_t pad,
                T *workspace, const T *bias = nullptr, Activation act = Activation::None);
// The backward through dz = dy * act'(y) (y: the forward's output, read only when act
// is not None; gelu, which needs the pre-activation, is refused): dx = col2im(weight^T
// dz) per image; dweight = sum over images of dz col(x)^T. The batch is split into at
// most 8 groups of consecutive images (by n alone); groups run in parallel, each
// summing its images in order, and the group sums are added in order: the summation
// order does not depend on the thread count. The group sums (up to 7 weight-sized
// buffers) are allocated here. Either grad may be nullptr.
template <typename T>
void conv2d_bwd(T *dx, T *dweight, const T *dy, const T *x, const T *weight, int64_t n, int64_t c,
                int64_t height, int64_t width, int64_t f, int64_t kh, int64_t kw, int64_t stride,
                int64_t pad, T *workspace, const T *y = nullptr, Activation act = Activation::None);
// dbias[f] = sum over images and positions of dy * act'(y) (y as in conv2d_bwd; nullptr
// for None), for dy and y of shape [n, f, hw]: the activation mask and the bias
// gradient in one pass, each channel summed in a fixed order.
template <typename T>
void conv2d_bias_bwd(T *dbias, const T *dy, const T *y, int64_t n, int64_t f, int64_t hw,
                     Activation act);

// The building blocks, for one image: col [c*kh*kw, outH*outW] from x [c, h, w], and
// the adjoint, which adds col's entries back onto a zeroed x.
template <typename T>
void im2col(T *col, const T *x, int64_t c, int64_t height, int64_t width, int64_t kh, int64_t kw,
            int64_t stride, int64_t pad);
template <typename T>
void col2im(T *x, const T *col, int64_t c, int64_t height, int64_t width, int64_t kh, int64_t kw,
            int64_t stride, int64_t pad);

// Pooling windows are kernel x kernel; stride 0 means stride = kernel (the registry's
// default), so the executor may pass the attribute as it is.
//
// Max pooling; padding never wins (it counts as -inf). argmax (nullable; int64 per
// output element) receives the winner's index inside its input plane
// (iy * width + ix), the first one in row-major window order on ties.
template <typename T>
void max_pool2d_fwd(T *y, int64_t *argmax, const T *x, int64_t n, int64_t c, int64_t height,
                    int64_t width, int64_t kernel, int64_t stride, int64_t pad);
// dx = 0 plus each dy added at its window's argmax (overlapping windows add up, in a
// fixed order per plane). argmax is the forward's, or nullptr to recompute it from x
// (what the graph's max_pool2d_grad(dy, y, x) has at hand).
template <typename T>
void max_pool2d_bwd(T *dx, const T *dy, const int64_t *argmax, const T *x, int64_t n, int64_t c,
                    int64_t height, int64_t width, int64_t kernel, int64_t stride, int64_t pad);
// The same with the saved argmax only (the first signature, kept for callers).
template <typename T>
void max_pool2d_bwd(T *dx, const T *dy, const int64_t *argmax, int64_t n, int64_t c, int64_t height,
                    int64_t width, int64_t kernel, int64_t stride, int64_t pad);

// Average pooling with count_include_pad = true (PyTorch's default): every window is
// divided by kernel * kernel, padded zeros included.
template <typename T>
void avg_pool2d_fwd(T *y, const T *x, int64_t n, int64_t c, int64_t height, int64_t width,
                    int64_t kernel, int64_t stride, int64_t pad);
template <typename T>
void avg_pool2d_bwd(T *dx, const T *dy, int64_t n, int64_t c, int64_t height, int64_t width,
                    int64_t kernel, int64_t stride, int64_t pad);

// y[n, c] = mean over the plane of x[n, c, :, :]; hw = height * width.
template <typename T> void global_avg_pool_fwd(T *y, const T *x, int64_t n, int64_t c, int64_t hw);
template <typename T>
void global_avg_pool_bwd(T *dx, const T *dy, int64_t n, int64_t c, int64_t hw);

} // namespace nng::cpu
