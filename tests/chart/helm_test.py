#!/usr/bin/env python3
"""The chart rendered by the real helm (scripts/k8s-tools.sh builds it): `helm lint`, `helm template` for the
default values and each option, and the rendered objects sent to a real kube-apiserver (tests/k8s/apiserver.py):
server-side dry-run of everything (ServiceMonitor and PrometheusRule against the prometheus-operator CRDs), and
the RBAC of the kubernetes source created for real and exercised with the service account's own token.

Run one class: helm_test.py HelmTemplateTest (CTest registers one entry per class; HelmDryRunTest is e2e).
"""
import glob
import json
import os
import subprocess
import sys
import unittest

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("ANF_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..")))
CHART = os.path.join(SOURCE, "charts", "anf-cmk-operator")
sys.path.insert(0, os.path.join(SOURCE, "tests", "k8s"))
import apiserver  # noqa: E402
from crd_e2e_test import apply_crds, create_namespace  # noqa: E402

KUBE_VERSION = "v1.34.4"  # the apiserver scripts/k8s-tools.sh builds
RELEASE, NAMESPACE = "anf", "anf-system"
LEASE = f"{RELEASE}-anf-cmk-operator"  # the release's fullname
# Values every render needs (the chart refuses to guess them).
REQUIRED = ["serviceAccount.workloadIdentity.clientId=33333333-3333-3333-3333-333333333333",
            "manifests.gitSync.repository=https://example.invalid/manifests.git"]
MONITORING = ["metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true",
              "metrics.dashboard.enabled=true"]
# Every option of `source` and what it brings, by name (the tests below and the dry-run use them all).
OPTIONS = {
    "default": [],
    "kubernetes": ["source=kubernetes"],
    "kubernetes-one-namespace": ["source=kubernetes", "kubernetes.namespace=apps"],
    "kubernetes-no-election": ["source=kubernetes", "kubernetes.leaderElection.enabled=false"],
    "kubernetes-3-replicas": ["source=kubernetes", "replicas=3"],
    "configmap": ["manifests.source=configMap", "manifests.configMap.files.a\\.yaml=x: 1"],
    "volume": ["manifests.source=volume", "manifests.volume.existingClaim=manifests"],
    "monitoring": MONITORING,
    "kubernetes-monitoring": ["source=kubernetes"] + MONITORING,
}


def helm(*args):
    return subprocess.run([apiserver.tool("helm"), *args], capture_output=True, text=True, timeout=120)


def render(option_values):
    args = ["template", RELEASE, CHART, "--namespace", NAMESPACE, "--kube-version", KUBE_VERSION]
    for value in REQUIRED + option_values:
        args += ["--set", value]
    out = helm(*args)
    if out.returncode != 0:
        raise AssertionError(f"helm template {option_values}: {out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def by_kind(documents):
    out = {}
    for d in documents:
        out.setdefault(d["kind"], []).append(d)
    return out


def operator_config(documents):
    configmap = next(d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-config"))
    return yaml.safe_load(configmap["data"]["operator.yaml"])


def container(documents):
    deployment = by_kind(documents)["Deployment"][0]
    return deployment, next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "operator")


class HelmLintTest(unittest.TestCase):
    def test_lint_passes_for_each_source(self):
        for name in ("default", "kubernetes", "monitoring"):
            with self.subTest(name):
                args = ["lint", CHART, "--strict", "--kube-version", KUBE_VERSION]
                for value in REQUIRED + OPTIONS[name]:
                    args += ["--set", value]
                out = helm(*args)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertIn("1 chart(s) linted, 0 chart(s) failed", out.stdout)


class HelmTemplateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rendered = {name: render(values) for name, values in OPTIONS.items()}

    def test_every_option_renders_valid_kubernetes_objects(self):
        for name, documents in self.rendered.items():
            with self.subTest(name):
                self.assertIn("Deployment", by_kind(documents))
                for d in documents:
                    self.assertTrue(d.get("apiVersion") and d.get("kind") and d["metadata"].get("name"), d)

    def test_directory_source_is_the_default_one_replica_recreated_no_rbac(self):
        documents = self.rendered["default"]
        deployment, operator = container(documents)
        self.assertEqual(deployment["spec"]["replicas"], 1)
        self.assertEqual(deployment["spec"]["strategy"]["type"], "Recreate")
        self.assertIn("--manifests", operator["args"])
        self.assertIs(deployment["spec"]["template"]["spec"]["automountServiceAccountToken"], False)
        self.assertEqual(operator_config(documents)["source"], {"kind": "directory"})
        kinds = by_kind(documents)
        for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
            self.assertNotIn(kind, kinds)

    def test_kubernetes_source_two_elected_replicas_with_the_source_block(self):
        documents = self.rendered["kubernetes"]
        deployment, operator = container(documents)
        spec = deployment["spec"]
        self.assertEqual((spec["replicas"], spec["strategy"]["type"]), (2, "RollingUpdate"))
        self.assertNotIn("--manifests", operator["args"])
        self.assertIs(spec["template"]["spec"]["automountServiceAccountToken"], True)
        self.assertEqual({e["name"] for e in operator["env"] if "valueFrom" in e}, {"POD_NAME", "POD_NAMESPACE"})
        self.assertEqual(operator_config(documents)["source"], {"kind": "kubernetes", "kubernetes": {
            "namespace": NAMESPACE, "leaderElection": {"enabled": True, "leaseDuration": "15s", "renewDeadline": "10s",
                                                       "retryPeriod": "2s", "leaseName": LEASE}}})
        self.assertIn("podAntiAffinity", spec["template"]["spec"]["affinity"])
        # No files to read: no git-sync, no manifests volume.
        names = [c["name"] for c in spec["template"]["spec"]["containers"] + spec["template"]["spec"].get("initContainers", [])]
        self.assertEqual(names, ["operator"])
        self.assertNotIn("manifests", [v["name"] for v in spec["template"]["spec"]["volumes"]])

    def test_the_rendered_operator_yaml_conforms_to_the_published_schema(self):
        with open(os.path.join(SOURCE, "manifests", "schema", "OperatorConfig.json")) as f:
            schema = json.load(f)
        for name, documents in self.rendered.items():
            with self.subTest(name):
                config = operator_config(documents)
                self.assertEqual(set(config["source"]) - {"kind", "kubernetes"}, set())
                jsonschema.validate(config, schema)

    def test_rbac_is_least_privilege(self):
        # Exactly the verbs the client sends (kube/client.cc): list+watch, PATCH for finalizers and /status,
        # POST of Events, GET/POST/PUT of the release's Lease.
        kinds = by_kind(self.rendered["kubernetes"])
        self.assertNotIn("ClusterRole", kinds)
        role = kinds["Role"][0]
        self.assertEqual(role["metadata"]["namespace"], NAMESPACE)
        plurals = sorted(os.path.basename(p).split(".")[0] for p in glob.glob(os.path.join(SOURCE, "manifests", "crds", "*.yaml")))
        rules = [(r["apiGroups"], sorted(r["resources"]), r.get("resourceNames"), r["verbs"]) for r in role["rules"]]
        self.assertEqual(rules, [
            (["anf-cmk.io"], plurals, None, ["get", "list", "watch", "patch"]),
            (["anf-cmk.io"], sorted(p + "/status" for p in plurals), None, ["patch"]),
            ([""], ["events"], None, ["create"]),
            (["coordination.k8s.io"], ["leases"], None, ["create"]),
            (["coordination.k8s.io"], ["leases"], [LEASE], ["get", "update"])])
        binding = kinds["RoleBinding"][0]
        self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": LEASE, "namespace": NAMESPACE}])
        for documents in self.rendered.values():
            for d in documents:
                for rule in d.get("rules", []):
                    self.assertNotIn("*", rule["verbs"] + rule["resources"] + rule["apiGroups"])
                    self.assertNotIn("secrets", rule["resources"])

    def test_another_watched_namespace_gets_the_role_and_the_lease_there(self):
        documents = self.rendered["kubernetes-one-namespace"]
        kinds = by_kind(documents)
        self.assertEqual([r["metadata"]["namespace"] for r in kinds["Role"] + kinds["RoleBinding"]], ["apps", "apps"])
        self.assertEqual(kinds["RoleBinding"][0]["subjects"][0]["namespace"], NAMESPACE)
        self.assertEqual(operator_config(documents)["source"]["kubernetes"]["namespace"], "apps")

    def test_without_leader_election_one_replica_and_no_lease_access(self):
        documents = self.rendered["kubernetes-no-election"]
        deployment, _ = container(documents)
        self.assertEqual((deployment["spec"]["replicas"], deployment["spec"]["strategy"]["type"]), (1, "Recreate"))
        self.assertNotIn("leases", [r["resources"][0] for r in by_kind(documents)["Role"][0]["rules"]])
        self.assertIs(operator_config(documents)["source"]["kubernetes"]["leaderElection"]["enabled"], False)

    def test_replicas_can_be_raised_with_leader_election(self):
        deployment, _ = container(self.rendered["kubernetes-3-replicas"])
        self.assertEqual(deployment["spec"]["replicas"], 3)

    def test_more_than_one_replica_without_a_leader_is_refused(self):
        for values in (["replicas=2"], ["source=kubernetes", "kubernetes.leaderElection.enabled=false", "replicas=2"]):
            with self.subTest(values):
                with self.assertRaisesRegex(AssertionError, "two operators must never act on Azure at once"):
                    render(values)

    def test_bad_source_values_are_refused_by_the_values_schema(self):
        for values in (["source=git"], ["kubernetes.leaderElection.leaseDuration=soon"], ["replicas=0"]):
            with self.subTest(values):
                with self.assertRaisesRegex(AssertionError, "values don't meet the specifications of the schema"):
                    render(values)

    def test_crds_ship_in_the_chart(self):
        out = helm("show", "crds", CHART)
        self.assertEqual(out.returncode, 0, out.stderr)
        shipped = {d["spec"]["names"]["kind"] for d in yaml.safe_load_all(out.stdout) if d}
        self.assertEqual(len(shipped), 6)
        for path in glob.glob(os.path.join(SOURCE, "manifests", "crds", "*.yaml")):
            with open(path) as a, open(os.path.join(CHART, "crds", os.path.basename(path))) as b:
                self.assertEqual(a.read(), b.read(), path)


class HelmDryRunTest(unittest.TestCase):
    """The rendered chart sent to a real apiserver with ?dryRun=All: admission, schema and field validation run,
    nothing is stored."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = apiserver.Cluster().start()
        apply_crds(cls.cluster, sorted(glob.glob(os.path.join(CHART, "crds", "*.yaml"))) + apiserver.monitoring_crds())
        for namespace in (NAMESPACE, "apps"):
            create_namespace(cls.cluster, namespace)

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)

    def collection(self, document):
        """The collection path of `document`'s kind, from discovery."""
        group_version = document["apiVersion"]
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        _, discovery = self.cluster.request("GET", base)
        resource = next(r for r in discovery["resources"] if r["kind"] == document["kind"] and "/" not in r["name"])
        if resource["namespaced"]:
            return f"{base}/namespaces/{document['metadata'].get('namespace', NAMESPACE)}/{resource['name']}"
        return f"{base}/{resource['name']}"

    def create(self, document, dry_run=True):
        query = "?fieldValidation=Strict" + ("&dryRun=All" if dry_run else "")
        return self.cluster.request("POST", self.collection(document) + query, document)

    def test_every_option_is_accepted_by_the_apiserver(self):
        sent = set()
        for name, values in OPTIONS.items():
            for document in render(values):
                with self.subTest(f"{name}: {document['kind']}/{document['metadata']['name']}"):
                    status, body = self.create(document)
                    self.assertEqual(status, 201, body)
                    sent.add(document["kind"])
        self.assertLessEqual({"ServiceMonitor", "PrometheusRule", "Role", "RoleBinding", "Deployment"}, sent)
        # Nothing was stored.
        status, body = self.cluster.request("GET", f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments")
        self.assertEqual((status, body["items"]), (200, []))

    def test_a_broken_object_is_refused_by_the_dry_run(self):
        deployment, _ = container(render([]))
        deployment["spec"]["replicas"] = "two"
        status, body = self.create(deployment)
        self.assertIn(status, (400, 422), body)

    def test_the_service_account_may_do_what_the_operator_does_and_nothing_else(self):
        for document in render(OPTIONS["kubernetes"]):
            if document["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
                status, body = self.create(document, dry_run=False)
                self.assertEqual(status, 201, body)
        account = f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{RELEASE}-anf-cmk-operator"
        status, issued = self.cluster.request("POST", account + "/token", {
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}})
        self.assertEqual(status, 201, issued)
        token = issued["status"]["token"]
        crs = f"/apis/anf-cmk.io/v1alpha1/namespaces/{NAMESPACE}"
        leases = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"
        allowed = {
            "list volumes": ("GET", f"{crs}/volumes"),
            "watch pools": ("GET", f"{crs}/capacitypools?watch=1&timeoutSeconds=1"),
            "create an event": ("POST", f"/api/v1/namespaces/{NAMESPACE}/events"),
            "create the lease": ("POST", leases),
            "read the lease": ("GET", f"{leases}/{LEASE}"),
            "renew the lease": ("PUT", f"{leases}/{LEASE}"),
            "patch a finalizer": ("PATCH", f"{crs}/volumes/vol1"),
            "patch a status": ("PATCH", f"{crs}/netappaccounts/acct/status"),
        }
        denied = {
            "read secrets": ("GET", f"/api/v1/namespaces/{NAMESPACE}/secrets"),
            "read configmaps": ("GET", f"/api/v1/namespaces/{NAMESPACE}/configmaps"),
            "delete a volume": ("DELETE", f"{crs}/volumes/vol1"),
            "create a volume": ("POST", f"{crs}/volumes"),
            "replace a volume's spec": ("PUT", f"{crs}/volumes/vol1"),
            "read another lease": ("GET", f"{leases}/other"),
            "renew another lease": ("PUT", f"{leases}/other"),
            "write a pod's status": ("PATCH", f"/api/v1/namespaces/{NAMESPACE}/pods/p/status"),
            "a lease elsewhere": ("POST", "/apis/coordination.k8s.io/v1/namespaces/apps/leases"),
            "volumes elsewhere": ("GET", "/apis/anf-cmk.io/v1alpha1/namespaces/apps/volumes"),
            "volumes everywhere": ("GET", "/apis/anf-cmk.io/v1alpha1/volumes"),
            "list pods": ("GET", "/api/v1/pods"),
        }
        for what, (verb, path) in {**allowed, **denied}.items():
            with self.subTest(what):
                self.assertEqual(self.may(token, verb, path), what in allowed)

    def may(self, token, verb, path):
        """What the apiserver's authorizer says to `token` for `verb path` (SelfSubjectAccessReview)."""
        parts = path.split("?")[0].strip("/").split("/")
        api = parts[1:3] if parts[0] == "apis" else ["", parts[1]]
        rest = parts[3:] if parts[0] == "apis" else parts[2:]
        attributes = {"group": api[0], "version": api[1]}
        if rest[:1] == ["namespaces"] and len(rest) > 2:
            attributes["namespace"], rest = rest[1], rest[2:]
        attributes["resource"] = rest[0]
        if len(rest) > 1:
            attributes["name"] = rest[1]
        if len(rest) > 2:
            attributes["subresource"] = rest[2]
        attributes["verb"] = {"POST": "create", "DELETE": "delete", "PUT": "update", "PATCH": "patch",
                              "GET": "get" if len(rest) > 1 else "list"}[verb]
        if "watch=1" in path:
            attributes["verb"] = "watch"
        status, review = self.cluster.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes}}, token=token)
        self.assertEqual(status, 201, review)
        return review["status"]["allowed"]


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:2] if len(sys.argv) > 1 else sys.argv, verbosity=2)
