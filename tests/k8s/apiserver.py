#!/usr/bin/env python3
"""A real Kubernetes control plane for the tests: etcd + kube-apiserver on free loopback ports, in a folder.

The binaries are the ones scripts/k8s-tools.sh builds (scripts/test.sh runs it); a missing one is an error,
never a skip. Everything the apiserver needs is generated in the folder: a CA, the serving certificate
(127.0.0.1, localhost), the service-account signing key, an admin token (group system:masters) and an admin
client certificate. Authorization is RBAC, so a test can also act as a service account (TokenRequest).

As a library:
    with Cluster() as cluster:               # started, /readyz answered 200
        cluster.request("GET", "/api/v1/namespaces")
        cluster.restart_apiserver()          # same port, same etcd
        cluster.compact_etcd()               # etcd compacted at its current revision: old resourceVersions 410
From the shell (or a C++ test), with DIR holding cluster.json and kubeconfig:
    apiserver.py up DIR [--apiserver-arg=FLAG]...   start, wait for /readyz, print cluster.json; the processes
                                 outlive the command
    apiserver.py down DIR        stop them (SIGTERM, then SIGKILL after 10 s)
    apiserver.py restart-apiserver DIR | compact DIR
    apiserver.py run [DIR] -- CMD ARGS...   up, run CMD with KUBECONFIG and ANF_K8S_DIR set, down; CMD's exit code
"""
import argparse
import base64
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SOURCE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
ADMIN_TOKEN_USER = "anf-test-admin"
START_TIMEOUT = 120  # seconds; a cold apiserver on a loaded 2-core machine takes ~10-30 s to be ready


def tools_dir():
    """The cache folder of scripts/k8s-tools.sh (bin/ and crds/), whatever ANF_K8S_TOOLS_DIR says."""
    out = subprocess.run(["bash", os.path.join(SOURCE, "scripts", "k8s-tools.sh"), "--dir"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def tool(name):
    path = os.path.join(tools_dir(), "bin", name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is missing: run scripts/k8s-tools.sh (scripts/test.sh does) to build it")
    return path


def monitoring_crds():
    """The prometheus-operator CRDs (ServiceMonitor, PrometheusRule) cached by scripts/k8s-tools.sh."""
    folder = os.path.join(tools_dir(), "crds")
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".yaml")) if os.path.isdir(folder) else []
    if len(files) < 2:
        raise FileNotFoundError(f"{folder} lacks the monitoring.coreos.com CRDs: run scripts/k8s-tools.sh")
    return files


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder):
    """CA, serving cert, admin client cert, service-account key and the static admin token."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=anf-test-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
                "extendedKeyUsage=serverAuth\n")
    with open(os.path.join(folder, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, subject, ext in (("apiserver", "/CN=kube-apiserver", "san.ext"),
                               ("admin", "/O=system:masters/CN=anf-test-admin-cert", "client.ext")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=folder)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", ext, "-out", f"{name}.crt", cwd=folder)
    openssl("genrsa", "-out", "sa.key", "2048", cwd=folder)
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)
    token = base64.urlsafe_b64encode(os.urandom(24)).decode().rstrip("=")
    with open(os.path.join(folder, "tokens.csv"), "w") as f:
        f.write(f'{token},{ADMIN_TOKEN_USER},{ADMIN_TOKEN_USER},"system:masters"\n')
    return token


def write_kubeconfig(path, server, folder, token):
    ca = os.path.join(folder, "ca.crt")
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: anf-test
  cluster: {{server: "{server}", certificate-authority: "{ca}"}}
users:
- name: admin
  user: {{token: "{token}"}}
- name: admin-cert
  user: {{client-certificate: "{folder}/admin.crt", client-key: "{folder}/admin.key"}}
contexts:
- name: anf-test
  context: {{cluster: anf-test, user: admin, namespace: default}}
- name: anf-test-cert
  context: {{cluster: anf-test, user: admin-cert, namespace: default}}
current-context: anf-test
"""
    with open(path, "w") as f:
        f.write(text)


class Cluster:
    """etcd + kube-apiserver in `folder` (a new temporary one by default)."""

    def __init__(self, folder=None, keep=False, apiserver_args=(), detached=False):
        """`apiserver_args`: extra kube-apiserver flags, e.g. ["--watch-cache=false"] so that watches read etcd
        directly and a compaction is seen at once (410 on the next watch from an older resourceVersion).
        `detached`: the processes outlive this one (`up`); otherwise they get SIGTERM when it dies, even by SIGKILL
        (a test runner's timeout), so that no cluster is left behind."""
        self.folder = os.path.abspath(folder or tempfile.mkdtemp(prefix="anf-k8s-"))
        self.keep = keep
        self.detached = detached
        self.apiserver_args = list(apiserver_args)
        self.procs = {}
        self.state_file = os.path.join(self.folder, "cluster.json")

    # ---- lifecycle ----
    def start(self, attempts=3):
        """Starts etcd then the apiserver; a port taken meanwhile by another process means new ports. Nothing is
        left running when it raises."""
        os.makedirs(self.folder, exist_ok=True)
        self.token = make_pki(self.folder)
        self.ca_file = os.path.join(self.folder, "ca.crt")
        self.kubeconfig = os.path.join(self.folder, "kubeconfig")
        for attempt in range(attempts):
            self.etcd_port, self.etcd_peer_port, self.port = free_port(), free_port(), free_port()
            self.etcd_url = f"http://127.0.0.1:{self.etcd_port}"
            self.url = f"https://127.0.0.1:{self.port}"
            write_kubeconfig(self.kubeconfig, self.url, self.folder, self.token)
            try:
                self._start_etcd()
                self._start_apiserver()
                break
            except BaseException as e:
                self.stop()
                if "address already in use" not in str(e) or attempt == attempts - 1:
                    raise
                subprocess.run(["rm", "-rf", os.path.join(self.folder, "etcd-data")], check=False)
        self._save()
        return self

    def _spawn(self, name, argv):
        log = open(os.path.join(self.folder, f"{name}.log"), "ab")
        # Own session: a Ctrl-C of the test runner does not kill the cluster before stop() does it in order.
        self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True,
                                            preexec_fn=None if self.detached else _terminate_with_parent)
        log.close()

    def _start_etcd(self):
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._spawn("etcd", [tool("etcd"), "--name", "anf-test", "--data-dir", os.path.join(self.folder, "etcd-data"),
                             "--listen-client-urls", self.etcd_url, "--advertise-client-urls", self.etcd_url,
                             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                             "--initial-cluster", f"anf-test={peer}", "--log-level", "warn",
                             "--quota-backend-bytes", str(1 << 30)])
        self._wait("etcd", lambda: self._http_ok(self.etcd_url + "/health"))

    def apiserver_argv(self):
        f = lambda name: os.path.join(self.folder, name)  # noqa: E731
        return [tool("kube-apiserver"), "--etcd-servers", self.etcd_url,
                "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", str(self.port),
                "--tls-cert-file", f("apiserver.crt"), "--tls-private-key-file", f("apiserver.key"),
                "--client-ca-file", f("ca.crt"), "--token-auth-file", f("tokens.csv"),
                "--service-account-key-file", f("sa.pub"), "--service-account-signing-key-file", f("sa.key"),
                "--service-account-issuer", "https://kubernetes.default.svc",
                "--authorization-mode", "RBAC", "--service-cluster-ip-range", "10.96.0.0/24",
                # No kubelets, nodes or Services here: nothing publishes the apiserver's own endpoint.
                "--endpoint-reconciler-type", "none", "--profiling=false", "--v", "1", *self.apiserver_args]

    def _start_apiserver(self):
        self._spawn("kube-apiserver", self.apiserver_argv())
        self._wait("kube-apiserver", self._ready)

    def _wait(self, name, ready):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with {self.procs[name].returncode}: {self.log_tail(name)}")
            if ready():
                return
            time.sleep(0.2)
        raise TimeoutError(f"{name} not ready after {START_TIMEOUT} s: {self.log_tail(name)}")

    def log_tail(self, name, lines=30):
        with open(os.path.join(self.folder, f"{name}.log"), errors="replace") as f:
            return "".join(f.readlines()[-lines:])

    def _ready(self):
        try:
            return self.request("GET", "/readyz")[0] == 200
        except (OSError, urllib.error.URLError):
            return False

    def _stop(self, name, timeout=10):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart_apiserver(self):
        """Stops the apiserver (SIGTERM: its watches end) and starts it again on the same port and etcd."""
        self._stop("kube-apiserver")
        self._start_apiserver()
        self._save()

    def stop(self):
        self._stop("kube-apiserver")
        self._stop("etcd")
        if os.path.exists(self.state_file):
            os.remove(self.state_file)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if not self.keep:
            subprocess.run(["rm", "-rf", self.folder], check=False)

    def _save(self):
        state = {"folder": self.folder, "url": self.url, "kubeconfig": self.kubeconfig, "caFile": self.ca_file,
                 "token": self.token, "etcdUrl": self.etcd_url, "port": self.port,
                 "etcdPort": self.etcd_port, "etcdPeerPort": self.etcd_peer_port, "apiserverArgs": self.apiserver_args,
                 "pids": {name: p.pid for name, p in self.procs.items()}}
        with open(self.state_file + ".tmp", "w") as f:
            json.dump(state, f, indent=2)
        os.replace(self.state_file + ".tmp", self.state_file)

    # ---- the API ----
    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file)

    def request(self, method, path, body=None, content_type="application/json", token=None, timeout=30,
                accept="application/json"):
        """(status, parsed JSON body or text) of one request; 4xx/5xx are returned, not raised."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "Authorization": f"Bearer {token or self.token}", "Content-Type": content_type,
            "Accept": accept})
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    # ---- etcd ----
    def _etcd(self, path, body):
        req = urllib.request.Request(self.etcd_url + path, data=json.dumps(body).encode(), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"etcd {path}: {e.code} {e.read().decode(errors='replace')}") from None

    def etcd_revision(self):
        return int(self._etcd("/v3/kv/range", {"key": base64.b64encode(b"/").decode(), "limit": 1})["header"]["revision"])

    def compact_etcd(self):
        """Compacts etcd at its current revision (physically): a watch from an older resourceVersion gets 410 Gone
        once the apiserver's watch cache has moved past it. Returns the revision."""
        revision = self.etcd_revision()
        self._etcd("/v3/kv/compaction", {"revision": revision, "physical": True})
        return revision

    @staticmethod
    def _http_ok(url):
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False


def _terminate_with_parent():
    """In the child, before exec: SIGTERM when the process that started it dies (Linux PR_SET_PDEATHSIG)."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def attach(folder):
    """A Cluster object for the processes `apiserver.py up` started in `folder`."""
    with open(os.path.join(folder, "cluster.json")) as f:
        state = json.load(f)
    cluster = Cluster(folder, keep=True, apiserver_args=state.get("apiserverArgs", []), detached=True)
    for key, attr in (("url", "url"), ("kubeconfig", "kubeconfig"), ("caFile", "ca_file"), ("token", "token"),
                      ("etcdUrl", "etcd_url"), ("port", "port"), ("etcdPort", "etcd_port"),
                      ("etcdPeerPort", "etcd_peer_port")):
        setattr(cluster, attr, state[key])
    cluster.procs = {name: _Pid(pid) for name, pid in state["pids"].items()}
    return cluster


class _Pid:
    """The part of Popen that stop() uses, for a process another command started."""

    def __init__(self, pid):
        self.pid = pid

    def poll(self):
        try:
            os.kill(self.pid, 0)
            with open(f"/proc/{self.pid}/stat") as f:
                return 0 if f.read().split(") ")[1].startswith("Z") else None
        except (ProcessLookupError, FileNotFoundError):
            return 0

    def terminate(self):
        os.kill(self.pid, signal.SIGTERM)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.1)
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "restart-apiserver", "compact", "run"])
    parser.add_argument("dir", nargs="?")
    parser.add_argument("--apiserver-arg", action="append", default=[], metavar="FLAG",
                        help="up, run: an extra kube-apiserver flag (repeatable), e.g. --apiserver-arg=--watch-cache=false")
    own = sys.argv[1:]
    argv = []
    if "--" in own:  # run's command: everything after "--", untouched by argparse
        own, argv = own[:own.index("--")], own[own.index("--") + 1:]
    args = parser.parse_args(own)
    if args.command == "run":
        if not argv:
            parser.error("run needs a command after --")
        with Cluster(args.dir, keep=args.dir is not None, apiserver_args=args.apiserver_arg) as cluster:
            env = dict(os.environ, KUBECONFIG=cluster.kubeconfig, ANF_K8S_DIR=cluster.folder)
            return subprocess.run(argv, env=env).returncode
    if not args.dir:
        parser.error("DIR is required")
    if args.command == "up":
        Cluster(args.dir, keep=True, apiserver_args=args.apiserver_arg, detached=True).start()
        with open(os.path.join(args.dir, "cluster.json")) as f:
            print(f.read())
    elif args.command == "down":
        attach(args.dir).stop()
    elif args.command == "restart-apiserver":
        attach(args.dir).restart_apiserver()
    elif args.command == "compact":
        print(attach(args.dir).compact_etcd())
    return 0


if __name__ == "__main__":
    sys.exit(main())
