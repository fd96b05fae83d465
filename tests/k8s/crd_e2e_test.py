#!/usr/bin/env python3
"""The generated CRDs (manifests/crds/) on a real kube-apiserver: they are accepted as structural, every example
document is accepted as a custom resource by server-side validation, and the schema's rules are enforced there.

Run one class: crd_e2e_test.py CrdTest (CTest registers one entry per class).
"""
import copy
import glob
import os
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apiserver  # noqa: E402

SOURCE = apiserver.SOURCE
BINARY = os.environ.get("ANF_BINARY", os.path.join(SOURCE, "build", "dev", "cmd", "anf-cmk-operator", "anf-cmk-operator"))
# Document sets whose every field is mutated in the agreement test: every kind, most fields.
AGREEMENT_SETS = ["quickstart/quickstart.yaml", "cross-tenant/with-customer-credential/cross-tenant.yaml",
                  "cmk-user-assigned/cmk.yaml"]
GROUP, VERSION = "anf-cmk.io", "v1alpha1"
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def apply_crds(cluster, files):
    """Creates the CRDs in `files` and waits until each is Established; returns them by kind."""
    crds = {}
    for path in files:
        for crd in load_all(path):
            status, body = cluster.request("POST", CRD_PATH + "?fieldValidation=Strict", crd)
            if status != 201:
                raise AssertionError(f"{path}: {status} {body}")
            crds[crd["spec"]["names"]["kind"]] = crd
    for crd in crds.values():
        wait_established(cluster, crd["metadata"]["name"])
    return crds


def wait_established(cluster, name, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, body = cluster.request("GET", f"{CRD_PATH}/{name}")
        conditions = {c["type"]: c["status"] for c in (body.get("status") or {}).get("conditions", [])}
        if conditions.get("Established") == "True":
            return
        time.sleep(0.2)
    raise AssertionError(f"CRD {name} not Established: {body}")


def mutations(value, schema, path):
    """(field path, mutated copy of `value`) for each way to break `value` that its structural schema refuses: an
    enum value outside the enum, a string outside its pattern, an integer outside its bounds, a required field
    missing, an unknown field. Recurses into the fields and items present."""
    out = []
    if schema.get("type") == "object" and isinstance(value, dict):
        for name in schema.get("required", []):
            if name in value:
                out.append((f"{path}.{name}", {k: v for k, v in value.items() if k != name}))
        if "properties" in schema:
            out.append((f"{path}.notAField", dict(value, notAField="x")))
        for name, child in value.items():
            for where, broken in mutations(child, schema.get("properties", {}).get(name, {}), f"{path}.{name}"):
                out.append((where, dict(value, **{name: broken})))
    elif schema.get("type") == "array" and isinstance(value, list):
        for i, item in enumerate(value):
            for where, broken in mutations(item, schema.get("items", {}), f"{path}[{i}]"):
                out.append((where, value[:i] + [broken] + value[i + 1:]))
    elif schema.get("type") == "string" and "enum" in schema:
        out.append((path, "NotOneOfThem"))
    elif schema.get("type") == "string" and ("pattern" in schema or "allOf" in schema):
        out.append((path, "not a valid value!"))
    elif schema.get("type") == "integer":
        out += [(path, schema[bound] + step) for bound, step in (("minimum", -1), ("maximum", 1)) if bound in schema]
    return out


def create_namespace(cluster, name):
    status, body = cluster.request("POST", "/api/v1/namespaces",
                                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert status in (201, 409), body


class CrdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = apiserver.Cluster().start()
        cls.crds = apply_crds(cls.cluster, sorted(glob.glob(os.path.join(SOURCE, "manifests", "crds", "*.yaml"))))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.__exit__(None, None, None)

    def path(self, kind, namespace="default", name=""):
        plural = self.crds[kind]["spec"]["names"]["plural"]
        return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")

    def create(self, document, namespace="default"):
        return self.cluster.request("POST", self.path(document["kind"], namespace) + "?fieldValidation=Strict", document)

    def test_one_crd_per_kind_served_with_short_names_and_category(self):
        self.assertEqual(set(self.crds), {"UserAssignedIdentity", "NetAppAccount", "PrivateEndpoint", "CapacityPool",
                                          "Volume", "CrossTenantApplication"})
        status, discovery = self.cluster.request("GET", f"/apis/{GROUP}/{VERSION}")
        self.assertEqual(status, 200)
        resources = {r["kind"]: r for r in discovery["resources"] if "/" not in r["name"]}
        self.assertEqual(set(resources), set(self.crds))
        self.assertIn("anfvol", resources["Volume"]["shortNames"])
        self.assertTrue(all("anf-cmk" in r["categories"] for r in resources.values()))
        self.assertIn("volumes/status", {r["name"] for r in discovery["resources"]})

    def test_every_example_document_is_accepted(self):
        created = 0
        examples = os.path.join(SOURCE, "manifests", "examples")
        for folder in sorted({os.path.dirname(p) for p in glob.glob(os.path.join(examples, "*", "**", "*.yaml"),
                                                                     recursive=True)}):
            # One namespace per folder: a folder is one set of documents (variants reuse names).
            namespace = "ex-" + os.path.relpath(folder, examples).replace("/", "-").replace("_", "-").lower()
            create_namespace(self.cluster, namespace)
            for path in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
                for document in load_all(path):
                    status, body = self.create(document, namespace)
                    self.assertEqual(status, 201, f"{path} {document['kind']}/{document['metadata']['name']}: {body}")
                    self.assertEqual(body["spec"]["deletionPolicy"] if "deletionPolicy" in body["spec"] else "Retain",
                                     document["spec"].get("deletionPolicy", "Retain"))
                    created += 1
        self.assertGreater(created, 40)

    def test_the_apiserver_and_the_validator_refuse_the_same_mutations(self):
        # The CRDs and `anf-cmk-operator validate` come from one schema table: every field of these documents,
        # broken in each way the CRD's schema refuses, is refused by both, and the validator names the field.
        cases = 0
        for name in AGREEMENT_SETS:
            documents = load_all(os.path.join(SOURCE, "manifests", "examples", name))
            rc, output = self.validate(documents)
            self.assertEqual(rc, 0, f"{name} must be valid as it is: {output}")
            for i, document in enumerate(documents):
                schema = self.crds[document["kind"]]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
                for field, spec in mutations(document["spec"], schema["properties"]["spec"], "spec"):
                    broken = dict(copy.deepcopy(document), spec=spec)
                    with self.subTest(f"{name} {document['kind']}/{document['metadata']['name']} {field}"):
                        status, body = self.cluster.request(
                            "POST", self.path(document["kind"]) + "?fieldValidation=Strict&dryRun=All", broken)
                        self.assertIn(status, (400, 422), body)
                        rc, errors = self.validate(documents[:i] + [broken] + documents[i + 1:])
                        self.assertEqual(rc, 1, errors)
                        where = field.rsplit(".notAField", 1)[0] if field.endswith(".notAField") else field
                        self.assertIn(f"{document['kind']}/{document['metadata']['name']}: {where.split('[')[0]}",
                                      errors)
                    cases += 1
        self.assertGreater(cases, 100)  # 134 today, every kind

    def validate(self, documents):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump_all(documents, f)
            f.flush()
            out = subprocess.run([BINARY, "validate", f.name], capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    def quickstart(self, kind):
        documents = load_all(os.path.join(SOURCE, "manifests", "examples", "quickstart", "quickstart.yaml"))
        return next(d for d in documents if d["kind"] == kind)

    def test_an_unknown_field_is_rejected(self):
        pool = self.quickstart("CapacityPool")
        pool["metadata"]["name"] = "typo-pool"
        pool["spec"]["sizeTIB"] = 4
        status, body = self.create(pool)
        self.assertEqual(status, 400, body)
        self.assertIn('unknown field "spec.sizeTIB"', body["message"])

    def test_a_value_outside_the_schema_is_rejected(self):
        for field, value, words in (("serviceLevel", "Gold", "spec.serviceLevel"), ("sizeTiB", "four", "spec.sizeTiB"),
                                    ("accountRef", "Not_A_Name", "spec.accountRef")):
            pool = self.quickstart("CapacityPool")
            pool["metadata"]["name"] = "bad-" + field.lower()
            pool["spec"][field] = value
            status, body = self.create(pool)
            self.assertEqual(status, 422, f"{field}: {body}")
            self.assertIn(words, body["message"])

    def test_a_missing_required_field_and_a_bad_name_are_rejected(self):
        pool = self.quickstart("CapacityPool")
        pool["metadata"]["name"] = "no-account"
        del pool["spec"]["accountRef"]
        status, body = self.create(pool)
        self.assertEqual(status, 422, body)
        self.assertIn("spec.accountRef: Required value", body["message"])
        pool = self.quickstart("CapacityPool")
        pool["metadata"]["name"] = "dotted.name"  # a DNS-1123 subdomain, not the label the documents use
        status, body = self.create(pool)
        self.assertEqual(status, 422, body)

    def test_status_goes_through_the_subresource_and_shows_in_the_printer_columns(self):
        volume = self.quickstart("Volume")
        volume["metadata"]["name"] = "printed"
        status, created = self.create(volume)
        self.assertEqual(status, 201, created)
        self.assertEqual(created["metadata"]["generation"], 1)
        created["status"] = {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "KeyVaultUnreachable", "message": "m",
             "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
        status, updated = self.cluster.request("PUT", self.path("Volume", name="printed") + "/status", created)
        self.assertEqual(status, 200, updated)
        self.assertEqual(updated["metadata"]["generation"], 1)  # status writes do not bump the generation
        # A status sent to the main resource is ignored: the subresource owns it.
        updated["status"] = {"conditions": []}
        updated["spec"]["usageThresholdGiB"] = updated["spec"]["usageThresholdGiB"] + 1
        status, edited = self.cluster.request("PUT", self.path("Volume", name="printed"), updated)
        self.assertEqual(status, 200, edited)
        self.assertEqual(edited["metadata"]["generation"], 2)
        self.assertEqual(edited["status"]["conditions"][0]["reason"], "KeyVaultUnreachable")
        status, table = self.cluster.request("GET", self.path("Volume"), accept=TABLE)
        self.assertEqual(status, 200, table)
        columns = [c["name"] for c in table["columnDefinitions"]]
        self.assertEqual(columns[:4], ["Name", "READY", "REASON", "AGE"])
        row = next(r["cells"] for r in table["rows"] if r["cells"][0] == "printed")
        self.assertEqual(row[1:3], ["False", "KeyVaultUnreachable"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:2] if len(sys.argv) > 1 else sys.argv, verbosity=2)
