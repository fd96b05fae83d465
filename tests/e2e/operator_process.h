#pragma once
// Test fixture: the operator daemon (`anf-cmk-operator run`) as a child process against an emulator process.
//
//   auto op = anf::testing::OperatorProcess::start(dir, {"--log-level", "debug"});
//   op->statusJson();   // GET http://127.0.0.1:<status>/api/v1/resources
//   op->reconciles("NetAppAccount");  // finished reconciliations of a kind, from GET /metrics
//   op->kill(SIGKILL);  // a crash; start() again on the same dir reuses its state file
//
// The working dir holds operator.yaml, manifests/ and state.json (see writeOperatorConfig); each start
// appends its stderr to <dir>/operator.log. The child dies with the test (PR_SET_PDEATHSIG).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/azure/emulator_process.h"

namespace anf::testing {

/// A loopback port that was free a moment ago (bind port 0, read it, close).
inline int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// Writes <dir>/operator.yaml for a Custom cloud pointing at `emulator` (provider and customer admin
/// secrets in files next to it; the customer credential only with `customerCredential`) and creates
/// <dir>/manifests.
inline void writeOperatorConfig(const std::filesystem::path& dir, const EmulatorProcess& emulator,
                                const std::string& resyncPeriod = "3s", bool customerCredential = true) {
  std::filesystem::create_directories(dir / "manifests");
  std::ostringstream yaml;
  yaml << "azure:\n  cloud: Custom\n  endpoints:\n"
       << "    resourceManager: " << emulator.resourceManager() << "\n"
       << "    authority: " << emulator.authority() << "\n"
       << "    graph: " << emulator.graph() << "\n"
       << "  caFile: " << emulator.caFile() << "\n"
       << "  defaults: {tenant: provider, subscriptionId: 10000000-0000-4000-8000-0000000000a1, resourceGroup: anf-rg, location: eastus}\n"
       << "  credentials:\n";
  for (const std::string name : {"provider", "customer"}) {
    if (name == "customer" && !customerCredential) continue;
    const auto tenant = emulator.tenant(name);
    const auto& admin = tenant.principal("admin");
    const auto secretFile = dir / (name + ".secret");
    std::ofstream(secretFile) << admin.clientSecret;
    yaml << "    - name: " << name << "\n      tenantId: " << tenant.tenantId << "\n"
         << "      clientSecret: {clientId: " << admin.clientId << ", secretFile: " << secretFile.string() << "}\n";
  }
  yaml << "controller:\n  resyncPeriod: " << resyncPeriod << "\n  stateFile: " << (dir / "state.json").string()
       << "\n  watch: {mode: poll, debounce: 100ms, pollInterval: 500ms}\n"
       << "logging: {format: text, level: debug}\n";
  std::ofstream(dir / "operator.yaml") << yaml.str();
}

class OperatorProcess {
 public:
  /// Starts `run` on dir's operator.yaml, manifests and state file; returns once the status API answers.
  static std::unique_ptr<OperatorProcess> start(const std::filesystem::path& dir) {
    std::unique_ptr<OperatorProcess> process(new OperatorProcess(dir));
    process->launch();
    return process;
  }
  ~OperatorProcess() { kill(SIGTERM); }
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  std::string statusAddress() const { return "127.0.0.1:" + std::to_string(statusPort_); }

  /// The status API's resource list, or null when it does not answer.
  nlohmann::json statusJson() const {
    try {
      web::http::client::http_client_config config;
      config.set_timeout(std::chrono::seconds(2));
      web::http::client::http_client client("http://" + statusAddress(), config);
      auto response = client.request(web::http::methods::GET, "/api/v1/resources").get();
      if (response.status_code() != 200) return nullptr;
      return nlohmann::json::parse(response.extract_utf8string(true).get(), nullptr, false);
    } catch (const std::exception&) {
      return nullptr;
    }
  }

  /// GET /readyz: its status code and body ({0, ""} when it does not answer).
  std::pair<int, std::string> readyz() const {
    try {
      web::http::client::http_client_config config;
      config.set_timeout(std::chrono::seconds(2));
      web::http::client::http_client client("http://127.0.0.1:" + std::to_string(healthPort_), config);
      auto response = client.request(web::http::methods::GET, "/readyz").get();
      return {response.status_code(), response.extract_utf8string(true).get()};
    } catch (const std::exception&) {
      return {0, ""};
    }
  }

  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }

  /// GET /metrics (the Prometheus text), or "" when it does not answer.
  std::string metricsText() const {
    try {
      web::http::client::http_client_config config;
      config.set_timeout(std::chrono::seconds(2));
      web::http::client::http_client client("http://127.0.0.1:" + std::to_string(metricsPort_), config);
      auto response = client.request(web::http::methods::GET, "/metrics").get();
      return response.status_code() == 200 ? response.extract_utf8string(true).get() : "";
    } catch (const std::exception&) {
      return "";
    }
  }

  /// Reconciliations of `kind` finished so far: controller_runtime_reconcile_total{controller=kind} summed over its
  /// results (counted once a reconcile has made its writes); -1 when /metrics does not answer.
  long reconciles(const std::string& kind) const {
    const std::string text = metricsText();
    if (text.empty()) return -1;
    const std::string series = "controller_runtime_reconcile_total{";
    const std::string label = "controller=\"" + kind + "\"";
    long total = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with(series)) continue;
      const auto close = line.find('}');
      if (close == std::string::npos || line.substr(0, close).find(label) == std::string::npos) continue;
      total += std::lround(std::stod(line.substr(close + 1)));
    }
    return total;
  }

  /// Sends `signal`; SIGTERM waits up to 5 s then SIGKILLs; the process is reaped either way.
  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    for (int i = 0; signal == SIGTERM && i < 500; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (signal != SIGKILL) ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /// Everything the operator processes started on this dir wrote to stderr.
  std::string log() const {
    std::ifstream in(dir_ / "operator.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  explicit OperatorProcess(std::filesystem::path dir) : dir_(std::move(dir)) {}

  void launch() {
    statusPort_ = freePort();
    metricsPort_ = freePort();
    healthPort_ = freePort();
    std::vector<std::string> args{ANF_BINARY, "run", "--config", (dir_ / "operator.yaml").string(),
                                  "--manifests", (dir_ / "manifests").string(), "--state-file", (dir_ / "state.json").string(),
                                  "--metrics-addr", "127.0.0.1:" + std::to_string(metricsPort_),
                                  "--health-addr", "127.0.0.1:" + std::to_string(healthPort_),
                                  "--status-addr", statusAddress(), "--log-format", "text", "--log-level", "debug"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const auto logPath = (dir_ / "operator.log").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, STDERR_FILENO);
        ::dup2(log, STDOUT_FILENO);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline && running() && statusJson().is_null())
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int statusPort_ = 0;
  int metricsPort_ = 0;
  int healthPort_ = 0;
};

}  // namespace anf::testing
