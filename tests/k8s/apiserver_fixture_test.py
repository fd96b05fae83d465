#!/usr/bin/env python3
"""The apiserver fixture itself, against the real etcd and kube-apiserver (scripts/k8s-tools.sh builds them).

Run one class: apiserver_fixture_test.py FixtureTest (CTest registers one entry per class).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apiserver  # noqa: E402

def processes_using(folder):
    """Pids of the etcd and kube-apiserver whose command line names `folder` (--data-dir, the certificates)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if os.path.basename(argv[0]) in (b"etcd", b"kube-apiserver") and folder.encode() in b" ".join(argv):
                out.append(int(pid))
        except OSError:
            pass
    return out


CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe"}, "data": {"a": "1"}}


class FixtureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = apiserver.Cluster().start()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)

    def test_version_is_the_built_release(self):
        status, body = self.cluster.request("GET", "/version")
        self.assertEqual(status, 200)
        self.assertEqual(body["gitVersion"], "v1.34.4")

    def test_kubeconfig_names_the_server_and_the_ca(self):
        with open(self.cluster.kubeconfig) as f:
            text = f.read()
        self.assertIn(self.cluster.url, text)
        self.assertIn(self.cluster.ca_file, text)

    def test_anonymous_and_unknown_tokens_are_refused(self):
        status, _ = self.cluster.request("GET", "/api/v1/namespaces", token="not-a-token")
        self.assertEqual(status, 401)

    def test_objects_survive_an_apiserver_restart(self):
        ns = "/api/v1/namespaces/default/configmaps"
        status, created = self.cluster.request("POST", ns, dict(CONFIGMAP, metadata={"name": "survivor"}))
        self.assertEqual(status, 201, created)
        old_pid = self.cluster.procs["kube-apiserver"].pid
        self.cluster.restart_apiserver()
        self.assertNotEqual(self.cluster.procs["kube-apiserver"].pid, old_pid)
        status, read = self.cluster.request("GET", ns + "/survivor")
        self.assertEqual((status, read["data"]), (200, {"a": "1"}))

    def test_a_watch_from_before_a_compaction_is_gone(self):
        ns = "/api/v1/namespaces/default/configmaps"
        status, first = self.cluster.request("POST", ns, dict(CONFIGMAP, metadata={"name": "old"}))
        self.assertEqual(status, 201, first)
        old_rv = first["metadata"]["resourceVersion"]
        for i in range(3):
            self.cluster.request("PUT", ns + "/old", dict(CONFIGMAP, metadata={"name": "old"}, data={"a": str(i)}))
        self.assertGreater(self.cluster.compact_etcd(), int(old_rv))
        with self.assertRaisesRegex(Exception, "compacted"):  # etcd itself has dropped the revision
            self.cluster._etcd("/v3/kv/range", {"key": "Lw==", "revision": int(old_rv)})
        # A restarted apiserver's watch cache starts after the compaction: the old resourceVersion is 410 Gone,
        # sent as the watch's ERROR event.
        self.cluster.restart_apiserver()
        status, body = self.cluster.request("GET", f"{ns}?watch=1&resourceVersion={old_rv}&timeoutSeconds=5")
        self.assertEqual(status, 200, body)
        self.assertEqual((body["type"], body["object"]["code"], body["object"]["reason"]), ("ERROR", 410, "Expired"))

    def test_without_the_watch_cache_a_compaction_is_gone_at_once(self):
        with apiserver.Cluster(apiserver_args=["--watch-cache=false"]) as cluster:
            ns = "/api/v1/namespaces/default/configmaps"
            status, first = cluster.request("POST", ns, dict(CONFIGMAP, metadata={"name": "old"}))
            self.assertEqual(status, 201, first)
            # Two writes: the compaction must pass the first event after the watch's resourceVersion (compacted at
            # exactly that event, etcd still sends it, without its previous value, and the apiserver answers 500).
            for value in ("2", "3"):
                cluster.request("PUT", ns + "/old", dict(CONFIGMAP, metadata={"name": "old"}, data={"a": value}))
            cluster.compact_etcd()
            status, body = cluster.request("GET", f"{ns}?watch=1&resourceVersion={first['metadata']['resourceVersion']}"
                                                  "&timeoutSeconds=5")
            self.assertEqual((status, body["type"], body["object"]["code"]), (200, "ERROR", 410), body)

    def test_service_account_tokens_are_issued_and_checked_by_rbac(self):
        self.cluster.request("POST", "/api/v1/namespaces/default/serviceaccounts",
                             {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}})
        status, issued = self.cluster.request("POST", "/api/v1/namespaces/default/serviceaccounts/nobody/token",
                                              {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                               "spec": {"expirationSeconds": 600}})
        self.assertEqual(status, 201, issued)
        status, _ = self.cluster.request("GET", "/api/v1/namespaces/default/configmaps", token=issued["status"]["token"])
        self.assertEqual(status, 403)  # authenticated, not authorized


class CommandLineTest(unittest.TestCase):
    def test_a_failed_start_raises_and_leaves_nothing_running(self):
        class Broken(apiserver.Cluster):
            def apiserver_argv(self):
                return super().apiserver_argv() + ["--no-such-flag"]
        cluster = Broken()
        with self.assertRaisesRegex(RuntimeError, "kube-apiserver exited"):
            cluster.start()
        self.assertIn("unknown flag: --no-such-flag", cluster.log_tail("kube-apiserver"))
        self.assertEqual(processes_using(cluster.folder), [])  # etcd, already started, was stopped
        cluster.__exit__(None, None, None)

    def test_run_passes_the_kubeconfig_and_stops_everything(self):
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apiserver.py")
        out = subprocess.run([sys.executable, script, "run", "--", "sh", "-c",
                              'test -s "$KUBECONFIG" && cat "$ANF_K8S_DIR/cluster.json"'],
                             capture_output=True, text=True, timeout=200)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(processes_using(json.loads(out.stdout)["folder"]), [])  # stopped by run


    def test_a_killed_runner_leaves_no_cluster_behind(self):
        # The test runner's timeout kills with SIGKILL: no stop() runs, the processes must go by themselves.
        folder = tempfile.mkdtemp(prefix="anf-k8s-killed-")
        runner = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); import apiserver; "
                                   "apiserver.Cluster(sys.argv[2]).start(); print('up', flush=True); time.sleep(600)",
                                   os.path.dirname(os.path.abspath(__file__)), folder], stdout=subprocess.PIPE, text=True)
        self.addCleanup(runner.kill)
        self.addCleanup(shutil.rmtree, folder, True)
        self.assertEqual(runner.stdout.readline().strip(), "up")
        self.assertEqual(len(processes_using(folder)), 2)
        runner.kill()
        runner.wait()
        deadline = time.monotonic() + 30
        while processes_using(folder) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(processes_using(folder), [])

    def test_up_processes_outlive_the_command_until_down(self):
        folder = tempfile.mkdtemp(prefix="anf-k8s-up-")
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apiserver.py")
        subprocess.run([sys.executable, script, "up", folder], check=True, capture_output=True, timeout=200)
        try:
            self.assertEqual(len(processes_using(folder)), 2)
            self.assertEqual(apiserver.attach(folder).request("GET", "/readyz"), (200, "ok"))
        finally:
            subprocess.run([sys.executable, script, "down", folder], check=True, timeout=60)
        self.assertEqual(processes_using(folder), [])
        shutil.rmtree(folder, ignore_errors=True)


class ToolsCacheTest(unittest.TestCase):
    """scripts/k8s-tools.sh's cache key: a comment leaves it, a pinned version changes it (so nothing stale is used)."""

    def key(self, tree):
        out = subprocess.run(["bash", os.path.join(tree, "scripts", "k8s-tools.sh"), "--dir"], capture_output=True,
                             text=True, check=True, env=dict(os.environ, ANF_K8S_TOOLS_DIR="/cache"))
        return out.stdout.strip()

    def test_key_follows_the_pinned_versions_only(self):
        with tempfile.TemporaryDirectory() as tree:
            shutil.copytree(os.path.join(apiserver.SOURCE, "scripts"), os.path.join(tree, "scripts"))
            module = os.path.join(tree, "tests", "k8s-tools")
            shutil.copytree(os.path.join(apiserver.SOURCE, "tests", "k8s-tools"), module)
            first = self.key(tree)
            self.assertRegex(first, r"^/cache/v1\.34\.4-[0-9a-f]{10}$")
            self.assertEqual(os.path.basename(first), os.path.basename(apiserver.tools_dir()))  # same files, same key
            with open(os.path.join(module, "go.mod"), "a") as f:
                f.write("// a comment\n")
            self.assertEqual(self.key(tree), first)
            with open(os.path.join(module, "go.mod")) as f:
                text = f.read()
            with open(os.path.join(module, "go.mod"), "w") as f:
                f.write(text.replace("k8s.io/api => k8s.io/api v0.34.4", "k8s.io/api => k8s.io/api v0.34.3"))
            self.assertNotEqual(self.key(tree), first)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:2] if len(sys.argv) > 1 else sys.argv, verbosity=2)
