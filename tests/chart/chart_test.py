#!/usr/bin/env python3
"""Checks of the Helm chart and the image recipe that need no helm binary and no Docker engine.

Run one class: chart_test.py ValuesSchemaTest (CTest registers one entry per class).
Needs Debian's python3-yaml and python3-jsonschema (scripts/setup.sh installs them).
"""
import copy
import json
import os
import re
import sys
import unittest

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promql  # noqa: E402

SOURCE = os.environ.get("ANF_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CHART = os.path.join(SOURCE, "charts", "anf-cmk-operator")
TEMPLATES = os.path.join(CHART, "templates")


def read(*parts):
    with open(os.path.join(*parts), encoding="utf-8") as f:
        return f.read()


def load_values():
    return yaml.safe_load(read(CHART, "values.yaml"))


def load_schema():
    return json.loads(read(CHART, "values.schema.json"))


def set_path(values, path, value):
    """Sets values[a][b]... for path "a.b..."; list indexes are written as numbers."""
    keys = path.split(".")
    node = values
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


class ValuesSchemaTest(unittest.TestCase):
    """values.schema.json accepts the defaults and the documented variants, and refuses wrong values
    (what `helm install` would refuse)."""

    def setUp(self):
        self.schema = load_schema()
        self.validator = jsonschema.Draft7Validator(self.schema)

    def errors(self, values):
        return sorted(self.validator.iter_errors(values), key=lambda e: list(e.absolute_path))

    def test_schema_is_valid_draft7(self):
        jsonschema.Draft7Validator.check_schema(self.schema)

    def test_default_values_are_valid(self):
        errors = self.errors(load_values())
        self.assertEqual([], [f"{list(e.absolute_path)}: {e.message}" for e in errors])

    def test_documented_variants_are_valid(self):
        cases = {
            "client secret credential": ("credentials", [
                {"name": "provider", "tenantId": "10000000-0000-4000-8000-000000000001", "workloadIdentity": {}},
                {"name": "customer", "tenantId": "20000000-0000-4000-8000-000000000002",
                 "clientSecret": {"clientId": "20000000-0000-4000-8000-00000000c002",
                                  "secretRef": {"name": "anf-cmk-customer", "key": "client-secret"}}}]),
            "configMap source": ("manifests.source", "configMap"),
            "volume source": ("manifests.source", "volume"),
            "ssh git auth": ("manifests.gitSync.auth", {"type": "ssh", "existingSecret": "git-ssh", "sshKnownHosts": True}),
            "image digest": ("image.digest", "sha256:" + "a" * 64),
            "custom cloud": ("config.azure", {"cloud": "Custom", "endpoints": {
                "resourceManager": "https://127.0.0.1:8443", "authority": "https://127.0.0.1:8443/",
                "graph": "https://127.0.0.1:8443"}, "caFile": "/ca/ca.pem",
                "defaults": {"tenant": "provider"}}),
            "kubernetes source": ("source", "kubernetes"),
            "kubernetes source in another namespace": ("kubernetes", {"namespace": "apps", "leaderElection": {
                "enabled": True, "leaseDuration": "30s", "renewDeadline": "20s", "retryPeriod": "4s"}}),
            "three replicas": ("replicas", 3),
            "tolerations passthrough": ("tolerations", [{"key": "dedicated", "operator": "Equal", "value": "ops",
                                                         "effect": "NoSchedule"}]),
        }
        for name, (path, value) in cases.items():
            with self.subTest(name):
                values = load_values()
                set_path(values, path, value)
                self.assertEqual([], [e.message for e in self.errors(values)])

    # (name, path, wrong value, where the error must point)
    WRONG = [
        ("unknown manifest source", "manifests.source", "svn", ["manifests", "source"]),
        ("unknown pull policy", "image.pullPolicy", "Sometimes", ["image", "pullPolicy"]),
        ("period is not a duration", "manifests.gitSync.period", "every minute", ["manifests", "gitSync", "period"]),
        ("zero workers", "config.controller.workers", 0, ["config", "controller", "workers"]),
        ("unknown log level", "config.logging.level", "verbose", ["config", "logging", "level"]),
        ("unknown cloud", "config.azure.cloud", "AzureMoon", ["config", "azure", "cloud"]),
        ("client secret inline", "credentials", [{"name": "customer", "clientSecret": {
            "clientId": "20000000-0000-4000-8000-00000000c002", "value": "customer-admin-secret"}}],
         ["credentials", 0, "clientSecret"]),
        ("credential of two kinds", "credentials", [{"name": "provider", "workloadIdentity": {},
                                                      "managedIdentity": {}}], ["credentials", 0]),
        ("no credential", "credentials", [], ["credentials"]),
        ("tenant id not a uuid", "credentials.0.tenantId", "contoso.onmicrosoft.com", ["credentials", 0, "tenantId"]),
        ("privilege escalation allowed", "securityContext.allowPrivilegeEscalation", True,
         ["securityContext", "allowPrivilegeEscalation"]),
        ("root pod", "podSecurityContext.runAsNonRoot", False, ["podSecurityContext", "runAsNonRoot"]),
        ("replica count is not a value", "replicaCount", 2, []),
        ("port out of range", "service.port", 70000, ["service", "port"]),
        ("unknown document source", "source", "etcd", ["source"]),
        ("watched namespace not a name", "kubernetes.namespace", "Apps_1", ["kubernetes", "namespace"]),
        ("lease duration not a duration", "kubernetes.leaderElection.leaseDuration", "15 seconds",
         ["kubernetes", "leaderElection", "leaseDuration"]),
        ("zero replicas", "replicas", 0, ["replicas"]),
        ("key expiry days not a number", "metrics.prometheusRule.keyExpiryWarningDays", "30d",
         ["metrics", "prometheusRule", "keyExpiryWarningDays"]),
        ("manifest file not yaml", "manifests.configMap.files", {"account.txt": "kind: NetAppAccount"},
         ["manifests", "configMap", "files"]),
    ]

    def test_wrong_values_fail(self):
        for name, path, value, where in self.WRONG:
            with self.subTest(name):
                values = load_values()
                set_path(values, path, value)
                errors = self.errors(values)
                self.assertTrue(errors, f"{path}={value!r} was accepted")
                self.assertIn(where, [list(e.absolute_path) for e in errors],
                              [f"{list(e.absolute_path)}: {e.message}" for e in errors])


class ChartFilesParseTest(unittest.TestCase):
    """Every non-template YAML and JSON file of the chart parses, and has the shape its consumer needs."""

    def test_every_plain_file_parses(self):
        parsed = 0
        for folder, _, files in os.walk(CHART):
            if os.path.abspath(folder).startswith(TEMPLATES):
                continue  # Go templates are checked by TemplateStructureTest
            for name in files:
                path = os.path.join(folder, name)
                with self.subTest(os.path.relpath(path, CHART)):
                    if name.endswith((".yaml", ".yml")):
                        list(yaml.safe_load_all(read(path)))
                        parsed += 1
                    elif name.endswith(".json"):
                        json.loads(read(path))
                        parsed += 1
        self.assertGreaterEqual(parsed, 5)  # Chart, values, schema, rules, dashboard

    def test_chart_yaml(self):
        chart = yaml.safe_load(read(CHART, "Chart.yaml"))
        self.assertEqual("v2", chart["apiVersion"])
        self.assertEqual("anf-cmk-operator", chart["name"])
        self.assertEqual("application", chart["type"])
        for key in ("version", "appVersion"):
            self.assertRegex(str(chart[key]), r"^\d+\.\d+\.\d+")

    def test_rules_file_is_a_prometheus_rule_file(self):
        rules = yaml.safe_load(promql.fill_rule_placeholders(read(CHART, "rules", "alerts.yaml")))
        alerts = [r for g in rules["groups"] for r in g["rules"]]
        names = {r["alert"] for r in alerts}
        for required in ("AnfCmkReconcileErrorsRising", "AnfCmkResourceNotReady", "AnfCmkArmThrottled",
                         "AnfCmkKeyExpiringSoon", "AnfCmkKeyVaultStatusUnhealthy", "AnfCmkManifestErrors"):
            self.assertIn(required, names)
        for rule in alerts:
            with self.subTest(rule["alert"]):
                self.assertRegex(rule["for"], r"^\d+[smh]$")
                self.assertIn(rule["labels"]["severity"], ("critical", "warning", "info"))
                self.assertTrue(rule["annotations"]["summary"])
                self.assertTrue(rule["annotations"]["description"])
                promql.check_balanced(rule["expr"])
                self.assertNotRegex(rule["expr"] + json.dumps(rule), r"__[A-Z_]+__", "placeholder left unfilled")

    def test_not_ready_alert_waits_15_minutes_and_key_expiry_30_days(self):
        text = promql.fill_rule_placeholders(read(CHART, "rules", "alerts.yaml"))
        alerts = {r["alert"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}
        self.assertEqual("15m", alerts["AnfCmkResourceNotReady"]["for"])
        self.assertIn("30 * 86400", alerts["AnfCmkKeyExpiringSoon"]["expr"])
        self.assertIn("anf_cmk_key_expiry_timestamp_seconds", alerts["AnfCmkKeyExpiringSoon"]["expr"])
        self.assertIn("anf_cmk_key_vault_status", alerts["AnfCmkKeyVaultStatusUnhealthy"]["expr"])

    def test_dashboard_covers_the_required_views(self):
        dash = json.loads(read(CHART, "dashboards", "anf-cmk-operator.json"))
        self.assertEqual("anf-cmk-operator", dash["uid"])
        exprs = " ".join(promql.dashboard_expressions(dash))
        for needle in ("controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
                       "workqueue_depth", "workqueue_queue_duration_seconds_bucket", "anf_cmk_arm_requests_total",
                       "by (code)", "anf_cmk_lro_in_flight", "anf_cmk_resource_ready",
                       "anf_cmk_key_expiry_timestamp_seconds"):
            self.assertIn(needle, exprs)
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in dash["panels"]:
            for t in p.get("targets", []):
                promql.check_balanced(t["expr"])


class TemplateStructureTest(unittest.TestCase):
    """Structural facts of the templates, read as text (no helm here to render them)."""

    @classmethod
    def setUpClass(cls):
        cls.templates = {n: read(TEMPLATES, n) for n in os.listdir(TEMPLATES)}
        cls.deployment = cls.templates["deployment.yaml"]

    def test_template_actions_are_balanced(self):
        opener = re.compile(r"\{\{-?\s*(if|range|with|define|block)\b")
        closer = re.compile(r"\{\{-?\s*end\s*-?\}\}")
        for name, text in self.templates.items():
            with self.subTest(name):
                self.assertEqual(text.count("{{"), text.count("}}"))
                self.assertEqual(len(opener.findall(text)), len(closer.findall(text)))

    def test_replicas_and_strategy_follow_leader_election(self):
        # Rendered for each source by helm_test.py; one replica, Recreate, unless replicas elect a leader.
        self.assertIn('replicas: {{ include "anf-cmk-operator.replicas" . }}', self.deployment)
        self.assertRegex(self.deployment, r'strategy:\n    type: \{\{ if include "anf-cmk-operator.leaderElection" \. \}\}'
                                          r"RollingUpdate\{\{ else \}\}Recreate")
        self.assertNotIn("replicaCount", self.deployment)

    def test_probes_on_health_port(self):
        self.assertRegex(self.deployment, r"livenessProbe:\n\s+httpGet:\n\s+path: /healthz\n\s+port: health")
        self.assertRegex(self.deployment, r"readinessProbe:\n\s+httpGet:\n\s+path: /readyz\n\s+port: health")
        self.assertRegex(self.deployment, r"name: health\n\s+containerPort: 8081")
        self.assertRegex(self.deployment, r"name: metrics\n\s+containerPort: 8080")

    def test_command_and_config(self):
        self.assertRegex(self.deployment, r"args:\n\s+- run\n\s+- --config\n\s+- /etc/anf-cmk-operator/operator.yaml\n"
                                          r"\s+\{\{- if \$files \}\}\n\s+- --manifests\n")
        config = self.templates["configmap.yaml"]
        for line in ('metrics: ":8080"', 'health: ":8081"', 'status: "127.0.0.1:8082"',
                     "tokenFile: /var/run/secrets/azure/tokens/azure-identity-token"):
            self.assertIn(line, config)

    def test_security_context_defaults(self):
        values = load_values()
        sc = values["securityContext"]
        self.assertIs(True, sc["runAsNonRoot"])
        self.assertIs(False, sc["allowPrivilegeEscalation"])
        self.assertIs(True, sc["readOnlyRootFilesystem"])
        self.assertEqual(["ALL"], sc["capabilities"]["drop"])
        self.assertIs(True, values["podSecurityContext"]["runAsNonRoot"])
        self.assertIn("securityContext:\n            {{- toYaml .Values.securityContext", self.deployment)
        self.assertIn("{{- toYaml $root.Values.securityContext", self.templates["_gitsync.tpl"])

    def test_tmp_is_a_writable_empty_dir(self):
        self.assertRegex(self.deployment, r"- name: tmp\n\s+mountPath: /tmp\n")
        self.assertRegex(self.deployment, r"- name: tmp\n\s+emptyDir:")

    def test_workload_identity_label_and_annotation(self):
        self.assertIn('azure.workload.identity/use: "true"', self.deployment)
        self.assertIn("azure.workload.identity/client-id:", self.templates["serviceaccount.yaml"])

    def test_no_secret_values_by_default(self):
        def walk(node, path):
            if isinstance(node, dict):
                for k, v in node.items():
                    yield from walk(v, path + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    yield from walk(v, path + [i])
            else:
                yield path, node
        for path, value in walk(load_values(), []):
            key = str(path[-1]).lower() if path else ""
            if any(w in key for w in ("secret", "password", "token")) and key not in ("existingsecret",):
                self.assertIn(value, ("", None, {}, []), f"{path} holds a value")
        self.assertNotIn("kind: Secret", "".join(self.templates.values()))

    def test_client_secrets_are_mounted_from_secret_references(self):
        self.assertIn("secretName: {{ required", self.deployment)
        self.assertIn('secretFile: {{ printf "/secrets/%s/%s"', self.templates["configmap.yaml"])

    def test_manifest_sources(self):
        helpers = self.templates["_helpers.tpl"]
        self.assertIn('eq $m.source "gitSync"', helpers)
        self.assertIn('eq $m.source "configMap"', self.deployment)
        self.assertIn("persistentVolumeClaim", self.deployment)
        gitsync = self.templates["_gitsync.tpl"]
        for var in ("GITSYNC_REPO", "GITSYNC_REF", "GITSYNC_ROOT", "GITSYNC_LINK", "GITSYNC_PERIOD"):
            self.assertIn(var, gitsync)
        # The operator reads through the link git-sync swaps, never a fixed worktree.
        self.assertIn('printf "%s/%s" (include "anf-cmk-operator.gitSyncRoot" .) (include "anf-cmk-operator.gitSyncLink" .)',
                      helpers)

    def test_placement_passthrough(self):
        for key in ("nodeSelector", "tolerations", "affinity", "resources"):
            self.assertIn(f".Values.{key}", self.deployment)

    def test_optional_monitoring_objects(self):
        self.assertTrue(self.templates["servicemonitor.yaml"].startswith("{{- if .Values.metrics.serviceMonitor.enabled }}"))
        self.assertTrue(self.templates["prometheusrule.yaml"].startswith("{{- if .Values.metrics.prometheusRule.enabled }}"))
        rule = self.templates["prometheusrule.yaml"]
        for placeholder in promql.RULE_PLACEHOLDERS:
            self.assertIn(f'replace "{placeholder}"', rule)
        self.assertIn("NOTES.txt", self.templates)


class DockerfileTest(unittest.TestCase):
    """The image recipe: the facts the chart relies on, and one package list shared with build-image.sh."""

    @classmethod
    def setUpClass(cls):
        cls.dockerfile = read(SOURCE, "Dockerfile")

    def test_entrypoint_and_user(self):
        self.assertIn('ENTRYPOINT ["anf-cmk-operator"]', self.dockerfile)
        self.assertRegex(self.dockerfile, r'\nCMD \["run", ')
        user = re.findall(r"^USER (\S+)", self.dockerfile, re.M)
        self.assertEqual(1, len(user))
        self.assertNotIn(user[0].split(":")[0], ("0", "root"))
        self.assertRegex(user[0], r"^\d+:\d+$", "numeric, so runAsNonRoot can be verified")

    def test_stages_run_the_script_steps(self):
        stages = re.findall(r"^FROM \S+ AS (\w+)", self.dockerfile, re.M)
        self.assertEqual(["build", "runtime"], stages)
        for step in ("build-image.sh packages", "build-image.sh build", "build-image.sh runtime-packages",
                     "build-image.sh check"):
            self.assertIn(step, self.dockerfile)
        self.assertIn("scripts/runtime-packages.txt", self.dockerfile)
        self.assertIn("org.opencontainers.image.revision", self.dockerfile)

    def test_runtime_package_list_is_read_by_the_script(self):
        script = read(SOURCE, "scripts", "build-image.sh")
        self.assertIn("runtime-packages.txt", script)
        self.assertNotIn("--packages-only", self.dockerfile)  # the script is the single way in
        packages = [l.split("#")[0].strip() for l in read(SOURCE, "scripts", "runtime-packages.txt").splitlines()]
        packages = [p for p in packages if p]
        self.assertIn("ca-certificates", packages)
        self.assertFalse([p for p in packages if p.endswith("-dev")], "no development packages at runtime")


if __name__ == "__main__":
    unittest.main(verbosity=2)
