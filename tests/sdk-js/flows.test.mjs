// More of the official Azure SDK for JavaScript against the emulator (issue 3): the other @azure/identity
// credentials (workload identity, client assertion, managed identity over IMDS), creating a vault and a key,
// a manual private endpoint approved on the vault, a subnet, a custom role, throttling and faults as the SDK's
// retry policies see them. Started by run.mjs (see sdk.test.mjs).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { NetAppManagementClient } from "@azure/arm-netapp";
import { ClientAssertionCredential, ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential } from "@azure/identity";

import {
  adminCredential, armOptions, azureError, collect, control, customer, emulator, location, managementClients, poll, provider, rg, scope, subscriptionId,
  vnetId,
} from "./support.mjs";

const { msi, keyVault, network, authorization } = managementClients(adminCredential);
const serviceAccount = "system:serviceaccount:anf-system:anf-cmk-operator";
const work = mkdtempSync(join(tmpdir(), "anf-sdk-js-flows-"));
after(() => rmSync(work, { recursive: true, force: true }));

// The claims of a JWT, unverified.
function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
}

describe("@azure/identity credentials other than a client secret", () => {
  const state = {};

  test("WorkloadIdentityCredential exchanges a service account token through a federated identity credential", async () => {
    state.identity = await msi.userAssignedIdentities.createOrUpdate(rg, "sdk-wi-uami", { location });
    const credential = await msi.federatedIdentityCredentials.createOrUpdate(rg, "sdk-wi-uami", "operator", {
      issuer: emulator.workloadIdentityIssuer, subject: serviceAccount, audiences: ["api://AzureADTokenExchange"],
    });
    assert.equal(credential.subject, serviceAccount);
    const minted = await control("POST", "workload-identity-token", {
      tenantId: provider.tenantId, clientId: state.identity.clientId, subject: serviceAccount,
    });
    const tokenFilePath = join(work, "azure-identity-token");
    writeFileSync(tokenFilePath, minted.token);
    const workload = new WorkloadIdentityCredential({
      tenantId: provider.tenantId, clientId: state.identity.clientId, tokenFilePath,
      authorityHost: emulator.authority, disableInstanceDiscovery: true,
    });
    const token = await workload.getToken(scope);
    const claims = claimsOf(token.token);
    assert.equal(claims.oid, state.identity.principalId);
    assert.equal(claims.tid, provider.tenantId);
    // The token works against ARM through a management client.
    const { msi: asWorkload } = managementClients(workload);
    const self = await asWorkload.userAssignedIdentities.get(rg, "sdk-wi-uami");
    assert.equal(self.clientId, state.identity.clientId);
  });

  test("ClientAssertionCredential: an assertion no federated credential accepts gets Entra's AADSTS700213", async () => {
    const minted = await control("POST", "workload-identity-token", {
      tenantId: provider.tenantId, clientId: state.identity.clientId, subject: "system:serviceaccount:other:intruder",
    });
    const credential = new ClientAssertionCredential(provider.tenantId, state.identity.clientId, async () => minted.token, {
      authorityHost: emulator.authority, disableInstanceDiscovery: true,
    });
    const error = await azureError(credential.getToken(scope));
    // @azure/identity wraps MSAL's ServerError for the Entra error body as AuthenticationRequiredError.
    assert.equal(error.name, "AuthenticationRequiredError");
    assert.match(error.message, /AADSTS700213/);
  });

  test("ManagedIdentityCredential gets a token from the IMDS endpoint (AZURE_POD_IDENTITY_AUTHORITY_HOST)", async () => {
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = emulator.resourceManager;
    try {
      const credential = new ManagedIdentityCredential({ clientId: state.identity.clientId });
      const token = await credential.getToken(scope);
      const claims = claimsOf(token.token);
      assert.equal(claims.oid, state.identity.principalId);
      assert.equal(claims.aud, "https://management.azure.com/");
      const { msi: asIdentity } = managementClients(credential);
      assert.equal((await asIdentity.userAssignedIdentities.get(rg, "sdk-wi-uami")).principalId, state.identity.principalId);
    } finally {
      delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    }
  });
});

describe("two tenants", () => {
  test("the customer tenant's admin reads its own vault; the provider's token is refused there", async () => {
    const customerAdmin = customer.principals.find((principal) => principal.name === "admin");
    const credential = new ClientSecretCredential(customer.tenantId, customerAdmin.clientId, customerAdmin.clientSecret, {
      authorityHost: emulator.authority, disableInstanceDiscovery: true,
    });
    const { keyVault: customerVaults } = managementClients(credential, customer.subscriptions[0]);
    const vault = await customerVaults.vaults.get("customer-rg", "anfkv-customer");
    assert.equal(vault.properties.tenantId, customer.tenantId);
    assert.equal(vault.properties.enableRbacAuthorization, true);
    const { keyVault: providerOnCustomer } = managementClients(adminCredential, customer.subscriptions[0]);
    const refused = await azureError(providerOnCustomer.vaults.get("customer-rg", "anfkv-customer"));
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.code, "InvalidAuthenticationTokenTenant");
  });
});

describe("a new vault reached through a manually approved private endpoint", () => {
  const state = {};

  test("@azure/arm-keyvault: create a vault and an RSA key", async () => {
    const vault = await keyVault.vaults.beginCreateOrUpdateAndWait(rg, "sdk-vault", {
      location,
      properties: {
        tenantId: provider.tenantId, sku: { family: "A", name: "standard" }, accessPolicies: [],
        enableSoftDelete: true, enablePurgeProtection: true,
      },
    }, poll);
    assert.equal(vault.name, "sdk-vault");
    assert.equal(vault.properties.enablePurgeProtection, true);
    assert.ok(vault.properties.vaultUri.startsWith("https://sdk-vault.vault.azure.net"));
    state.vault = vault;
    const key = await keyVault.keys.createIfNotExist(rg, "sdk-vault", "sdk-key", { properties: { kty: "RSA", keySize: 3072 } });
    assert.equal(key.kty, "RSA");
    assert.equal(key.keySize, 3072);
    assert.ok(key.keyUriWithVersion.startsWith(key.keyUri + "/"));
    const { items: versions } = await collect(keyVault.keys.listVersions(rg, "sdk-vault", "sdk-key"));
    assert.equal(versions.length, 1);
  });

  test("@azure/arm-network: add a subnet for endpoints (LRO)", async () => {
    const subnet = await network.subnets.beginCreateOrUpdateAndWait(rg, "anf-vnet", "sdk-endpoints", {
      addressPrefix: "10.0.9.0/24", privateEndpointNetworkPolicies: "Disabled",
    }, poll);
    assert.equal(subnet.provisioningState, "Succeeded");
    assert.equal(subnet.privateEndpointNetworkPolicies, "Disabled");
    state.subnet = subnet;
    const vnet = await network.virtualNetworks.get(rg, "anf-vnet");
    assert.equal(vnet.id, vnetId);
    assert.ok(vnet.subnets.some((item) => item.name === "sdk-endpoints"));
  });

  test("a manual private endpoint is Pending until the vault approves it", async () => {
    const endpoint = await network.privateEndpoints.beginCreateOrUpdateAndWait(rg, "sdk-manual-pe", {
      location,
      subnet: { id: state.subnet.id },
      manualPrivateLinkServiceConnections: [{ name: "sdk-manual", privateLinkServiceId: state.vault.id, groupIds: ["vault"], requestMessage: "please" }],
    }, poll);
    assert.equal(endpoint.manualPrivateLinkServiceConnections[0].privateLinkServiceConnectionState.status, "Pending");
    const { items: connections } = await collect(keyVault.privateEndpointConnections.listByResource(rg, "sdk-vault"));
    const pending = connections.find((connection) => connection.privateEndpoint.id.toLowerCase() === endpoint.id.toLowerCase());
    assert.equal(pending.privateLinkServiceConnectionState.status, "Pending");
    const approved = await keyVault.privateEndpointConnections.put(rg, "sdk-vault", pending.name, {
      privateLinkServiceConnectionState: { status: "Approved", description: "approved by the SDK test" },
    });
    assert.equal(approved.privateLinkServiceConnectionState.status, "Approved");
    const after = await network.privateEndpoints.get(rg, "sdk-manual-pe");
    assert.equal(after.manualPrivateLinkServiceConnections[0].privateLinkServiceConnectionState.status, "Approved");
    await network.privateEndpoints.beginDeleteAndWait(rg, "sdk-manual-pe", poll);
  });

  test("@azure/arm-authorization: a custom role definition", async () => {
    const id = randomUUID();
    const subscriptionScope = `subscriptions/${subscriptionId}`;  // as the SDK's samples write it: no leading slash
    const created = await authorization.roleDefinitions.createOrUpdate(subscriptionScope, id, {
      roleName: "SDK key reader", description: "made by the SDK test", roleType: "CustomRole",
      permissions: [{ actions: [], notActions: [], dataActions: ["Microsoft.KeyVault/vaults/keys/read"], notDataActions: [] }],
      assignableScopes: [`/subscriptions/${subscriptionId}`],
    });
    assert.equal(created.name, id);
    assert.equal(created.roleName, "SDK key reader");
    assert.equal(created.roleType, "CustomRole");
    const read = await authorization.roleDefinitions.get(subscriptionScope, id);
    assert.deepEqual(read.permissions[0].dataActions, ["Microsoft.KeyVault/vaults/keys/read"]);
  });
});

describe("throttling and faults as the SDK's retry policies see them", () => {
  test("429 with Retry-After: the SDK waits and succeeds", async () => {
    await control("PUT", "throttling", { reads: { bucket: 2, perSecond: 2 } });
    try {
      const started = Date.now();
      for (let i = 0; i < 5; i += 1) await msi.userAssignedIdentities.get(rg, "sdk-wi-uami");
      assert.ok(Date.now() - started >= 500, "the SDK did not wait for Retry-After");
      const { items } = await control("GET", "requests");
      assert.ok(items.some((item) => item.status === 429));
    } finally {
      await control("PUT", "throttling", { reads: { bucket: 250, perSecond: 25 } });
    }
  });

  test("503 from a fault: the SDK surfaces the status once its retries are spent", async () => {
    await control("PUT", "faults", { rules: [{ method: "GET", pathPattern: "netAppAccounts/sdk-faulted", rate: 1, status: 503 }] });
    try {
      const client = new NetAppManagementClient(adminCredential, subscriptionId, { ...armOptions, retryOptions: { maxRetries: 1, retryDelayInMs: 10 } });
      const error = await azureError(client.accounts.get(rg, "sdk-faulted"));
      assert.equal(error.statusCode, 503);
    } finally {
      await control("DELETE", "faults");
    }
  });
});
