#!/usr/bin/python3
"""The Azure CLI (`az`, Debian 12's azure-cli 2.45) against the emulator (issue 3).

    /usr/bin/python3 tests/cli-az/run.py /path/to/anf-cmk-operator

Starts `anf-cmk-operator emulator` on a free loopback port, reads its one JSON start-up line, registers a custom
cloud with the emulator's endpoints in a private AZURE_CONFIG_DIR (REQUESTS_CA_BUNDLE = system CAs + the
emulator's CA), logs in, then runs the single-tenant CMK flow of the ANF documentation's CLI steps with real
assertions on `-o json` outputs and on Azure's error words. Exits 0 on success, 1 on a failed check, 77 (CTest
SKIP_RETURN_CODE) when `az` is not installed. See README.md for what az 2.45 cannot do against the emulator.
Only the standard library.
"""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

RG = "anf-rg"
VAULT = "anfkv-provider"
ACCOUNT = "cli-acct"
POOL = "cli-pool"
VOLUME = "cli-vol"
NETAPP_API = "2022-05-01"  # what azure-cli 2.45 sends for Microsoft.NetApp
KEYVAULT_API = "2022-07-01"  # and for Microsoft.KeyVault
NETWORK_API = "2024-05-01"

failures = []
started = time.monotonic()


def check(condition, what, detail=""):
    """A named assertion: prints ok/FAIL and remembers failures (the run goes on, to report them all)."""
    print(("ok    " if condition else "FAIL  ") + what + ("" if condition or not detail else "\n      " + str(detail)[:2000]),
          flush=True)
    if not condition:
        failures.append(what)
    return condition


class Az:
    """Runs `az` with the test's environment; JSON output parsed."""

    def __init__(self, env):
        self.env = env

    def run(self, *args, timeout=90):
        command = ["az", *args]
        print("$ " + " ".join(command), flush=True)
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout)
        return done.returncode, done.stdout, done.stderr

    def json(self, *args):
        """`az ... -o json`; raises with az's stderr when it fails."""
        code, out, err = self.run(*args, "-o", "json")
        if code != 0:
            raise AssertionError("az %s exited %d:\n%s" % (" ".join(args), code, err.strip()))
        return json.loads(out) if out.strip() else None

    def tsv(self, *args):
        code, out, err = self.run(*args, "-o", "tsv")
        if code != 0:
            raise AssertionError("az %s exited %d:\n%s" % (" ".join(args), code, err.strip()))
        return out.strip()

    def fails(self, *args):
        """`az ...` that must fail; returns (exit code, stderr)."""
        code, _, err = self.run(*args, "-o", "json")
        return code, err


def start_emulator(binary, work):
    ca_file = os.path.join(work, "ca.pem")
    log = open(os.path.join(work, "emulator.log"), "w")
    process = subprocess.Popen([binary, "emulator", "--listen", "127.0.0.1:0", "--ca-out", ca_file, "--lro-seconds", "1",
                                "--log-level", "info"], stdout=subprocess.PIPE, stderr=log, text=True)
    line = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(20)
    if not line or not line[0].strip():
        process.kill()
        raise SystemExit("the emulator printed no start-up line within 20 s (log: %s)" % log.name)
    return process, json.loads(line[0])


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def emulator_requests(endpoints):
    """The emulator's request log (/_emulator/requests, not an Azure path)."""
    context = ssl.create_default_context(cafile=endpoints["caFile"])
    with urllib.request.urlopen(endpoints["resourceManager"] + "/_emulator/requests", context=context, timeout=10) as reply:
        return json.load(reply)["items"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ANF_BINARY")
    if not binary:
        print("usage: run.py /path/to/anf-cmk-operator", file=sys.stderr)
        return 2
    if shutil.which("az") is None:
        print("skipped: the Azure CLI (az) is not installed (Debian 12: apt-get install azure-cli, or scripts/setup.sh)")
        return 77

    work = tempfile.mkdtemp(prefix="anf-cli-az-")
    emulator, endpoints = start_emulator(binary, work)
    try:
        return flow(work, endpoints)
    except (AssertionError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        check(False, "the flow ran to its end", error)
        return 1
    finally:
        emulator.terminate()
        try:
            emulator.wait(10)
        except subprocess.TimeoutExpired:
            emulator.kill()
        if failures:
            print("emulator log kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        print("%d failed check(s); %.0f s" % (len(failures), time.monotonic() - started))


def flow(work, endpoints):
    base = endpoints["resourceManager"]
    provider = next(t for t in endpoints["tenants"] if t["name"] == "provider")
    admin = next(p for p in provider["principals"] if p["name"] == "admin")
    subscription = provider["subscriptions"][0]
    group_id = "/subscriptions/%s/resourceGroups/%s" % (subscription, RG)
    vault_id = group_id + "/providers/Microsoft.KeyVault/vaults/" + VAULT
    account_id = group_id + "/providers/Microsoft.NetApp/netAppAccounts/" + ACCOUNT
    subnets = group_id + "/providers/Microsoft.Network/virtualNetworks/anf-vnet/subnets"
    endpoint_id = group_id + "/providers/Microsoft.Network/privateEndpoints/cli-kv-pe"

    # The CA bundle requests (the CLI's HTTP client) trusts: the system's CAs and the emulator's.
    bundle = os.path.join(work, "ca-bundle.pem")
    with open(bundle, "w") as out:
        system = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
        if os.path.exists(system):
            out.write(open(system).read())
        out.write(open(endpoints["caFile"]).read())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MSI_", "IDENTITY_", "ARM_"))}
    env.update({"AZURE_CONFIG_DIR": os.path.join(work, "azure"), "REQUESTS_CA_BUNDLE": bundle, "SSL_CERT_FILE": bundle,
                "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_ONLY_SHOW_ERRORS": "true", "AZURE_CORE_NO_COLOR": "true",
                "AZURE_CORE_SURVEY_MESSAGE": "false",
                # core.instance_discovery: unknown to 2.45, honoured by newer CLIs (README.md)
                "AZURE_CORE_INSTANCE_DISCOVERY": "false"})
    az = Az(env)

    # 1. A custom cloud whose endpoints are the emulator's. The ARM token audience is the one the CLI's own clouds use.
    az.run("cloud", "register", "--name", "AnfEmulator",
           "--endpoint-resource-manager", base + "/",
           "--endpoint-active-directory", endpoints["authority"],
           "--endpoint-active-directory-resource-id", "https://management.core.windows.net/",
           "--endpoint-active-directory-graph-resource-id", endpoints["graph"] + "/",
           "--endpoint-management", "https://management.core.windows.net/",
           "--suffix-keyvault-dns", ".vault.azure.net")
    az.run("cloud", "set", "--name", "AnfEmulator")
    cloud = az.json("cloud", "show")
    check(cloud["name"] == "AnfEmulator" and cloud["isActive"] and cloud["endpoints"]["resourceManager"] == base + "/",
          "az cloud register/set: the emulator's cloud is active", cloud)

    # 2. Log in. The service principal login goes through MSAL, whose instance discovery asks
    #    https://login.microsoftonline.com about any authority host it does not know (README.md); it is tried, and used
    #    when it works (a newer az/MSAL), else the managed identity login through MSI_ENDPOINT (the emulator's Cloud
    #    Shell endpoint), whose identity is the provider tenant's admin principal too.
    code, _, err = az.run("login", "--service-principal", "--username", admin["clientId"], "--password", admin["clientSecret"],
                          "--tenant", provider["tenantId"], "-o", "none", timeout=60)
    if code == 0:
        print("note: az login --service-principal worked", flush=True)
    else:
        lines = err.strip().splitlines()
        reason = "MSAL instance discovery at login.microsoftonline.com" if "login.microsoftonline.com" in err else (lines or ["?"])[-1]
        print("note: az login --service-principal failed (%s); logging in with --identity through MSI_ENDPOINT" % reason,
              flush=True)
        env["MSI_ENDPOINT"] = base + "/oauth2/token"
        logged = az.json("login", "--identity")
        check(len(logged) == 1 and logged[0]["id"] == subscription and logged[0]["tenantId"] == provider["tenantId"],
              "az login --identity: one subscription, the provider's", logged)
    account = az.json("account", "show")
    check(account["id"] == subscription and account["tenantId"] == provider["tenantId"]
          and account["environmentName"] == "AnfEmulator" and account["user"]["type"] == "servicePrincipal",
          "az account show: provider subscription in the emulator's cloud", account)
    token = az.json("account", "get-access-token")
    claims = jwt_claims(token["accessToken"])
    check(claims.get("tid") == provider["tenantId"] and claims.get("oid") == admin["objectId"]
          and token["subscription"] == subscription,
          "az account get-access-token: a token of the provider's admin principal", claims)

    # 3. The key vault and its key, as the documentation's CLI steps read them.
    vault = az.json("keyvault", "show", "--name", VAULT, "--resource-group", RG)
    props = vault["properties"]
    check(vault["id"] == vault_id and props["enableSoftDelete"] and props["enablePurgeProtection"]
          and props["tenantId"] == provider["tenantId"] and vault["location"] == "eastus",
          "az keyvault show: soft delete and purge protection on, provider tenant, eastus", vault)
    vault_uri = az.tsv("keyvault", "show", "--name", VAULT, "--resource-group", RG, "--query", "properties.vaultUri")
    check(vault_uri == "https://%s.vault.azure.net/" % VAULT, "az keyvault show --query properties.vaultUri", vault_uri)
    # `az keyvault key show` is data plane (https://<vault>.vault.azure.net/keys/...), which the emulator does not serve,
    # and Debian's 2.45 fails before sending (README.md); the key is read through ARM instead.
    key = az.json("resource", "show", "--ids", vault_id + "/keys/anf-key", "--api-version", KEYVAULT_API)
    check(key["properties"]["kty"] == "RSA" and key["properties"]["attributes"]["enabled"]
          and key["type"] == "Microsoft.KeyVault/vaults/keys",
          "az resource show (vault key anf-key): an enabled RSA key", key)

    # 4. The NetApp account with a system-assigned identity (the documentation's `--identity-type SystemAssigned`
    #    does not exist in 2.45: the identity is PATCHed with az rest, as the documentation does for identity changes).
    created = az.json("netappfiles", "account", "create", "--resource-group", RG, "--name", ACCOUNT, "--location", "eastus")
    check(created["id"] == account_id and created["provisioningState"] == "Succeeded"
          and created["encryption"]["keySource"] == "Microsoft.NetApp",
          "az netappfiles account create: Succeeded, PMK", created)
    patched = az.json("rest", "--method", "patch", "--url", "%s?api-version=%s" % (account_id, NETAPP_API),
                      "--body", json.dumps({"identity": {"type": "SystemAssigned"}}))
    check(patched["identity"]["type"] == "SystemAssigned" and patched["identity"].get("principalId"),
          "az rest PATCH identity SystemAssigned: a principal id", patched)
    for _ in range(30):  # az rest does not poll; the account says when the PATCH is done
        shown = az.json("netappfiles", "account", "show", "--resource-group", RG, "--name", ACCOUNT)
        if shown["provisioningState"] in ("Succeeded", "Failed"):
            break
        time.sleep(1)
    check(shown["provisioningState"] == "Succeeded", "the identity PATCH ends Succeeded", shown)
    principal = az.tsv("netappfiles", "account", "show", "--resource-group", RG, "--name", ACCOUNT, "--query", "identity.principalId")
    check(principal == patched["identity"]["principalId"], "az netappfiles account show --query identity.principalId", principal)

    # 5. Key access by access policy: get, encrypt, decrypt for the account's identity.
    az.json("keyvault", "set-policy", "--name", VAULT, "--resource-group", RG, "--object-id", principal,
            "--key-permissions", "get", "encrypt", "decrypt")
    policies = az.json("keyvault", "show", "--name", VAULT, "--resource-group", RG, "--query",
                       "properties.accessPolicies[?objectId=='%s']" % principal)
    check(len(policies) == 1 and sorted(policies[0]["permissions"]["keys"]) == ["decrypt", "encrypt", "get"],
          "az keyvault set-policy: the account's identity holds get, encrypt, decrypt", policies)

    # 6. The account's encryption: the key vault's key (CMK).
    updated = az.json("netappfiles", "account", "update", "--resource-group", RG, "--name", ACCOUNT,
                      "--key-source", "Microsoft.KeyVault", "--key-vault-uri", vault_uri, "--key-name", "anf-key",
                      "--keyvault-resource-id", vault_id)
    encryption = updated["encryption"]
    check(updated["provisioningState"] == "Succeeded" and encryption["keySource"] == "Microsoft.KeyVault"
          and encryption["keyVaultProperties"]["keyName"] == "anf-key"
          and encryption["keyVaultProperties"]["keyVaultUri"] == vault_uri
          and encryption["keyVaultProperties"]["keyVaultResourceId"] == vault_id
          and encryption["identity"]["principalId"] == principal,
          "az netappfiles account update --key-source Microsoft.KeyVault: CMK with the account's identity", updated)

    # 7. A private endpoint to the vault in the volumes' VNet (the `az network` module of Debian's 2.45 fails to load:
    #    README.md), a capacity pool, and a CMK volume with Standard network features.
    endpoint = az.json("resource", "create", "--id", endpoint_id, "--location", "eastus", "--api-version", NETWORK_API,
                       "--properties", json.dumps({"subnet": {"id": subnets + "/endpoints"},
                                                   "privateLinkServiceConnections": [{"name": "kv", "properties": {
                                                       "privateLinkServiceId": vault_id, "groupIds": ["vault"]}}]}))
    connection = endpoint["properties"]["privateLinkServiceConnections"][0]["properties"]
    check(endpoint["properties"]["provisioningState"] == "Succeeded"
          and connection["privateLinkServiceConnectionState"]["status"] == "Approved",
          "az resource create (private endpoint, group vault): Succeeded and Approved", endpoint)
    pool = az.json("netappfiles", "pool", "create", "--resource-group", RG, "--account-name", ACCOUNT, "--name", POOL,
                   "--location", "eastus", "--service-level", "Premium", "--size", "4")
    check(pool["provisioningState"] == "Succeeded" and pool["size"] == 4 * 1024 ** 4 and pool["serviceLevel"] == "Premium",
          "az netappfiles pool create: 4 TiB Premium", pool)
    volume_args = ["--resource-group", RG, "--account-name", ACCOUNT, "--pool-name", POOL, "--location", "eastus",
                   "--service-level", "Premium", "--usage-threshold", "100", "--vnet", "anf-vnet",
                   "--subnet", subnets + "/anf-delegated", "--protocol-types", "NFSv3"]
    volume = az.json("netappfiles", "volume", "create", "--name", VOLUME, "--file-path", VOLUME, *volume_args,
                     "--network-features", "Standard", "--encryption-key-source", "Microsoft.KeyVault",
                     "--kv-private-endpoint-id", endpoint_id)
    check(volume["provisioningState"] == "Succeeded" and volume["encryptionKeySource"] == "Microsoft.KeyVault"
          and volume["networkFeatures"] == "Standard" and volume["keyVaultPrivateEndpointResourceId"] == endpoint_id
          and volume["encrypted"] is True and volume["usageThreshold"] == 100 * 1024 ** 3,
          "az netappfiles volume create: CMK, Standard network features, the vault's private endpoint", volume)

    # 8. Read-backs.
    accounts = az.json("netappfiles", "account", "list", "--resource-group", RG)
    mine = [a for a in accounts if a["name"] == ACCOUNT]
    check(len(mine) == 1 and mine[0]["encryption"]["keySource"] == "Microsoft.KeyVault"
          and mine[0]["encryption"]["keyVaultProperties"]["status"] == "InUse",
          "az netappfiles account list: the account, CMK, key status InUse", accounts)
    pools = az.json("netappfiles", "pool", "list", "--resource-group", RG, "--account-name", ACCOUNT)
    check([p["name"] for p in pools] == ["%s/%s" % (ACCOUNT, POOL)], "az netappfiles pool list", pools)
    volumes = az.json("netappfiles", "volume", "list", "--resource-group", RG, "--account-name", ACCOUNT, "--pool-name", POOL)
    check([v["name"] for v in volumes] == ["%s/%s/%s" % (ACCOUNT, POOL, VOLUME)], "az netappfiles volume list", volumes)
    shown = az.json("netappfiles", "volume", "show", "--resource-group", RG, "--account-name", ACCOUNT, "--pool-name", POOL,
                    "--name", VOLUME)
    check(shown["encryptionKeySource"] == "Microsoft.KeyVault" and shown["mountTargets"]
          and shown["subnetId"] == subnets + "/anf-delegated",
          "az netappfiles volume show: CMK volume with a mount target in the delegated subnet", shown)

    # 9. Azure's words for what Azure refuses, printed by az.
    code, err = az.fails("netappfiles", "account", "show", "--resource-group", RG, "--name", "no-such-account")
    check(code == 3 and "(ResourceNotFound)" in err
          and "The Resource 'Microsoft.NetApp/netAppAccounts/no-such-account' under resource group 'anf-rg' was not found." in err,
          "missing account: az exits 3 with ARM's ResourceNotFound text", err)
    az.json("rest", "--method", "put", "--url", "%s/keys/cli-ec-key?api-version=%s" % (vault_id, KEYVAULT_API),
            "--body", json.dumps({"properties": {"kty": "EC", "curveName": "P-256"}}))
    code, err = az.fails("netappfiles", "account", "update", "--resource-group", RG, "--name", ACCOUNT,
                         "--key-source", "Microsoft.KeyVault", "--key-vault-uri", vault_uri, "--key-name", "cli-ec-key",
                         "--keyvault-resource-id", vault_id)
    check(code != 0 and "Azure Key Vault key is not a valid RSA key" in err, "EC key: 'Azure Key Vault key is not a valid RSA key'", err)
    az.json("rest", "--method", "put", "--url", "%s/keys/cli-expired-key?api-version=%s" % (vault_id, KEYVAULT_API),
            "--body", json.dumps({"properties": {"kty": "RSA", "keySize": 2048, "attributes": {"enabled": True, "exp": 1000000000}}}))
    code, err = az.fails("netappfiles", "account", "update", "--resource-group", RG, "--name", ACCOUNT,
                         "--key-source", "Microsoft.KeyVault", "--key-vault-uri", vault_uri, "--key-name", "cli-expired-key",
                         "--keyvault-resource-id", vault_id)
    check(code != 0 and "Azure Key Vault key is expired" in err, "expired key: 'Azure Key Vault key is expired'", err)
    key_name = az.tsv("netappfiles", "account", "show", "--resource-group", RG, "--name", ACCOUNT,
                      "--query", "encryption.keyVaultProperties.keyName")
    check(key_name == "anf-key", "the refused updates left the account on anf-key", key_name)
    code, err = az.fails("netappfiles", "volume", "create", "--name", "cli-basic", "--file-path", "cli-basic", *volume_args,
                         "--network-features", "Basic", "--encryption-key-source", "Microsoft.KeyVault",
                         "--kv-private-endpoint-id", endpoint_id)
    check(code != 0 and "To create a volume using customer-managed keys, you must select the Standard network features" in err,
          "CMK volume with Basic network features is refused", err)

    # 10. What went over the wire: the CLI's own api-versions, all accepted.
    netapp = [r for r in emulator_requests(endpoints) if "/providers/Microsoft.NetApp/" in r["path"] and "/operationResults/" not in r["path"]]
    versions = sorted({r["apiVersion"] for r in netapp})
    check(netapp and versions == [NETAPP_API], "every Microsoft.NetApp request used api-version " + NETAPP_API, versions)
    refused = [r for r in netapp if r["status"] >= 400]
    check(sorted((r["method"], r["status"]) for r in refused) == [("GET", 404), ("PATCH", 400), ("PATCH", 400), ("PUT", 400)],
          "the only refused Microsoft.NetApp requests are the four error cases", refused)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
