#!/usr/bin/env python3
"""`source: kubernetes` end to end (issue 17, items 1-6): a real etcd + kube-apiserver (tests/k8s/apiserver.py),
the CRDs of manifests/crds, the Azure emulator process and the operator daemon process, over real sockets.

The quickstart's documents are applied as custom resources; what the tests read back comes from the API (the
resources' .status, their finalizers, Events, the Lease) and from Azure (the emulator, as its admin), never from
the operator's own status port alone. Run one class: kube_e2e_test.py StatusTest (CTest has one entry per class;
each class starts its own apiserver).
"""
import copy
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import yaml

SOURCE = os.environ.get("ANF_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ANF_BINARY") or os.path.join(SOURCE, "build", "dev", "cmd", "anf-cmk-operator", "anf-cmk-operator")
K8S_FIXTURE = os.environ.get("ANF_K8S_FIXTURE_DIR") or os.path.join(SOURCE, "tests", "k8s")
CRD_DIR = os.environ.get("ANF_CRD_DIR") or os.path.join(SOURCE, "manifests", "crds")
sys.path.insert(0, K8S_FIXTURE)
import apiserver  # noqa: E402

GROUP, VERSION = "anf-cmk.io", "v1alpha1"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
SUBSCRIPTION = "/subscriptions/10000000-0000-4000-8000-0000000000a1"
ACCOUNT = SUBSCRIPTION + "/resourceGroups/anf-rg/providers/Microsoft.NetApp/netAppAccounts/anf-account"
VOLUME = ACCOUNT + "/capacityPools/pool1/volumes/vol1"
NETAPP_API = "2025-06-01"
PLURALS = {"NetAppAccount": "netappaccounts", "PrivateEndpoint": "privateendpoints", "CapacityPool": "capacitypools",
           "Volume": "volumes", "UserAssignedIdentity": "userassignedidentities",
           "CrossTenantApplication": "crosstenantapplications"}
FINALIZER = "anf-cmk.io/finalizer"


def await_(done, timeout, every=0.2):
    """Polls `done` until it returns something truthy or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = done()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def quickstart():
    with open(os.path.join(SOURCE, "manifests", "examples", "quickstart", "quickstart.yaml")) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def volume_delete_policy(docs):
    next(d for d in docs if d["kind"] == "Volume")["spec"]["deletionPolicy"] = "Delete"


class Emulator:
    """`anf-cmk-operator emulator` on a free port; ARM calls as the provider tenant's admin."""

    def __init__(self, folder):
        self.folder = folder
        self.log = open(os.path.join(folder, "emulator.log"), "w")
        self.process = subprocess.Popen([BINARY, "emulator", "--listen", "127.0.0.1:0", "--ca-out",
                                         os.path.join(folder, "ca.pem"), "--lro-seconds", "0"],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.startup = json.loads(self.process.stdout.readline())
        self.ssl = ssl.create_default_context(cafile=self.startup["caFile"])
        self.tokens = {}

    def tenant(self, name):
        return next(t for t in self.startup["tenants"] if t["name"] == name)

    def _http(self, method, url, body=None, headers=None, form=False):
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = urllib.parse.urlencode(body).encode() if form else json.dumps(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, context=self.ssl, timeout=30) as resp:
                raw, status = resp.read(), resp.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        return status, (json.loads(raw) if raw else None)

    def token(self):
        if "arm" not in self.tokens:
            tenant = self.tenant("provider")
            admin = next(p for p in tenant["principals"] if p["name"] == "admin")
            authority = self.startup["authority"].rstrip("/")
            _, body = self._http("POST", f"{authority}/{tenant['tenantId']}/oauth2/v2.0/token", form=True, body={
                "grant_type": "client_credentials", "client_id": admin["clientId"], "client_secret": admin["clientSecret"],
                "scope": "https://management.azure.com/.default"})
            self.tokens["arm"] = body["access_token"]
        return self.tokens["arm"]

    def arm(self, method, path, api=NETAPP_API, body=None):
        return self._http(method, f"{self.startup['resourceManager']}{path}?api-version={api}", body,
                          {"Authorization": "Bearer " + self.token()})

    def writes(self):
        """"METHOD path" of every ARM write in the emulator's request log so far."""
        _, log = self._http("GET", self.startup["resourceManager"] + "/_emulator/requests")
        return [f"{r['method']} {r['path']}" for r in (log or {}).get("items", [])
                if r["method"] != "GET" and r["path"].startswith("/subscriptions/")]

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


class Operator:
    """`anf-cmk-operator run --source kubernetes` on `folder`'s operator.yaml, its own state file and ports."""

    def __init__(self, folder, kubeconfig, namespace, name="operator"):
        self.folder, self.name = folder, name
        self.ports = [apiserver.free_port() for _ in range(3)]
        self.log_path = os.path.join(folder, name + ".log")
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [BINARY, "run", "--config", os.path.join(folder, "operator.yaml"), "--source", "kubernetes",
             "--kubeconfig", kubeconfig, "--namespace", namespace,
             "--state-file", os.path.join(folder, name + ".state.db"),
             "--metrics-addr", f"127.0.0.1:{self.ports[0]}", "--health-addr", f"127.0.0.1:{self.ports[1]}",
             "--status-addr", f"127.0.0.1:{self.ports[2]}", "--log-format", "text", "--log-level", "debug"],
            stdout=log, stderr=log, env=dict(os.environ, POD_NAME=name))
        log.close()

    def status(self):
        """The operator's own status API (GET /api/v1/resources), or None."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[2]}/api/v1/resources", timeout=2) as resp:
                return json.loads(resp.read())
        except OSError:
            return None

    def reconciles(self):
        """controller_runtime_reconcile_total over every kind and result, or -1 when /metrics does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[0]}/metrics", timeout=2) as resp:
                text = resp.read().decode()
        except OSError:
            return -1
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("controller_runtime_reconcile_total{"))

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-6000:]

    def kill(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class KubeE2eTest(unittest.TestCase):
    """One apiserver per class, with the CRDs; per test a namespace, an emulator and an operator config."""
    leader_election = "{enabled: true}"
    controller = "{resyncPeriod: 3s}"

    @classmethod
    def setUpClass(cls):
        cls.cluster = apiserver.Cluster()
        cls.cluster.__enter__()
        names = []
        for file in sorted(os.listdir(CRD_DIR)):
            with open(os.path.join(CRD_DIR, file)) as f:
                for crd in (d for d in yaml.safe_load_all(f) if d):
                    status, body = cls.cluster.request("POST", CRD_PATH, crd)
                    assert status == 201, body
                    names.append(crd["metadata"]["name"])
        for name in names:
            assert await_(lambda: any(c["type"] == "Established" and c["status"] == "True" for c in
                                      (cls.cluster.request("GET", f"{CRD_PATH}/{name}")[1].get("status") or {})
                                      .get("conditions", [])), 60), name

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="anf-kube-e2e-")
        self.ns = "t-" + uuid.uuid4().hex[:8]
        status, body = self.cluster.request("POST", "/api/v1/namespaces",
                                            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}})
        self.assertEqual(status, 201, body)
        self.emulator = Emulator(self.folder)
        self.operators = []
        self.write_config()

    def tearDown(self):
        for op in self.operators:  # CTest shows this output only when the test fails
            op.kill()
            print(f"---- {op.name} log (tail) ----\n{op.tail()}", file=sys.stderr)
        self.emulator.stop()

    def write_config(self):
        lines = ["azure:", "  cloud: Custom", "  endpoints:",
                 f"    resourceManager: {self.emulator.startup['resourceManager']}",
                 f"    authority: {self.emulator.startup['authority']}",
                 f"    graph: {self.emulator.startup['graph']}",
                 f"  caFile: {self.emulator.startup['caFile']}",
                 "  defaults: {tenant: provider, subscriptionId: 10000000-0000-4000-8000-0000000000a1, "
                 "resourceGroup: anf-rg, location: eastus}",
                 "  credentials:"]
        for name in ("provider", "customer"):
            tenant = self.emulator.tenant(name)
            admin = next(p for p in tenant["principals"] if p["name"] == "admin")
            secret = os.path.join(self.folder, name + ".secret")
            with open(secret, "w") as f:
                f.write(admin["clientSecret"])
            lines += [f"    - name: {name}", f"      tenantId: {tenant['tenantId']}",
                      f"      clientSecret: {{clientId: {admin['clientId']}, secretFile: {secret}}}"]
        lines += [f"controller: {self.controller}", "source:", "  kind: kubernetes",
                  f"  kubernetes: {{leaderElection: {self.leader_election}}}", "logging: {format: text, level: debug}"]
        with open(os.path.join(self.folder, "operator.yaml"), "w") as f:
            f.write("\n".join(lines) + "\n")

    # ---- the API ----
    def path(self, kind, name=""):
        return f"/apis/{GROUP}/{VERSION}/namespaces/{self.ns}/{PLURALS[kind]}" + (f"/{name}" if name else "")

    def apply(self, documents):
        for doc in documents:
            status, body = self.cluster.request("POST", self.path(doc["kind"]), doc)
            self.assertEqual(status, 201, body)

    def get(self, kind, name):
        status, body = self.cluster.request("GET", self.path(kind, name))
        return body if status == 200 else None

    def patch(self, kind, name, patch):
        status, body = self.cluster.request("PATCH", self.path(kind, name), patch, content_type="application/merge-patch+json")
        self.assertEqual(status, 200, body)
        return body

    def delete(self, kind, name):
        status, body = self.cluster.request("DELETE", self.path(kind, name))
        self.assertIn(status, (200, 202), body)

    @staticmethod
    def condition(resource, type_):
        for c in ((resource or {}).get("status") or {}).get("conditions", []):
            if c["type"] == type_:
                return c
        return {}

    def ready(self, kind, name):
        """The resource when its status says Ready=True for its current generation, else None."""
        r = self.get(kind, name)
        if r and self.condition(r, "Ready").get("status") == "True" and \
                r["status"].get("observedGeneration") == r["metadata"]["generation"]:
            return r
        return None

    def await_all_ready(self, documents, timeout=90):
        last = {}

        def all_ready():
            for d in documents:
                last[d["metadata"]["name"]] = self.get(d["kind"], d["metadata"]["name"])
            return all(self.ready(d["kind"], d["metadata"]["name"]) for d in documents)
        ok = await_(all_ready, timeout)
        self.assertTrue(ok, "not all Ready in the API's status:\n" + json.dumps(
            {n: (r or {}).get("status") for n, r in last.items()}, indent=1))

    def events(self, name):
        _, body = self.cluster.request("GET", f"/api/v1/namespaces/{self.ns}/events")
        return [e for e in (body or {}).get("items", []) if e["involvedObject"]["name"] == name]

    def start_operator(self, name="operator", kubeconfig=None):
        op = Operator(self.folder, kubeconfig or self.cluster.kubeconfig, self.ns, name)
        self.operators.append(op)
        return op

    def quickstart_ready(self, edit=None, kubeconfig=None):
        """The quickstart applied as custom resources (after `edit(docs)`), an operator started, all Ready."""
        docs = quickstart()
        if edit:
            edit(docs)
        self.apply(docs)
        op = self.start_operator(kubeconfig=kubeconfig)
        self.await_all_ready(docs)
        return docs, op

    def await_passes(self, op, passes=2, timeout=60):
        """What a negative assertion waits for: `passes` x the documents more finished reconciles than now."""
        before = op.reconciles()
        self.assertGreaterEqual(before, 0)
        self.assertTrue(await_(lambda: op.reconciles() >= before + passes * 4, timeout))


class StatusTest(KubeE2eTest):
    def test_quickstart_becomes_ready_in_the_api_with_events_and_no_write_when_nothing_changed(self):
        _, op = self.quickstart_ready()
        account = self.get("NetAppAccount", "anf-account")
        self.assertTrue(account["status"]["facts"]["resourceId"].lower().endswith("/netappaccounts/anf-account"))
        ready_events = [e for e in self.events("anf-account") if e["reason"] == self.condition(account, "Ready")["reason"]]
        self.assertTrue(ready_events, self.events("anf-account"))
        self.assertEqual(ready_events[0]["involvedObject"]["kind"], "NetAppAccount")
        self.assertEqual(ready_events[0]["type"], "Normal")
        # Retain (the default) carries no finalizer.
        self.assertNotIn(FINALIZER, account["metadata"].get("finalizers", []))
        # Resyncs that change nothing write no status: the resourceVersion stays.
        version = account["metadata"]["resourceVersion"]
        self.await_passes(op)
        self.assertEqual(self.get("NetAppAccount", "anf-account")["metadata"]["resourceVersion"], version)

    def test_a_rekey_edit_reaches_azure_and_observed_generation_follows(self):
        self.quickstart_ready()
        edited = self.patch("NetAppAccount", "anf-account", {"spec": {"encryption": {"keyVault": {"keyName": "anf-key-2"}}}})
        generation = edited["metadata"]["generation"]
        self.assertEqual(generation, 2)
        key = await_(lambda: (self.emulator.arm("GET", ACCOUNT)[1]["properties"].get("encryption", {})
                              .get("keyVaultProperties", {}).get("keyName") == "anf-key-2"), 60)
        self.assertTrue(key, self.emulator.arm("GET", ACCOUNT)[1])
        self.assertTrue(await_(lambda: self.ready("NetAppAccount", "anf-account"), 60),
                        self.get("NetAppAccount", "anf-account").get("status"))
        self.assertEqual(self.get("NetAppAccount", "anf-account")["status"]["observedGeneration"], 2)


class AccessTest(KubeE2eTest):
    """The operator as the chart deploys it: a service account holding only the chart's Role (its verbs are the
    ones the client sends), its token in a file; and a client certificate instead of a token."""
    ROLE_RULES = [
        {"apiGroups": [GROUP], "resources": list(PLURALS.values()), "verbs": ["get", "list", "watch", "patch"]},
        {"apiGroups": [GROUP], "resources": [p + "/status" for p in PLURALS.values()], "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["anf-cmk-operator"],
         "verbs": ["get", "update"]},
    ]

    def kubeconfig(self, user):
        with open(self.cluster.kubeconfig) as f:
            config = yaml.safe_load(f)
        cluster = config["clusters"][0]["name"]
        config["users"].append({"name": "under-test", "user": user})
        config["contexts"].append({"name": "under-test", "context": {"cluster": cluster, "user": "under-test"}})
        config["current-context"] = "under-test"
        path = os.path.join(self.folder, "kubeconfig")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path

    def create(self, path, body):
        status, answer = self.cluster.request("POST", path, body)
        self.assertEqual(status, 201, answer)
        return answer

    def test_a_service_account_with_the_charts_least_privilege_role_runs_the_operator(self):
        base = f"/api/v1/namespaces/{self.ns}"
        rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{self.ns}"
        self.create(base + "/serviceaccounts", {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "anf"}})
        self.create(rbac + "/roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                      "metadata": {"name": "anf"}, "rules": self.ROLE_RULES})
        self.create(rbac + "/rolebindings", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "anf"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "anf"},
            "subjects": [{"kind": "ServiceAccount", "name": "anf", "namespace": self.ns}]})
        token = self.create(base + "/serviceaccounts/anf/token",
                            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                             "spec": {"expirationSeconds": 3600}})["status"]["token"]
        token_file = os.path.join(self.folder, "token")
        with open(token_file, "w") as f:
            f.write(token)
        _, op = self.quickstart_ready(kubeconfig=self.kubeconfig({"tokenFile": token_file}))
        self.assertTrue(self.events("anf-account"))
        self.assertNotIn(" 403 ", op.tail())

    def test_a_client_certificate_authenticates(self):
        folder = os.path.dirname(self.cluster.kubeconfig)
        self.quickstart_ready(kubeconfig=self.kubeconfig({
            "client-certificate": os.path.join(folder, "admin.crt"), "client-key": os.path.join(folder, "admin.key")}))


class DeletionTest(KubeE2eTest):
    def test_the_delete_policy_finalizer_holds_the_resource_until_azure_deleted_it(self):
        self.quickstart_ready(volume_delete_policy)
        self.assertIn(FINALIZER, self.get("Volume", "vol1")["metadata"]["finalizers"])
        self.assertNotIn(FINALIZER, self.get("CapacityPool", "pool1")["metadata"].get("finalizers", []))
        self.delete("Volume", "vol1")
        # Held: either still there with its deletionTimestamp while Azure still has the volume, or gone after it.
        seen = []

        def gone():
            r = self.get("Volume", "vol1")
            azure = self.emulator.arm("GET", VOLUME)[0]
            seen.append((r is not None, azure))
            return r is None
        self.assertTrue(await_(gone, 60, every=0.05), seen[-5:])
        self.assertEqual(self.emulator.arm("GET", VOLUME)[0], 404)
        self.assertNotIn((False, 200), seen, "the resource went while Azure still had the volume")
        self.assertIn(("DELETE " + VOLUME).lower(), [w.lower() for w in self.emulator.writes()])

    def test_a_finalizer_removed_by_hand_comes_back_and_deletes_nothing(self):
        _, op = self.quickstart_ready(volume_delete_policy)
        before = self.emulator.writes()
        self.patch("Volume", "vol1", {"metadata": {"finalizers": None}})
        self.assertTrue(await_(lambda: FINALIZER in self.get("Volume", "vol1")["metadata"].get("finalizers", []), 30))
        self.await_passes(op)
        self.assertEqual(self.emulator.arm("GET", VOLUME)[0], 200)
        self.assertEqual(self.emulator.writes(), before)

    def test_deleting_a_retain_resource_leaves_azure_untouched(self):
        _, op = self.quickstart_ready()
        before = self.emulator.writes()
        self.delete("Volume", "vol1")
        self.assertTrue(await_(lambda: self.get("Volume", "vol1") is None, 30))
        self.await_passes(op)
        self.assertEqual(self.emulator.arm("GET", VOLUME)[0], 200)
        self.assertEqual(self.emulator.writes(), before)


class DeletionGuardTest(KubeE2eTest):
    controller = "{resyncPeriod: 3s, maxDeletionsPerPass: 1}"

    def test_a_burst_of_deleted_resources_is_refused_by_the_mass_deletion_guard(self):
        _, op = self.quickstart_ready()
        before = self.emulator.writes()
        self.delete("Volume", "vol1")  # two deletions in a burst, as a GitOps prune makes them
        self.delete("CapacityPool", "pool1")

        def refused():
            s = op.status() or {}
            return any(c["reason"] == "TooManyDeletions" for c in s.get("operator", {}).get("conditions", []))
        self.assertTrue(await_(refused, 30), op.status())
        kept = {(i["kind"], i["name"]) for i in op.status()["items"]}
        self.assertIn(("Volume", "vol1"), kept)
        self.assertIn(("CapacityPool", "pool1"), kept)
        self.assertEqual(self.emulator.writes(), before)


class WatchRecoveryTest(KubeE2eTest):
    leader_election = "{enabled: false}"  # the operator is stopped for a while: no Lease to lose meanwhile

    def test_changes_made_while_the_watch_was_away_are_applied_after_compaction_and_an_apiserver_restart(self):
        docs = quickstart()
        self.apply(docs[:3])  # the account, the endpoint and the pool; the volume comes later
        op = self.start_operator()
        self.await_all_ready(docs[:3])
        writes = len(self.emulator.writes())
        op.process.send_signal(signal.SIGSTOP)  # its watches hold old resourceVersions
        try:
            self.patch("NetAppAccount", "anf-account", {"spec": {"encryption": {"keyVault": {"keyName": "anf-key-2"}}}})
            self.apply(docs[3:])
            self.cluster.compact_etcd()  # those resourceVersions are gone: the watches get 410 and relist
            self.cluster.restart_apiserver()  # and every watch connection drops
        finally:
            op.process.send_signal(signal.SIGCONT)
        self.await_all_ready(docs, timeout=120)
        account = self.emulator.arm("GET", ACCOUNT)[1]
        self.assertEqual(account["properties"]["encryption"]["keyVaultProperties"]["keyName"], "anf-key-2")
        self.assertEqual(self.emulator.arm("GET", VOLUME)[0], 200)
        self.assertIn("listing again", op.tail())
        # Applied once: one account write for the rekey, one volume creation.
        new = self.emulator.writes()[writes:]
        account_writes = [w for w in new if w.lower().split(" ", 1)[1] == ACCOUNT.lower()]
        volume_creates = [w for w in new if w.lower() == "put " + VOLUME.lower()]
        self.assertEqual(len(account_writes), 1, new)
        self.assertEqual(len(volume_creates), 1, new)


class LeaderElectionTest(KubeE2eTest):
    leader_election = "{enabled: true, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s}"

    def lease(self):
        status, body = self.cluster.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{self.ns}/leases/anf-cmk-operator")
        return body["spec"] if status == 200 else {}

    def test_only_the_leader_writes_and_the_other_takes_over_after_kill_9_without_duplicate_writes(self):
        docs = quickstart()
        self.apply(docs)
        a = self.start_operator("replica-a")
        self.assertTrue(await_(lambda: self.lease().get("holderIdentity", "").startswith("replica-a"), 30), self.lease())
        b = self.start_operator("replica-b")
        self.await_all_ready(docs)
        self.assertTrue(self.lease()["holderIdentity"].startswith("replica-a"))
        self.await_passes(a)
        self.assertEqual(b.reconciles(), 0, "the standby reconciled")
        writes = self.emulator.writes()
        a.kill(signal.SIGKILL)
        killed = time.monotonic()
        self.assertTrue(await_(lambda: self.lease().get("holderIdentity", "").startswith("replica-b"), 30), self.lease())
        took = time.monotonic() - killed
        # The Lease expires 4 s after b last saw it renewed; b tries every 1 s (x1.2 jitter at most) and needs a moment to start.
        self.assertLess(took, 4 + 1.2 + 3, f"takeover after {took:.1f} s")
        self.assertEqual(self.lease()["leaseTransitions"], 1)
        self.await_passes(b)
        self.assertEqual(self.emulator.writes(), writes, "the new leader wrote what Azure already had")
        self.await_all_ready(docs)

    def test_a_paused_leader_that_lost_the_lease_sends_no_write_when_it_resumes(self):
        docs = quickstart()
        self.apply(docs)
        a = self.start_operator("replica-a")
        self.assertTrue(await_(lambda: self.lease().get("holderIdentity", "").startswith("replica-a"), 30), self.lease())
        b = self.start_operator("replica-b")
        self.await_all_ready(docs)
        writes = len(self.emulator.writes())
        a.process.send_signal(signal.SIGSTOP)  # a partition, as far as a can tell: its clock runs on
        try:
            self.assertTrue(await_(lambda: self.lease().get("holderIdentity", "").startswith("replica-b"), 30), self.lease())
            self.patch("NetAppAccount", "anf-account", {"spec": {"encryption": {"keyVault": {"keyName": "anf-key-2"}}}})
            self.assertTrue(await_(lambda: (self.ready("NetAppAccount", "anf-account") or {}).get("status", {})
                                   .get("observedGeneration") == 2, 60))
        finally:
            a.process.send_signal(signal.SIGCONT)
        # a resumes with a desired state older than Azure's (a drift to "correct") and finds the Lease taken: it exits.
        self.assertTrue(await_(lambda: a.process.poll() is not None, 30), "the deposed leader kept running")
        self.await_passes(b)
        account_writes = [w for w in self.emulator.writes()[writes:] if w.lower().split(" ", 1)[1] == ACCOUNT.lower()]
        self.assertEqual(len(account_writes), 1, account_writes)
        self.assertEqual(self.emulator.arm("GET", ACCOUNT)[1]["properties"]["encryption"]["keyVaultProperties"]["keyName"],
                         "anf-key-2")


if __name__ == "__main__":
    unittest.main()
