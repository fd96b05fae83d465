"""The reliability tests' fleet (issue 15) and what they check in Azure, on top of bench/fleet.py (imported, not
copied): its fleet of CMK volumes (system- and user-assigned identities x access policy and RBAC, here with the
minimal custom role), plus one account per flow of manifests/examples/ that has a second stage (PMK->CMK
transition, key vault change, identity switch, which sends renewCredentials) and one cross-tenant account whose
key lives in a customer tenant (the operator holds the customer credential).

    fleet = MixedFleet(volumes=100)
    emulator = fleet.start_emulator(work, binary, emulator_flags); op = start_operator(binary, work, emulator, "10s")
    fleet.write_second_stages(manifests)      # once the first stages are Ready
    audit(emulator) -> {duplicate kind: [keys]}; post_counts(log)
"""
import json
import os
import random
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
import fleet as bench  # noqa: E402  bench/fleet.py

CUSTOMER = {"tenant": "20000000-0000-4000-8000-000000000002", "subscription": "20000000-0000-4000-8000-0000000000b1",
            "group": "customer-rg", "vault": "anfkv-customer",
            "admin": {"name": "admin", "clientId": "20000000-0000-4000-8000-00000000c002",
                      "clientSecret": "customer-admin-secret", "objectId": "20000000-0000-4000-8000-00000000d002"}}
CUSTOMER_VAULT = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/%s" % (
    CUSTOMER["subscription"], CUSTOMER["group"], CUSTOMER["vault"])
# The POST actions that must be sent at most once per intent (one intent each in this fleet).
POST_ACTIONS = ("transitiontocmk", "changekeyvault", "renewcredentials")
FLOW_VOLUMES = 2  # volumes per flow account


def flow_account(index, name, identity, access):
    """A bench-style account for one flow, after the fleet's accounts (its own pool and FLOW_VOLUMES volumes)."""
    return {"name": name, "pool": name + "-pool", "poolTiB": 2, "subscription": bench.subscription_id(0),
            "identity": identity, "access": access, "uai": name + "-id" if identity == "UserAssigned" else None,
            "volumes": ["%s-vol-%d" % (name, v) for v in range(FLOW_VOLUMES)], "index": index}


def vnet_id(sub):
    return bench.arm_ids(sub)["rg"] + "/providers/Microsoft.Network/virtualNetworks/" + bench.VNET


def minimal_role(docs):
    """bench's RBAC accounts use the built-in role; the reliability fleet uses the minimal custom role."""
    for d in docs:
        access = d["spec"].get("encryption", {}).get("access", {})
        if access.get("mode") == "RoleAssignment":
            access["role"] = "MinimalCustomRole"
    return docs


def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def pmk_documents(a):
    """Stage 1 of the transition: the account and its volumes with platform-managed keys."""
    docs = [d for d in bench.account_documents(a, {}) if d["kind"] != "UserAssignedIdentity"]
    account = of_kind(docs, "NetAppAccount")[0]
    account["spec"].pop("identity")
    account["spec"]["encryption"] = {"keySource": "Microsoft.NetApp"}
    for v in of_kind(docs, "Volume"):
        v["spec"]["encryptionKeySource"] = "Microsoft.NetApp"
        v["spec"].pop("keyVaultPrivateEndpointRef")
    return docs


def transition_documents(a):
    docs = bench.account_documents(a, {})
    of_kind(docs, "NetAppAccount")[0]["spec"]["transitionToCMK"] = [
        {"virtualNetworkId": vnet_id(a["subscription"]), "privateEndpointRef": bench.endpoint_name(a["subscription"], a["access"])}]
    return docs


def changed_vault_documents(a):
    """The account moved to the RBAC vault, with the endpoint changeKeyVault moves its volumes to."""
    docs = minimal_role(bench.account_documents(dict(a, access="RoleAssignment"), {}))
    of_kind(docs, "NetAppAccount")[0]["spec"]["encryption"]["keyVault"]["privateEndpoints"] = [
        {"virtualNetworkId": vnet_id(a["subscription"]), "privateEndpointRef": bench.endpoint_name(a["subscription"], "RoleAssignment")}]
    return docs


def cross_tenant_documents(a):
    """manifests/examples/cross-tenant/with-customer-credential for a bench-style user-assigned account."""
    docs = bench.account_documents(a, {})
    azure = {"subscriptionId": a["subscription"], "resourceGroup": bench.RG}
    endpoint = a["name"] + "-pe"
    app = bench.doc("CrossTenantApplication", a["name"] + "-app", {
        "tenant": "provider", "displayName": a["name"] + "-app", "identityRef": a["uai"],
        "customer": {"tenantId": CUSTOMER["tenant"], "keyVaultResourceId": CUSTOMER_VAULT, "credential": "customer"}})
    pe = bench.doc("PrivateEndpoint", endpoint, {"azure": azure, "subnetId": bench.arm_ids(a["subscription"])["endpoints"],
                                                  "keyVaultResourceId": CUSTOMER_VAULT, "approval": "Manual"})
    encryption = of_kind(docs, "NetAppAccount")[0]["spec"]["encryption"]
    encryption["keyVault"] = {"resourceId": CUSTOMER_VAULT, "uri": "https://%s.vault.azure.net/" % CUSTOMER["vault"], "keyName": "anf-key"}
    encryption["access"] = {"mode": "None"}
    encryption["crossTenant"] = {"applicationRef": app["metadata"]["name"]}
    for v in of_kind(docs, "Volume"):
        v["spec"]["keyVaultPrivateEndpointRef"] = endpoint
    return docs + [app, pe]


def customer_world():
    """The customer tenant: its subscription, resource group and RBAC vault with key anf-key."""
    vault = {"id": CUSTOMER_VAULT, "body": {"location": bench.LOCATION, "properties": {
        "tenantId": CUSTOMER["tenant"], "sku": {"family": "A", "name": "standard"}, "accessPolicies": [],
        "vaultUri": "https://%s.vault.azure.net/" % CUSTOMER["vault"], "enableSoftDelete": True, "softDeleteRetentionInDays": 90,
        "enablePurgeProtection": True, "enableRbacAuthorization": True, "publicNetworkAccess": "Enabled",
        "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"}}}}
    key = {"id": CUSTOMER_VAULT + "/keys/anf-key", "body": {"properties": {
        "kty": "RSA", "keySize": 2048, "keyOps": ["wrapKey", "unwrapKey"], "attributes": {"enabled": True},
        "keyUri": "https://%s.vault.azure.net/keys/anf-key" % CUSTOMER["vault"]}}}
    return ({"name": "customer", "tenantId": CUSTOMER["tenant"], "subscriptions": [CUSTOMER["subscription"]], "principals": [CUSTOMER["admin"]]},
            {"subscriptionId": CUSTOMER["subscription"], "name": CUSTOMER["group"], "location": bench.LOCATION}, [vault, key])


class MixedFleet:
    def __init__(self, volumes, per_account=20):
        self.accounts = bench.plan_fleet(volumes, per_account, 1)
        n = len(self.accounts)
        self.transition = flow_account(n, "flow-transition", "SystemAssigned", "AccessPolicy")
        self.vault_change = flow_account(n + 1, "flow-kvchange", "SystemAssigned", "AccessPolicy")
        self.switch_before = flow_account(n + 2, "flow-switch", "SystemAssigned", "AccessPolicy")
        self.switch_after = dict(self.switch_before, identity="UserAssigned", uai="flow-switch-id")
        self.cross_tenant = flow_account(n + 3, "flow-xtenant", "UserAssigned", "AccessPolicy")
        self.flows = [self.transition, self.vault_change, self.switch_before, self.cross_tenant]
        self.volumes = sum(len(a["volumes"]) for a in self.accounts + self.flows)

    def first_stage(self):
        """File name -> documents, as the fleet starts."""
        files = {"network.yaml": bench.network_documents(bench.subscription_id(0))}
        for a in self.accounts:
            files[a["name"] + ".yaml"] = minimal_role(bench.account_documents(a, {}))
        files[self.transition["name"] + ".yaml"] = pmk_documents(self.transition)
        files[self.vault_change["name"] + ".yaml"] = bench.account_documents(self.vault_change, {})
        files[self.switch_before["name"] + ".yaml"] = bench.account_documents(self.switch_before, {})
        files[self.cross_tenant["name"] + ".yaml"] = cross_tenant_documents(self.cross_tenant)
        return files

    def second_stage(self):
        """The three intents that end in a POST action."""
        return {self.transition["name"] + ".yaml": transition_documents(self.transition),
                self.vault_change["name"] + ".yaml": changed_vault_documents(self.vault_change),
                self.switch_before["name"] + ".yaml": bench.account_documents(self.switch_after, {})}

    def first_stage_names(self):
        """The documents whose Ready starts the second stage."""
        return {d["metadata"]["name"] for a in (self.transition, self.vault_change, self.switch_before)
                for d in self.first_stage()[a["name"] + ".yaml"]}

    def identities(self):
        """The user-assigned identities the documents name, once both stages are applied."""
        files = dict(self.first_stage(), **self.second_stage())
        return {lower(d["metadata"]["name"]) for docs in files.values() for d in of_kind(docs, "UserAssignedIdentity")}

    def documents(self, stage):
        files = dict(self.first_stage(), **(self.second_stage() if stage == 2 else {}))
        return len({(d["kind"], d["metadata"]["name"]) for docs in files.values() for d in docs})

    def world(self):
        w = bench.world(self.accounts + self.flows)
        tenant, group, resources = customer_world()
        w["tenants"].append(tenant)
        w["resourceGroups"].append(group)
        w["resources"] += resources
        return w

    def write(self, manifests, files):
        manifests.mkdir(parents=True, exist_ok=True)
        for name, docs in files.items():
            temporary = manifests / ("." + name + ".tmp")
            temporary.write_text(bench.dump_documents(docs))
            temporary.rename(manifests / name)  # whole files only: a half-written manifest is relb's test

    def start_emulator(self, work, binary, emulator_flags, listen="127.0.0.1:0"):
        """The emulator on this fleet's world, and the first stage's manifests (validated); start_operator next."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "world.json").write_text(json.dumps(self.world(), indent=1))
        emulator = bench.Emulator(binary, work / "emulator", work / "world.json", emulator_flags, listen)
        manifests = work / "manifests"
        self.write(manifests, self.first_stage())
        checked = subprocess.run([binary, "validate", str(manifests)], capture_output=True, text=True)
        if checked.returncode != 0:
            emulator.stop()
            sys.exit("validate refused the reliability fleet:\n" + checked.stdout + checked.stderr)
        return emulator


def start_operator(binary, work, emulator, resync):
    """bench's operator, with the customer tenant's credential too; the same work dir keeps the state file."""
    (work / "customer.secret").write_text(CUSTOMER["admin"]["clientSecret"])
    customer = {"name": "customer", "tenantId": CUSTOMER["tenant"], "clientSecret": {
        "clientId": CUSTOMER["admin"]["clientId"], "secretFile": str(work / "customer.secret")}}
    return bench.Operator(binary, work, emulator, work / "manifests", resync, credentials=[customer])


# ---------------------------------------------------------------- what Azure holds

def lower(value):
    return str(value or "").lower()


def duplicates(keys):
    return sorted(k for k, n in Counter(keys).items() if n > 1)


def audit(emulator, declared_identities):
    """Duplicates in the emulator's state, by what makes two of a kind the same thing: kind -> [keys]; and the
    counts of each kind."""
    state = emulator.control("GET", "state")
    items = state["resources"]
    by_type = {}
    for r in items:
        by_type.setdefault(lower(r.get("type")), []).append(r)
    props = lambda r: r.get("properties", {})  # noqa: E731
    graph = lambda kind: [r for r in items if ("/%s/" % kind) in lower(r.get("id")) and "/federatedidentitycredentials/" not in lower(r.get("id"))]  # noqa: E731
    found = {
        # Names are the documents': an identity no document names was made twice under another name.
        "identity": sorted(lower(r["name"]) for r in by_type.get("microsoft.managedidentity/userassignedidentities", [])
                           if lower(r["name"]) not in declared_identities),
        "custom role": duplicates((lower(props(r).get("roleName")), tuple(sorted(map(lower, props(r).get("assignableScopes", [])))))
                                  for r in by_type.get("microsoft.authorization/roledefinitions", []) if props(r).get("type") == "CustomRole"),
        "role assignment": duplicates((lower(props(r).get("principalId")), lower(props(r).get("roleDefinitionId")).rsplit("/", 1)[-1], lower(props(r).get("scope")))
                                      for r in by_type.get("microsoft.authorization/roleassignments", [])),
        "access policy": duplicates((lower(v["id"]), lower(p.get("tenantId")), lower(p.get("objectId")))
                                    for v in by_type.get("microsoft.keyvault/vaults", []) for p in props(v).get("accessPolicies", [])),
        "app registration": duplicates((lower(r["id"].split("/")[2]), lower(r.get("displayName"))) for r in graph("applications")),
        "service principal": duplicates((lower(r["id"].split("/")[2]), lower(r.get("appId"))) for r in graph("serviceprincipals")),
        "federated credential": duplicates((lower(r["id"].split("/federatedIdentityCredentials/")[0]), lower(r.get("issuer")), lower(r.get("subject")))
                                           for r in items if "/federatedidentitycredentials/" in lower(r.get("id"))),
        "private endpoint": duplicates((lower(props(r).get("subnet", {}).get("id")),
                                        lower((props(r).get("privateLinkServiceConnections") or props(r).get("manualPrivateLinkServiceConnections") or [{}])[0]
                                              .get("properties", {}).get("privateLinkServiceId")))
                                       for r in by_type.get("microsoft.network/privateendpoints", [])),
    }
    counts = {"identities": len(by_type.get("microsoft.managedidentity/userassignedidentities", [])),
              "custom roles": sum(props(r).get("type") == "CustomRole" for r in by_type.get("microsoft.authorization/roledefinitions", [])),
              "role assignments": len(by_type.get("microsoft.authorization/roleassignments", [])),
              "private endpoints": len(by_type.get("microsoft.network/privateendpoints", [])),
              "federated credentials": sum("/federatedidentitycredentials/" in lower(r.get("id")) for r in items)}
    return {k: v for k, v in found.items() if v}, counts


def writes(log):
    """Requests that change Azure (ARM and Graph), answered or not."""
    return [e for e in log if e["method"] in ("PUT", "PATCH", "POST", "DELETE") and not e["path"].startswith("/_emulator")
            and "/oauth2/" not in e["path"]]


def post_counts(log):
    """POST action -> how many reached Azure and were accepted (a dropped or faulted one changed nothing)."""
    counts = {action: 0 for action in POST_ACTIONS}
    for e in log:
        action = lower(e["path"]).rsplit("/", 1)[-1]
        if e["method"] == "POST" and action in counts and 200 <= e["status"] < 300:
            counts[action] += 1
    return counts


def not_ready(op):
    return [(i.get("kind"), i.get("name")) for i in op.resources() or [] if not bench.ready(i)]


def failed(op):
    """Documents whose Ready condition says Failed (a terminal error), with the reason."""
    out = []
    for i in op.resources() or []:
        for c in i.get("status", {}).get("conditions", []):
            if c.get("type") == "Ready" and c.get("status") != "True" and "fail" in lower(c.get("reason")):
                out.append((i.get("kind"), i.get("name"), c.get("reason"), c.get("message", "")[:200]))
    return out


class FirstPosts:
    """The POST actions whose first accepted request is in a request log, each reported once."""

    def __init__(self):
        self.seen = set()

    def new(self, log):
        for action, n in post_counts(log).items():
            if n and action not in self.seen:
                self.seen.add(action)
                return action
        return None


class KillSchedule:
    """Seeded kill moments counted in the emulator's request log: the Nth write or operation poll since the
    operator started, N drawn from 1..max_events."""

    def __init__(self, seed, max_events):
        self.random, self.max_events = random.Random(seed), max_events

    def next_threshold(self):
        return self.random.randint(1, self.max_events)

    @staticmethod
    def events(log):
        return sum(1 for e in log if e["method"] in ("PUT", "PATCH", "POST", "DELETE") or bench.is_poll(e))


def set_faults(emulator, rules):
    """PUT /_emulator/faults (bench's control() sends no body)."""
    request = urllib.request.Request(emulator.base + "/_emulator/faults", method="PUT", data=json.dumps({"rules": rules}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=emulator.ssl, timeout=60) as response:
        return json.loads(response.read())


def repolled(lives):
    """Operations polled in one life of a process (its part of the request log) and again in a later life."""
    polled = [{lower(e["path"]) for e in life if bench.is_poll(e)} for life in lives]
    return sum(len(p & set().union(*polled[i + 1:])) for i, p in enumerate(polled[:-1]))

def audit_report(emulator, fleet, log):
    """Prints the duplicates, what Azure holds and the POST counts; returns what does not hold."""
    found, counts = audit(emulator, fleet.identities())
    posts = post_counts(log)
    print("duplicates found: %d%s" % (sum(map(len, found.values())), "".join("\n  %s: %s" % kv for kv in found.items())))
    print("Azure holds: " + ", ".join("%s %d" % kv for kv in counts.items()))
    print("POST actions accepted: " + ", ".join("%s %d" % kv for kv in posts.items()))
    return (["duplicates: %s" % found] if found else []) + ["%s sent %d times for one intent" % (a, n) for a, n in posts.items() if n != 1]


def add_common_arguments(parser):
    parser.add_argument("--binary", default=os.environ.get("ANF_BINARY", str(REPO / "build/dev/cmd/anf-cmk-operator/anf-cmk-operator")))
    parser.add_argument("--work", help="keep everything here (default: a temporary directory, removed)")


def verdict(problems):
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0
