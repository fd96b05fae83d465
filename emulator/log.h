#pragma once
// The emulator's own logger: stderr only (stdout carries just the start-up line), one line per request,
// never tokens or secrets.
#include <memory>

namespace spdlog {
class logger;
}

namespace anf::emulator {

std::shared_ptr<spdlog::logger> emulatorLog();

}  // namespace anf::emulator
