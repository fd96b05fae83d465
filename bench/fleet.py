#!/usr/bin/env python3
"""Fleet benchmark (issue 14): N CMK volumes from empty to all Ready, against the emulator at Azure's default
buckets, beside the same fleet created with the official Azure SDK for JavaScript.

    bench/fleet.py --volumes 200          # also 1000, 5000; --help for the rest

Needs the built binary (build/dev, or --binary / $ANF_BINARY) and, for the baseline, tests/sdk-js/node_modules
(scripts/setup.sh). Everything it writes lives in one temporary directory (--work to keep it).
"""
import argparse
import json
import math
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TENANT = "10000000-0000-4000-8000-000000000001"
ADMIN = {"name": "admin", "clientId": "10000000-0000-4000-8000-00000000c001",
         "clientSecret": "provider-admin-secret", "objectId": "10000000-0000-4000-8000-00000000d001"}
RG, VNET, LOCATION = "anf-rg", "anf-vnet", "eastus"
VAULTS = {"AccessPolicy": "anfkv-ap", "RoleAssignment": "anfkv-rbac"}
# Typical Azure durations in seconds (estimates: an account is the unit), scaled down by --lro-unit / 20.
AZURE_SECONDS = {"account": 20, "renewCredentials": 20, "pool": 30, "privateEndpoint": 40, "changeKeyVault": 60,
                 "transitionToCmk": 60, "volume": 60, "roleAssignmentPropagation": 0}
BUCKETS = {"reads": (250, 25), "writes": (200, 10), "deletes": (200, 10)}  # Azure's per-subscription defaults
VOLUME_GIB = 100


# ---------------------------------------------------------------- the fleet

def subscription_id(index):
    return "30000000-0000-4000-8000-%012x" % (index + 1)


def plan_fleet(volumes, per_account, subscriptions):
    """Accounts of `per_account` volumes, spread evenly over the subscriptions; the four identity x key access
    combinations take turns."""
    count = math.ceil(volumes / per_account)
    combos = [("SystemAssigned", "AccessPolicy"), ("UserAssigned", "AccessPolicy"),
              ("SystemAssigned", "RoleAssignment"), ("UserAssigned", "RoleAssignment")]
    accounts, left = [], volumes
    for a in range(count):
        identity, access = combos[a % 4]
        n = min(per_account, left)
        left -= n
        accounts.append({"name": "acct-%04d" % a, "pool": "pool-%04d" % a, "poolTiB": max(2, math.ceil(per_account * VOLUME_GIB / 1024)), "subscription": subscription_id(a * subscriptions // count),
                         "identity": identity, "access": access, "uai": "id-%04d" % a if identity == "UserAssigned" else None,
                         "volumes": ["vol-%04d-%02d" % (a, v) for v in range(n)]})
    return accounts


def vault_name(sub, mode):
    """Key vault names are global (the URI names the vault): the first subscription's are VAULTS', the others' end
    with their subscription's last digits."""
    return VAULTS[mode] if sub == subscription_id(0) else "%s-%s" % (VAULTS[mode], sub[-4:])


def arm_ids(sub):
    rg = "/subscriptions/%s/resourceGroups/%s" % (sub, RG)
    vnet = rg + "/providers/Microsoft.Network/virtualNetworks/" + VNET
    names = {mode: vault_name(sub, mode) for mode in VAULTS}
    return {"rg": rg, "delegated": vnet + "/subnets/anf-delegated", "endpoints": vnet + "/subnets/endpoints",
            "vaultName": names, "vault": {mode: rg + "/providers/Microsoft.KeyVault/vaults/" + name for mode, name in names.items()}}


def endpoint_name(sub, mode):
    return "pe-%s-%s" % (sub[-4:], "ap" if mode == "AccessPolicy" else "rbac")


def world(accounts):
    """The emulator's --world: one tenant, the subscriptions (ANF limits raised where the fleet needs it), and in
    each one resource group, VNet and an access-policy and an RBAC vault with key anf-key."""
    subs = sorted({a["subscription"] for a in accounts})
    per_sub = {s: [a for a in accounts if a["subscription"] == s] for s in subs}
    entries, resources = [], []
    for s in subs:
        n_accounts = len(per_sub[s])
        n_volumes = sum(len(a["volumes"]) for a in per_sub[s])
        entries.append({"subscriptionId": s, "netAppLimits": {
            "accountsPerRegion": max(10, n_accounts), "volumesPerSubscription": max(500, n_volumes),
            "regionalCapacityTiB": max(25, sum(a["poolTiB"] for a in per_sub[s]))}})
        ids = arm_ids(s)
        vnet = ids["rg"] + "/providers/Microsoft.Network/virtualNetworks/" + VNET
        resources += [
            {"id": vnet, "body": {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}},
            {"id": ids["delegated"], "body": {"properties": {"addressPrefix": "10.0.1.0/24", "delegations": [
                {"name": "netapp", "properties": {"serviceName": "Microsoft.NetApp/volumes"}}]}}},
            {"id": ids["endpoints"], "body": {"properties": {"addressPrefix": "10.0.2.0/24", "privateEndpointNetworkPolicies": "Disabled"}}}]
        for mode, name in ids["vaultName"].items():
            rbac = mode == "RoleAssignment"
            policies = [] if rbac else [{"tenantId": TENANT, "objectId": ADMIN["objectId"],
                                         "permissions": {"keys": ["all"], "secrets": ["all"], "certificates": ["all"]}}]
            resources.append({"id": ids["vault"][mode], "body": {"location": LOCATION, "properties": {
                "tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "accessPolicies": policies,
                "vaultUri": "https://%s.vault.azure.net/" % name, "enableSoftDelete": True, "softDeleteRetentionInDays": 90,
                "enablePurgeProtection": True, "enableRbacAuthorization": rbac, "publicNetworkAccess": "Enabled",
                "networkAcls": {"bypass": "AzureServices", "defaultAction": "Allow"}}}})
            resources.append({"id": ids["vault"][mode] + "/keys/anf-key", "body": {"properties": {
                "kty": "RSA", "keySize": 2048, "keyOps": ["encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify"],
                "attributes": {"enabled": True}, "keyUri": "https://%s.vault.azure.net/keys/anf-key" % name}}})
    return {"tenants": [{"name": "provider", "tenantId": TENANT, "subscriptions": entries, "principals": [ADMIN]}],
            "resourceGroups": [{"subscriptionId": s, "name": RG, "location": LOCATION} for s in subs],
            "resources": resources}


# ANF's default limits (emulator/providers/netapp_limits.h, from Azure's resource limits page): the world raises the
# adjustable ones a fleet needs, as a support request would; the fixed ones must hold as generated.
ANF_DEFAULTS = {"accountsPerRegion": 10, "poolsPerAccount": 25, "volumesPerSubscription": 500, "volumesPerPool": 500,
                "regionalCapacityTiB": 25, "maxPoolSizeTiB": 2048}
VOLUME_GIB_RANGE = (100, 100 * 1024)  # a regular volume


def limit_problems(accounts, world_doc):
    """What in the generated fleet Azure (and the emulator) would refuse under the world's limits."""
    raised = {e["subscriptionId"]: e.get("netAppLimits", {}) for t in world_doc["tenants"] for e in t["subscriptions"]}
    problems = []
    for sub in sorted({a["subscription"] for a in accounts}):
        limits = dict(ANF_DEFAULTS, **raised.get(sub, {}))
        mine = [a for a in accounts if a["subscription"] == sub]
        usage = {"accountsPerRegion": len(mine), "volumesPerSubscription": sum(len(a["volumes"]) for a in mine),
                 "regionalCapacityTiB": sum(a["poolTiB"] for a in mine), "poolsPerAccount": 1,
                 "volumesPerPool": max(len(a["volumes"]) for a in mine), "maxPoolSizeTiB": max(a["poolTiB"] for a in mine)}
        problems += ["%s: %s %d > %d" % (sub, k, v, limits[k]) for k, v in usage.items() if v > limits[k]]
    for a in accounts:
        if a["poolTiB"] < 1 or len(a["volumes"]) * VOLUME_GIB > a["poolTiB"] * 1024:
            problems.append("%s: %d volumes of %d GiB do not fit a %d TiB pool" % (a["pool"], len(a["volumes"]), VOLUME_GIB, a["poolTiB"]))
    uris = [r["body"]["properties"]["vaultUri"] for r in world_doc["resources"] if "vaultUri" in r["body"].get("properties", {})]
    problems += ["key vault URI %s names %d vaults (vault names are global)" % (u, uris.count(u)) for u in sorted(set(uris)) if uris.count(u) > 1]
    if not VOLUME_GIB_RANGE[0] <= VOLUME_GIB <= VOLUME_GIB_RANGE[1]:
        problems.append("a %d GiB volume is outside ANF's %d..%d GiB" % (VOLUME_GIB, *VOLUME_GIB_RANGE))
    return problems


def dump_documents(docs):
    return "---\n".join(json.dumps(d, indent=1) + "\n" for d in docs)


def doc(kind, name, spec):
    return {"apiVersion": "anf-cmk.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def account_documents(a, sizes):
    """One file per account: its identity, account, pool and volumes; `sizes` overrides volume sizes (edits)."""
    ids, azure = arm_ids(a["subscription"]), {"subscriptionId": a["subscription"], "resourceGroup": RG}
    docs = []
    identity = {"type": a["identity"]}
    if a["uai"]:
        docs.append(doc("UserAssignedIdentity", a["uai"], {"azure": azure}))
        identity["userAssignedIdentityRef"] = a["uai"]
    access = {"mode": a["access"]}
    if a["access"] == "RoleAssignment":
        access["role"] = "KeyVaultCryptoUser"
    vault = ids["vaultName"][a["access"]]
    docs.append(doc("NetAppAccount", a["name"], {"azure": azure, "identity": identity, "encryption": {
        "keySource": "Microsoft.KeyVault", "access": access, "keyVault": {
            "resourceId": ids["vault"][a["access"]], "uri": "https://%s.vault.azure.net/" % vault, "keyName": "anf-key"}}}))
    docs.append(doc("CapacityPool", a["pool"], {"azure": azure, "accountRef": a["name"], "serviceLevel": "Premium",
                                                 "sizeTiB": a["poolTiB"], "qosType": "Auto"}))
    for v in a["volumes"]:
        docs.append(doc("Volume", v, {"azure": azure, "poolRef": a["pool"], "creationToken": v,
                                      "usageThresholdGiB": sizes.get(v, VOLUME_GIB), "subnetId": ids["delegated"],
                                      "protocolTypes": ["NFSv3"], "networkFeatures": "Standard",
                                      "encryptionKeySource": "Microsoft.KeyVault",
                                      "keyVaultPrivateEndpointRef": endpoint_name(a["subscription"], a["access"])}))
    return docs


def network_documents(sub):
    ids = arm_ids(sub)
    return [doc("PrivateEndpoint", endpoint_name(sub, mode), {"azure": {"subscriptionId": sub, "resourceGroup": RG},
                                                              "subnetId": ids["endpoints"], "keyVaultResourceId": ids["vault"][mode]})
            for mode in VAULTS]


def write_manifests(directory, accounts):
    directory.mkdir(parents=True)
    for sub in sorted({a["subscription"] for a in accounts}):
        (directory / ("network-%s.yaml" % sub[-4:])).write_text(dump_documents(network_documents(sub)))
    for a in accounts:
        (directory / (a["name"] + ".yaml")).write_text(dump_documents(account_documents(a, {})))


def document_count(accounts):
    return len({a["subscription"] for a in accounts}) * len(VAULTS) + sum(3 + len(a["volumes"]) - (a["uai"] is None) for a in accounts)


# ---------------------------------------------------------------- processes and HTTP

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    def __init__(self, binary, work, world_file, durations_flags, listen="127.0.0.1:0"):
        """`listen`: a fixed address lets a restart with --state keep the operator's endpoints."""
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        ca = work / "ca.pem"
        flags = ["--throttle-" + k + "=%d:%d" % v for k, v in BUCKETS.items()] + durations_flags
        self.log = open(work / "emulator.log", "a")
        self.process = subprocess.Popen([binary, "emulator", "--listen", listen, "--world", str(world_file),
                                         "--ca-out", str(ca), "--log-level", "warn"] + flags,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.process.stdout.readline()
        if not line:
            sys.exit("the emulator did not start; see %s" % (work / "emulator.log"))
        self.start_line = line.strip()
        self.endpoints = json.loads(line)
        self.base = self.endpoints["resourceManager"].rstrip("/")
        self.ssl = ssl.create_default_context(cafile=self.endpoints.get("caFile") or str(ca))

    def control(self, method, path):
        request = urllib.request.Request(self.base + "/_emulator/" + path, method=method)
        with urllib.request.urlopen(request, context=self.ssl, timeout=60) as response:
            return json.loads(response.read())

    def requests(self):
        return self.control("GET", "requests")["items"]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


def http_get(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except OSError:
        return None


class Operator:
    def __init__(self, binary, work, emulator, manifests, resync, credentials=()):
        """`credentials`: more entries of azure.credentials (tests/reliability adds the customer tenant's)."""
        self.status, self.metrics, health = free_port(), free_port(), free_port()
        tenant = emulator.endpoints["tenants"][0]
        (work / "provider.secret").write_text(ADMIN["clientSecret"])
        config = {"azure": {"cloud": "Custom", "endpoints": {
            "resourceManager": emulator.endpoints["resourceManager"], "authority": emulator.endpoints["authority"],
            "graph": emulator.endpoints["graph"]}, "caFile": emulator.endpoints["caFile"],
            "defaults": {"tenant": "provider", "subscriptionId": subscription_id(0), "resourceGroup": RG, "location": LOCATION},
            "credentials": [{"name": "provider", "tenantId": tenant["tenantId"], "clientSecret": {
                "clientId": ADMIN["clientId"], "secretFile": str(work / "provider.secret")}}, *credentials]},
            # The example operator.yaml's settings, as a new user starts; resyncPeriod shortened to measure one pass.
            "controller": {"workers": 8, "resyncPeriod": resync, "armRateLimit": {"readsPerSecond": 25, "writesPerSecond": 10, "maxInFlight": 16},
                           "maxDeletionsPerPass": 5, "stateFile": str(work / "state.json"),
                           "watch": {"mode": "auto", "debounce": "200ms", "pollInterval": "2s"}},
            "server": {"metrics": "127.0.0.1:%d" % self.metrics, "health": "127.0.0.1:%d" % health, "status": "127.0.0.1:%d" % self.status},
            "logging": {"format": "text", "level": "info"}}
        (work / "operator.yaml").write_text(json.dumps(config, indent=1))
        self.log = open(work / "operator.log", "a")  # a restart on the same work dir keeps the earlier runs' lines
        self.process = subprocess.Popen([binary, "run", "--config", str(work / "operator.yaml"), "--manifests", str(manifests)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.peak_rss_kib, self._stop = 0, threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        while not self._stop.wait(0.25):
            self.peak_rss_kib = max(self.peak_rss_kib, self.proc_status("VmRSS"))

    def proc_status(self, field):
        try:
            for line in open("/proc/%d/status" % self.process.pid):
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def cpu_seconds(self):
        fields = open("/proc/%d/stat" % self.process.pid).read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def resources(self):
        text = http_get("http://127.0.0.1:%d/api/v1/resources" % self.status)
        return json.loads(text)["items"] if text else None

    def metric(self, series):
        text = http_get("http://127.0.0.1:%d/metrics" % self.metrics) or ""
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series + "{"))

    def ready_count(self):
        """Documents Ready by the anf_cmk_resource_ready gauges: far cheaper for the operator than the status list,
        which is built under the status store's lock (polling that every 0.5 s slows a 1,000-volume run)."""
        return int(self.metric("anf_cmk_resource_ready"))

    def all_ready(self, expected):
        """The gauges first, then the status API's list to confirm."""
        return self.ready_count() >= expected and sum(map(ready, self.resources() or [])) >= expected

    def stop(self):
        self._stop.set()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def ready(item):
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in item.get("status", {}).get("conditions", []))


# ---------------------------------------------------------------- measures

def is_arm(entry):
    return entry["path"].lower().startswith(("/subscriptions", "/providers"))


def is_poll(entry):
    return "/operationresults/" in entry["path"].lower()


def tally(log):
    arm = [e for e in log if is_arm(e)]
    return {"reads": sum(e["method"] == "GET" and not is_poll(e) for e in arm),
            "writes": sum(e["method"] != "GET" for e in arm),
            "polls": sum(e["method"] == "GET" and is_poll(e) for e in arm),
            "429": sum(e["status"] == 429 for e in log), "409": sum(e["status"] == 409 for e in log)}


def physical_limit(log, durations):
    """The larger of the write bucket's time for the accepted writes (per subscription) and the longest chain of
    operations that must follow each other: account (created, then given its key for a system-assigned identity),
    pool, volume; the private endpoint runs beside the account and pool."""
    burst, rate = BUCKETS["writes"]
    per_sub = {}
    for e in log:
        if is_arm(e) and e["method"] != "GET" and e["status"] < 400:
            sub = e["path"].split("/")[2].lower() if e["path"].lower().startswith("/subscriptions/") else "-"
            per_sub[sub] = per_sub.get(sub, 0) + 1
    bucket = max([max(0.0, (n - burst) / rate) for n in per_sub.values()] or [0.0])
    chain = max(2 * durations["account"] + durations["pool"], durations["privateEndpoint"]) + durations["volume"]
    return bucket, chain, sum(per_sub.values())


def log_time(entry):
    return datetime.fromisoformat(entry["time"][:26] + "+00:00").timestamp()


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def wait_until(predicate, timeout, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def converge(op, expected, stall_seconds, started):
    """Polls the Ready gauges until every document is Ready (confirmed by the status API); None when it stalls
    (no document became Ready for stall_seconds), with the not-Ready documents' conditions printed."""
    best, best_at, last_print = -1, time.time(), 0.0
    while True:
        if op.process.poll() is not None:
            print("the operator exited with %s; see its log" % op.process.returncode)
            return None
        count = op.ready_count()
        if count >= expected and op.all_ready(expected):
            return time.time() - started
        if count > best:
            best, best_at = count, time.time()
        if time.time() - last_print > 15:
            print("  %6.1f s: %d/%d Ready" % (time.time() - started, count, expected), flush=True)
            last_print = time.time()
        if time.time() - best_at > stall_seconds:
            print("NOT CONVERGED: %d/%d Ready, no progress for %d s. Not Ready:" % (count, expected, stall_seconds))
            reasons = {}
            for item in op.resources() or []:
                if not ready(item):
                    c = next((c for c in item.get("status", {}).get("conditions", []) if c.get("type") == "Ready"), {})
                    key = (item.get("kind"), c.get("reason"), c.get("message", "")[:300])
                    reasons.setdefault(key, []).append(item.get("name"))
            for (kind, reason, message), names in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
                print("  %d x %s %s: %s (e.g. %s)" % (len(names), kind, reason, message, names[0]))
            return None
        time.sleep(0.5)


def edit_latencies(op, emulator, accounts, manifests, edits, timeout, expected, work):
    """Edits `edits` volumes (one per account, round robin) on disk, one at a time; for each, the time from the
    write of the file to the emulator's first write request for that volume (the requests up to it are kept in
    `work/edit-requests.json`)."""
    sizes, latencies, trace = {}, [], []
    targets = [(a, a["volumes"][(i // len(accounts)) % len(a["volumes"])]) for i, a in
               ((i, accounts[i % len(accounts)]) for i in range(edits))]
    # The Ready gauges only: the status list, built per document, would add the harness's cost to the operator's CPU.
    for account, volume in targets:
        wait_until(lambda: op.ready_count() >= expected, timeout, step=0.5)
        emulator.control("DELETE", "requests")
        sizes[volume] = sizes.get(volume, VOLUME_GIB) + 1
        text = dump_documents(account_documents(account, sizes))
        start = time.time()
        (manifests / (account["name"] + ".yaml")).write_text(text)
        suffix = "/volumes/" + volume.lower()
        found = []

        def first_write():
            found[:] = [e for e in emulator.requests() if e["method"] in ("PUT", "PATCH") and e["path"].lower().endswith(suffix)]
            return bool(found)
        if wait_until(first_write, timeout, step=0.01):
            latencies.append(max(0.0, log_time(found[0]) - start))
            trace.append({"volume": volume, "written": start, "requests": [
                dict(e, at=round(log_time(e) - start, 4)) for e in emulator.requests() if log_time(e) <= log_time(found[0])]})
        else:
            print("  edit of %s reached no write within %d s" % (volume, timeout))
    wait_until(lambda: op.ready_count() >= expected, timeout, step=0.5)
    (work / "edit-requests.json").write_text(json.dumps(trace))  # each edit's requests up to its first write
    return latencies


def noop_resync_reads(op, emulator, documents, period_seconds, work):
    """The requests of the next resync pass once nothing is left to do: the work queue takes every document
    again; the pass is over when no reconcile finished for 2 s. Its request log is kept in
    `work/noop-requests.json`, to see where each read goes."""
    emulator.control("DELETE", "requests")
    adds = op.metric("workqueue_adds_total")
    if not wait_until(lambda: op.metric("workqueue_adds_total") >= adds + documents, period_seconds * 1.5 + 30, step=0.5):
        return None
    last, quiet_since = -1.0, time.time()
    while time.time() - quiet_since < 2:
        now = op.metric("controller_runtime_reconcile_total")
        if now != last:
            last, quiet_since = now, time.time()
        time.sleep(0.2)
    log = emulator.requests()
    (work / "noop-requests.json").write_text(json.dumps(log))
    return tally(log)


# ---------------------------------------------------------------- durations

def operation_durations(binary, unit):
    """Per-type durations when the emulator offers --operation-seconds; else its one --lro-seconds (whole
    seconds) for every operation."""
    help_text = subprocess.run([binary, "emulator", "--help"], capture_output=True, text=True).stdout
    scaled = {k: v * unit / AZURE_SECONDS["account"] for k, v in AZURE_SECONDS.items()}
    if "--operation-seconds" in help_text:
        offered = {k: v for k, v in scaled.items() if re.search(r"\b%s\b" % k, help_text)}
        flags = ["--lro-seconds", str(max(1, round(unit))),
                 "--operation-seconds", ",".join("%s=%g" % kv for kv in offered.items())]
        return {k: offered.get(k, unit) for k in scaled}, flags, "per operation type, Azure's proportions / %g" % (AZURE_SECONDS["account"] / unit)
    seconds = max(1, round(unit))
    return ({k: seconds for k in scaled}, ["--lro-seconds", str(seconds)],
            "one --lro-seconds for every operation (this emulator has no per-type durations)")


# ---------------------------------------------------------------- the two runs

def run_operator(args, binary, work, world_file, accounts, flags, durations):
    emulator = Emulator(binary, work / "emulator", world_file, flags)
    manifests = work / "manifests"
    write_manifests(manifests, accounts)
    checked = subprocess.run([binary, "validate", str(manifests)], capture_output=True, text=True)
    if checked.returncode != 0:
        sys.exit("validate refused the generated fleet:\n" + checked.stdout + checked.stderr)
    expected = document_count(accounts)
    started = time.time()
    op = Operator(binary, work, emulator, manifests, "%ds" % args.resync)
    result = {"documents": expected}
    try:
        seconds = converge(op, expected, args.stall, started)
        result["converged"] = seconds
        log = emulator.requests()
        (work / "requests.json").write_text(json.dumps(log))  # the convergence's request log, to look into
        result.update(tally(log))
        result["cpu"], result["rss_peak_kib"] = op.cpu_seconds(), max(op.proc_status("VmHWM"), op.peak_rss_kib)
        result["bucket"], result["chain"], result["accepted_writes"] = physical_limit(log, durations)
        if seconds is None:
            return result
        result["edits"] = edit_latencies(op, emulator, accounts, manifests, args.edits, args.edit_timeout, expected, work)
        result["noop"] = noop_resync_reads(op, emulator, expected, args.resync, work)
        result["rss_peak_kib"] = max(op.proc_status("VmHWM"), op.peak_rss_kib)
        result["cpu_total"] = op.cpu_seconds()
    finally:
        op.stop()
        emulator.stop()
    return result


def run_baseline(args, binary, work, world_file, accounts, flags):
    script = REPO / "tests" / "sdk-js" / "fleet_baseline.mjs"
    if not (REPO / "tests" / "sdk-js" / "node_modules" / "@azure" / "arm-netapp").exists():
        print("baseline skipped: no tests/sdk-js/node_modules (run scripts/setup.sh)")
        return None
    emulator = Emulator(binary, work / "baseline-emulator", world_file, flags)
    fleet_file = work / "fleet.json"
    fleet_file.write_text(json.dumps({"resourceGroup": RG, "location": LOCATION,
                                      "volumeGiB": VOLUME_GIB, "accounts": accounts,
                                      "subscriptions": {s: arm_ids(s) for s in {a["subscription"] for a in accounts}},
                                      "endpoints": {s: {m: endpoint_name(s, m) for m in VAULTS} for s in {a["subscription"] for a in accounts}}}))
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=emulator.endpoints["caFile"], ANF_EMULATOR=emulator.start_line)
    try:
        done = subprocess.run(["node", str(script), str(fleet_file)], env=env, capture_output=True, text=True, timeout=args.stall * 4)
        (work / "baseline.log").write_text(done.stdout + done.stderr)
        last = (done.stdout.strip().splitlines() or ["{}"])[-1]
        result = json.loads(last) if last.startswith("{") else {"errors": [done.stderr[-2000:]]}
        result.update(tally(emulator.requests()))
    finally:
        emulator.stop()
    return result


def report(args, fleet, durations_text, durations, ours, sdk):
    kib = 1024.0
    print("\n== %s, %s" % (datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), " ".join(sys.argv)))
    print("== fleet: %d volumes, %d accounts, %d subscriptions, %d documents" % (
        args.volumes, len(fleet), len({a["subscription"] for a in fleet}), ours["documents"]))
    print("binary: %s (build type %s)" % (args.binary, build_type(args.binary)))
    print("emulator: buckets reads %d:%d writes %d:%d deletes %d:%d; operations: %s" % (
        *BUCKETS["reads"], *BUCKETS["writes"], *BUCKETS["deletes"], durations_text))
    print("  durations (s): " + ", ".join("%s=%g" % kv for kv in durations.items()))
    limit = max(ours["bucket"], ours["chain"])
    if ours.get("converged") is None:
        print("operator: DID NOT CONVERGE (see above)")
    else:
        print("time to converge       %8.1f s" % ours["converged"])
    print("physical limit         %8.1f s  (write bucket %.1f s for %d accepted writes; chain %.1f s)" % (
        limit, ours["bucket"], ours["accepted_writes"], ours["chain"]))
    if ours.get("converged") is not None:
        print("ratio                  %8.2f" % (ours["converged"] / limit if limit else float("inf")))
    print("reads %d, writes %d (%.1f reads per write), operation polls %d, 429s %d, 409s %d" % (
        ours["reads"], ours["writes"], ours["reads"] / max(1, ours["writes"]), ours["polls"], ours["429"], ours["409"]))
    print("operator peak RSS %.1f MiB, CPU %.1f s to converge%s" % (
        ours["rss_peak_kib"] / kib, ours["cpu"], ", %.1f s in all" % ours["cpu_total"] if "cpu_total" in ours else ""))
    per = 1000.0 / ours["documents"]
    print("  per 1,000 documents: peak RSS %.1f MiB, CPU %.1f s to converge%s" % (
        ours["rss_peak_kib"] / kib * per, ours["cpu"] * per, ", %.1f s in all" % (ours["cpu_total"] * per) if "cpu_total" in ours else ""))
    if ours.get("edits"):
        e = ours["edits"]
        print("edit -> first write over %d edits: p50 %.3f s, p99 %.3f s (debounce 200 ms)" % (len(e), statistics.median(e), percentile(e, 99)))
    if "noop" in ours:
        n = ours["noop"]
        print("no-op resync pass: " + ("not seen" if n is None else "%d reads, %d writes" % (n["reads"], n["writes"])))
    if sdk:
        print("\n%-32s %12s %12s" % ("", "operator", "Azure SDK JS"))
        print("%-32s %12s %12s" % ("time to all created/Ready (s)", "%.1f" % ours["converged"] if ours.get("converged") else "-",
                                   "%.1f" % sdk["seconds"] if "seconds" in sdk else "-"))
        for key, label in (("reads", "reads"), ("writes", "writes"), ("polls", "operation polls"), ("429", "429s"), ("409", "409s")):
            print("%-32s %12d %12d" % (label, ours[key], sdk[key]))
        if sdk.get("errors"):
            print("baseline errors (%d), first: %s" % (len(sdk["errors"]), sdk["errors"][0]))


def build_type(binary):
    """CMAKE_BUILD_TYPE of the build tree the binary sits in, or "unknown": a Debug binary costs several times the
    CPU of a RelWithDebInfo one (docs/performance.md), so the report says which one it measured."""
    for folder in Path(binary).resolve().parents:
        cache = folder / "CMakeCache.txt"
        if cache.exists():
            found = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache.read_text(errors="replace"), re.M)
            return found.group(1) if found and found.group(1) else "unknown"
    return "unknown"


def generate_only(binary, work, fleet, world_doc):
    """The fleet's files and their checks, without starting anything (e.g. --volumes 5000 on a small machine)."""
    manifests = work / "operator" / "manifests"
    write_manifests(manifests, fleet)
    checked = subprocess.run([binary, "validate", str(manifests)], capture_output=True, text=True)
    subs = sorted({a["subscription"] for a in fleet})
    print("generated in %s: %d documents in %d files; validate exit %d" % (
        work, document_count(fleet), len(list(manifests.iterdir())), checked.returncode))
    for e in world_doc["tenants"][0]["subscriptions"]:
        mine = [a for a in fleet if a["subscription"] == e["subscriptionId"]]
        print("  %s: %d accounts, %d pools of %d TiB, %d volumes; netAppLimits %s" % (
            e["subscriptionId"], len(mine), len(mine), mine[0]["poolTiB"], sum(len(a["volumes"]) for a in mine),
            json.dumps(e["netAppLimits"], sort_keys=True)))
    if checked.returncode != 0:
        print(checked.stdout + checked.stderr)
    return 0 if checked.returncode == 0 and len(subs) == len(world_doc["tenants"][0]["subscriptions"]) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=200)
    parser.add_argument("--volumes-per-account", type=int,
                        help="default: 20 up to 1,000 volumes, else what keeps 10 accounts per subscription (ANF's default)")
    parser.add_argument("--subscriptions", type=int, help="default: 1 up to 1,000 volumes, else one per 500 volumes")
    parser.add_argument("--lro-unit", type=float, default=1.0, help="seconds an account operation takes (default 1)")
    parser.add_argument("--resync", type=int, default=60, help="operator resyncPeriod in seconds (default 60)")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--edit-timeout", type=int, default=60)
    parser.add_argument("--stall", type=int, default=300, help="give up after this many seconds without progress")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--binary", default=os.environ.get("ANF_BINARY", str(REPO / "build/dev/cmd/anf-cmk-operator/anf-cmk-operator")))
    parser.add_argument("--work", help="keep everything here (default: a temporary directory, removed)")
    parser.add_argument("--generate-only", action="store_true",
                        help="write the world and the manifests, check them (ANF limits, anf-cmk-operator validate), run nothing")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so that the emulators and the operator are stopped
    if not os.access(args.binary, os.X_OK):
        sys.exit("no binary at %s: build it (cmake --preset dev && cmake --build --preset dev) or pass --binary" % args.binary)
    subscriptions = args.subscriptions or (1 if args.volumes <= 1000 else math.ceil(args.volumes / 500))
    per_account = args.volumes_per_account or (20 if args.volumes <= 1000 else math.ceil(args.volumes / (10 * subscriptions)))
    fleet = plan_fleet(args.volumes, per_account, subscriptions)
    durations, flags, durations_text = operation_durations(args.binary, args.lro_unit)
    print("fleet: %d volumes in %d accounts over %d subscriptions; operations: %s" % (args.volumes, len(fleet), subscriptions, durations_text))
    print("durations (s): " + ", ".join("%s=%g" % kv for kv in durations.items()), flush=True)
    with tempfile.TemporaryDirectory(prefix="anf-fleet-") as scratch:
        work = Path(args.work) if args.work else Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        world_file, world_doc = work / "world.yaml", world(fleet)
        world_file.write_text(json.dumps(world_doc, indent=1))
        problems = limit_problems(fleet, world_doc)
        if problems:
            sys.exit("the generated fleet breaks ANF limits:\n  " + "\n  ".join(problems))
        if args.generate_only:
            return generate_only(args.binary, work, fleet, world_doc)
        ours = run_operator(args, args.binary, work / "operator", world_file, fleet, flags, durations)
        sdk = None if args.no_baseline else run_baseline(args, args.binary, work, world_file, fleet, flags)
        report(args, fleet, durations_text, durations, ours, sdk)
        return 0 if ours.get("converged") is not None and not (sdk or {}).get("errors") else 1


if __name__ == "__main__":
    sys.exit(main())
