// Subnormal floats on the CPU. A momentum buffer whose gradients are zero (pixels that
// are always black) decays by 0.9 a step into the subnormal range, where every multiply
// takes a microcode assist about a hundred times slower than a normal one: the SGD update
// of the 784-64-10 MLP spent 45% of the training step there. Like TensorFlow and oneDNN
// on the CPU, nng treats subnormals as zero (flush-to-zero and denormals-are-zero).
#pragma once

namespace nng::cpu {

// Sets FTZ and DAZ on the calling thread and on every thread of the OpenMP pool. Threads
// created afterwards inherit the setting from their creator (Linux copies the floating-
// point control state on thread creation). No-op where the CPU has no such mode.
void flushDenormals();

} // namespace nng::cpu
