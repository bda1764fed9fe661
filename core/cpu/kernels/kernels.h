// The CPU kernel library in one include: every forward/backward kernel the CPU
// executor calls, the optimizer updates, and their helpers. Conventions (argument
// order, nullptr gradients, determinism): common.h.
#pragma once

#include "core/cpu/kernels/common.h"
#include "core/cpu/kernels/conv.h"
#include "core/cpu/kernels/elementwise.h"
#include "core/cpu/kernels/linalg.h"
#include "core/cpu/kernels/loss.h"
#include "core/cpu/kernels/nn.h"
#include "core/cpu/kernels/norm.h"
#include "core/cpu/kernels/optim.h"
#include "core/cpu/kernels/reduction.h"
#include "core/cpu/kernels/shape_ops.h"
