// Writing a file so that a crash leaves either the old file or the new one: the
// data goes to a temporary file beside it, which is fsynced and renamed into place,
// and the directory is fsynced. Checkpoints, weights and .npy outputs use it.
#pragma once

#include <string>

namespace nng {

// Throws UserError naming `path` when any step fails (the temporary file is removed).
void writeFileAtomically(const std::string &path, const std::string &data);

} // namespace nng
