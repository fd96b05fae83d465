// Linked into every target of a sanitizer build (cmake/sanitizers.cmake). Exit handlers run in reverse order of
// registration, and OpenSSL registers its cleanup on its first initialisation. cpprestsdk starts its thread pool
// on first use and joins it at exit; when OpenSSL was first initialised after that (on a pool thread, as it is), its
// cleanup runs first and drops the thread-exit handler, so each pool thread's OpenSSL state (error queue, random
// generators) is never freed and LeakSanitizer reports it. Initialising OpenSSL before main puts its cleanup last.
#include <openssl/ssl.h>

namespace {
[[maybe_unused]] const int openSslFirst = OPENSSL_init_ssl(0, nullptr);
}  // namespace
