#pragma once
// Test fixture: the Azure emulator as a child process over real HTTPS, reusable by any test suite
// (header-only; needs cpprestsdk, nlohmann_json, OpenSSL and Boost::system, and ANF_BINARY defined).
//
//   auto emulator = anf::testing::EmulatorProcess::start();          // std::expected<.., std::string>
//   ASSERT_TRUE(emulator) << emulator.error();
//   (*emulator)->resourceManager();                                  // "https://127.0.0.1:41234"
//   (*emulator)->tenant("provider").principals[0].clientSecret;
//   (*emulator)->control("PUT", "/_emulator/faults", {{"rules", ...}});
//
// It runs `ANF_BINARY emulator --listen 127.0.0.1:0 --ca-out <tmp>/ca.pem [extra args]`, reads the one
// JSON start-up line from stdout (issue 3), keeps stderr in <tmp>/emulator.log, and on destruction sends
// SIGTERM (SIGKILL after 5 s) and removes the temp dir (kept when ANF_KEEP_TEST_DIRS is set).
// The child dies with the test process (PR_SET_PDEATHSIG), so a crashed test leaves no emulator behind.
#include <utility>  // before Boost.Asio (via cpprest) under C++23

#include <cpprest/http_client.h>
#include <boost/asio/ssl.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace anf::testing {

struct EmulatorPrincipal {
  std::string name;
  std::string clientId;
  std::string clientSecret;
  std::string objectId;
};

struct EmulatorTenant {
  std::string tenantId;
  std::string name;
  std::vector<std::string> subscriptions;
  std::vector<EmulatorPrincipal> principals;

  /// The principal named `name` ("admin"); throws std::out_of_range when absent.
  const EmulatorPrincipal& principal(const std::string& principalName) const {
    for (const auto& p : principals)
      if (p.name == principalName) return p;
    throw std::out_of_range("no principal " + principalName + " in tenant " + name);
  }
};

/// An answer of the control API.
struct ControlResponse {
  int status = 0;
  nlohmann::json body;
};

class EmulatorProcess {
 public:
  struct Options {
    std::vector<std::string> extraArgs;  // e.g. {"--lro-seconds", "1"}
    std::chrono::seconds startTimeout{30};
    std::string binary = ANF_BINARY;
  };

  static std::expected<std::unique_ptr<EmulatorProcess>, std::string> start(Options options) {
    std::unique_ptr<EmulatorProcess> process(new EmulatorProcess());
    if (auto error = process->launch(options); !error.empty()) return std::unexpected(error);
    return process;
  }
  static std::expected<std::unique_ptr<EmulatorProcess>, std::string> start() { return start(Options{}); }

  ~EmulatorProcess() {
    stop();
    if (!dir_.empty() && !std::getenv("ANF_KEEP_TEST_DIRS")) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  /// The start-up line as printed.
  const nlohmann::json& startup() const { return startup_; }
  std::string resourceManager() const { return startup_.value("resourceManager", ""); }
  std::string authority() const { return startup_.value("authority", ""); }
  std::string graph() const { return startup_.value("graph", ""); }
  std::string caFile() const { return startup_.value("caFile", ""); }
  /// The per-emulator temp dir (CA, log); tests may put their own files here.
  const std::filesystem::path& dir() const { return dir_; }

  std::vector<EmulatorTenant> tenants() const {
    std::vector<EmulatorTenant> out;
    for (const auto& t : startup_.value("tenants", nlohmann::json::array())) {
      EmulatorTenant tenant{t.value("tenantId", ""), t.value("name", ""), {}, {}};
      for (const auto& s : t.value("subscriptions", nlohmann::json::array())) tenant.subscriptions.push_back(s.get<std::string>());
      for (const auto& p : t.value("principals", nlohmann::json::array()))
        tenant.principals.push_back({p.value("name", ""), p.value("clientId", ""), p.value("clientSecret", ""), p.value("objectId", "")});
      out.push_back(std::move(tenant));
    }
    return out;
  }
  /// The tenant named `name` ("provider", "customer"); throws std::out_of_range when absent.
  EmulatorTenant tenant(const std::string& name) const {
    for (auto& t : tenants())
      if (t.name == name) return t;
    throw std::out_of_range("no tenant " + name + " in the emulator's start-up line");
  }

  /// A call to the control API (`path` starts with "/_emulator/"), over HTTPS with the emulator's CA.
  ControlResponse control(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) const {
    web::http::client::http_client_config config;
    auto ca = caFile();
    config.set_ssl_context_callback([ca](boost::asio::ssl::context& context) {
      if (!ca.empty()) context.load_verify_file(ca);
    });
    web::http::client::http_client client(resourceManager(), config);
    web::http::http_request request(method);
    request.set_request_uri(path);
    if (!body.is_null()) request.set_body(body.dump(), "application/json");
    auto response = client.request(request).get();
    ControlResponse out;
    out.status = response.status_code();
    auto text = response.extract_utf8string(true).get();
    out.body = text.empty() ? nlohmann::json() : nlohmann::json::parse(text, nullptr, false);
    return out;
  }

  /// Moves the emulator's clock forward (token expiry, LRO progress, feature registration).
  void advanceClock(std::chrono::seconds seconds) const {
    control("POST", "/_emulator/clock/advance", {{"seconds", seconds.count()}});
  }
  /// A workload identity (service account) token minted by the emulator's issuer.
  std::string mintWorkloadIdentityToken(const std::string& tenantId, const std::string& clientId,
                                        std::chrono::seconds lifetime = std::chrono::hours(1)) const {
    auto response = control("POST", "/_emulator/workload-identity-token",
                            {{"tenantId", tenantId}, {"clientId", clientId}, {"lifetimeSeconds", lifetime.count()}});
    return response.body.is_object() ? response.body.value("token", "") : "";
  }

  /// What the emulator wrote to stderr so far.
  std::string log() const {
    std::ifstream in(dir_ / "emulator.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
  }

 private:
  EmulatorProcess() = default;

  /// Returns "" on success, else what went wrong (with the emulator's log).
  std::string launch(const Options& options) {
    auto base = std::filesystem::temp_directory_path() / "anf-emulator-XXXXXX";
    std::string pattern = base.string();
    if (!::mkdtemp(pattern.data())) return "mkdtemp failed";
    dir_ = pattern;
    std::vector<std::string> args{options.binary, "emulator", "--listen", "127.0.0.1:0", "--ca-out", (dir_ / "ca.pem").string()};
    args.insert(args.end(), options.extraArgs.begin(), options.extraArgs.end());

    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) return "pipe failed";
    auto logPath = (dir_ / "emulator.log").string();
    std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return "fork failed";
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(pipeFds[1], STDOUT_FILENO);
      int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) ::dup2(log, STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipeFds[1]);
    stdout_ = pipeFds[0];

    std::string line;
    auto deadline = std::chrono::steady_clock::now() + options.startTimeout;
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return "emulator printed no start-up line within " + std::to_string(options.startTimeout.count()) + " s; log:\n" + log();
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      auto n = ::read(stdout_, buffer, sizeof buffer);
      if (n <= 0) return "emulator exited before its start-up line; log:\n" + log();
      line.append(buffer, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    startup_ = nlohmann::json::parse(line, nullptr, false);
    if (!startup_.is_object() || resourceManager().empty()) return "unexpected start-up line: " + line + "\nlog:\n" + log();
    return "";
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  nlohmann::json startup_;
};

}  // namespace anf::testing
