// The official Azure SDK for JavaScript against the emulator: real clients nobody here wrote (issue 3).
// Started by run.mjs, which sets NODE_EXTRA_CA_CERTS to the emulator's CA and ANF_EMULATOR to its start-up line.
// The tests run in order and build on each other, as one customer-managed-key set-up would.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { before, describe, test } from "node:test";

import {
  azureError, collect, control, customer, delegatedSubnetId, GiB, location, managementClients, poll, provider, rbacVaultId,
  rg, scope, subscriptionId, TiB, vaultId, vaultName, endpointSubnetId, adminCredential as credential,
} from "./support.mjs";

const { msi, keyVault, network, netApp, features, authorization } = managementClients(credential, subscriptionId);

// A NetApp account body encrypted with `keyName` of the access-policy vault through the user-assigned `identityId`.
function cmkAccount(identityId, vaultUri, keyName = "anf-key") {
  return {
    location,
    identity: { type: "UserAssigned", userAssignedIdentities: { [identityId]: {} } },
    encryption: {
      keySource: "Microsoft.KeyVault",
      keyVaultProperties: { keyVaultUri: vaultUri, keyName, keyVaultResourceId: vaultId },
      identity: { userAssignedIdentity: identityId },
    },
  };
}

describe("Azure SDK for JavaScript against the emulator", () => {
  const state = {};

  before(async () => {
    await control("DELETE", "requests");
  });

  test("@azure/identity: ClientSecretCredential signs in through the emulator's authority", async () => {
    const token = await credential.getToken(scope);
    assert.ok(token?.token, "no access token");
    const claims = JSON.parse(Buffer.from(token.token.split(".")[1], "base64url").toString());
    assert.equal(claims.tid, provider.tenantId);
    assert.equal(claims.aud, "https://management.azure.com/");
    assert.ok(token.expiresOnTimestamp > Date.now());
  });

  test("@azure/arm-msi: create and read a user-assigned identity", async () => {
    const created = await msi.userAssignedIdentities.createOrUpdate(rg, "sdk-uami", { location, tags: { from: "sdk" } });
    assert.match(created.principalId, /^[0-9a-f-]{36}$/);
    assert.match(created.clientId, /^[0-9a-f-]{36}$/);
    assert.equal(created.tenantId, provider.tenantId);
    const read = await msi.userAssignedIdentities.get(rg, "sdk-uami");
    assert.equal(read.principalId, created.principalId);
    assert.equal(read.tags.from, "sdk");
    state.identity = read;
  });

  test("@azure/arm-keyvault: read the vault and its keys", async () => {
    const vault = await keyVault.vaults.get(rg, vaultName);
    assert.equal(vault.id, vaultId);
    assert.equal(vault.properties.enableSoftDelete, true);
    assert.equal(vault.properties.enablePurgeProtection, true);
    assert.ok(vault.properties.vaultUri.startsWith(`https://${vaultName}.vault.azure.net`));
    state.vaultUri = vault.properties.vaultUri;
    const { items: keys } = await collect(keyVault.keys.list(rg, vaultName));
    assert.deepEqual(keys.map((key) => key.name).sort(), ["anf-key", "anf-key-2"]);
    // vaults.list goes through Microsoft.Resources: /subscriptions/{s}/resources?$filter=resourceType eq '...' (2015-11-01).
    const { items: listed } = await collect(keyVault.vaults.list());
    assert.ok(listed.some((vault) => vault.id === vaultId), JSON.stringify(listed));
    assert.ok(listed.every((vault) => vault.type === "Microsoft.KeyVault/vaults"));
    const key = await keyVault.keys.get(rg, vaultName, "anf-key");
    // @azure/arm-keyvault 5 flattens `properties` into the model.
    assert.equal(key.kty, "RSA");
    assert.equal(key.attributes.enabled, true);
  });

  test("@azure/arm-keyvault: add an access policy for the identity", async () => {
    const result = await keyVault.vaults.updateAccessPolicy(rg, vaultName, "add", {
      properties: {
        accessPolicies: [{ tenantId: provider.tenantId, objectId: state.identity.principalId, permissions: { keys: ["get", "encrypt", "decrypt"] } }],
      },
    });
    assert.ok(result.properties.accessPolicies.some((entry) => entry.objectId === state.identity.principalId));
    const vault = await keyVault.vaults.get(rg, vaultName);
    const entry = vault.properties.accessPolicies.find((policy) => policy.objectId === state.identity.principalId);
    assert.deepEqual([...entry.permissions.keys].sort(), ["decrypt", "encrypt", "get"]);
  });

  test("@azure/arm-network: create a private endpoint to the vault (LRO)", async () => {
    const endpoint = await network.privateEndpoints.beginCreateOrUpdateAndWait(rg, "sdk-kv-pe", {
      location,
      subnet: { id: endpointSubnetId },
      privateLinkServiceConnections: [{ name: "sdk-kv-pe", privateLinkServiceId: vaultId, groupIds: ["vault"] }],
    }, poll);
    assert.equal(endpoint.provisioningState, "Succeeded");
    assert.equal(endpoint.privateLinkServiceConnections[0].privateLinkServiceConnectionState.status, "Approved");
    state.privateEndpointId = endpoint.id;
    const { items: connections } = await collect(keyVault.privateEndpointConnections.listByResource(rg, vaultName));
    assert.ok(connections.some((connection) => connection.privateEndpoint.id.toLowerCase() === endpoint.id.toLowerCase()));
  });

  test("@azure/arm-netapp: create a CMK account with a user-assigned identity (LRO)", async () => {
    const account = await netApp.accounts.beginCreateOrUpdateAndWait(rg, "sdk-account", cmkAccount(state.identity.id, state.vaultUri), poll);
    assert.equal(account.provisioningState, "Succeeded");
    assert.equal(account.encryption.keySource, "Microsoft.KeyVault");
    assert.equal(account.encryption.keyVaultProperties.status, "InUse");
    assert.equal(account.encryption.identity.principalId, state.identity.principalId);
    state.account = account;
  });

  test("@azure/arm-netapp: create a capacity pool and a CMK volume (LRO)", async () => {
    const pool = await netApp.pools.beginCreateOrUpdateAndWait(rg, "sdk-account", "pool1", {
      location, size: 4 * TiB, serviceLevel: "Premium",
    }, poll);
    assert.equal(pool.provisioningState, "Succeeded");
    assert.equal(pool.size, 4 * TiB);
    const volume = await netApp.volumes.beginCreateOrUpdateAndWait(rg, "sdk-account", "pool1", "vol1", {
      location,
      creationToken: "sdk-vol1",
      usageThreshold: 100 * GiB,
      subnetId: delegatedSubnetId,
      networkFeatures: "Standard",
      encryptionKeySource: "Microsoft.KeyVault",
      keyVaultPrivateEndpointResourceId: state.privateEndpointId,
    }, poll);
    assert.equal(volume.provisioningState, "Succeeded");
    assert.equal(volume.name, "sdk-account/pool1/vol1");
    assert.equal(volume.encryptionKeySource, "Microsoft.KeyVault");
  });

  test("@azure/arm-netapp: update (PATCH, Location LRO) keeps what it does not name", async () => {
    const updated = await netApp.accounts.beginUpdateAndWait(rg, "sdk-account", { tags: { stage: "patched" } }, poll);
    assert.equal(updated.tags.stage, "patched");
    assert.equal(updated.encryption.keySource, "Microsoft.KeyVault");
    assert.equal(updated.provisioningState, "Succeeded");
  });

  test("@azure/arm-netapp: renewCredentials (POST, Location LRO)", async () => {
    await netApp.accounts.beginRenewCredentialsAndWait(rg, "sdk-account", poll);
    const account = await netApp.accounts.get(rg, "sdk-account");
    assert.equal(account.encryption.identity.principalId, state.identity.principalId);
  });

  test("@azure/arm-netapp: a volume PATCH polled at the SDK's own pace (Retry-After)", async () => {
    const started = Date.now();
    const volume = await netApp.volumes.beginUpdateAndWait(rg, "sdk-account", "pool1", "vol1", { usageThreshold: 200 * GiB });
    assert.equal(volume.usageThreshold, 200 * GiB);
    assert.equal(volume.provisioningState, "Succeeded");
    assert.ok(Date.now() - started < 10000, "the SDK did not follow Retry-After: 1");
  });

  test("AnotherOperationInProgress: a second write while the account's operation runs", async () => {
    const poller = await netApp.accounts.beginUpdate(rg, "sdk-account", { tags: { stage: "busy" } }, poll);
    const busy = await azureError(netApp.accounts.beginUpdateAndWait(rg, "sdk-account", { tags: { stage: "second" } }, poll));
    assert.equal(busy.statusCode, 409);
    assert.equal(busy.code, "AnotherOperationInProgress");
    const done = await poller.pollUntilDone();
    assert.equal(done.tags.stage, "busy");
  });

  test("lists page through nextLink", async () => {
    await control("PUT", "paging", { pageSize: 1 });
    try {
      for (const name of ["sdk-account-2", "sdk-account-3"]) {
        await netApp.accounts.beginCreateOrUpdateAndWait(rg, name, { location }, poll);
      }
      const accounts = await collect(netApp.accounts.list(rg));
      assert.deepEqual(accounts.items.map((account) => account.name).sort(), ["sdk-account", "sdk-account-2", "sdk-account-3"]);
      assert.equal(accounts.pages, 3);
      const bySubscription = await collect(netApp.accounts.listBySubscription());
      assert.ok(bySubscription.items.length >= 3);
      assert.ok(bySubscription.pages >= 3);
      const vaults = await collect(keyVault.vaults.listByResourceGroup(rg));
      const vaultNames = vaults.items.map((vault) => vault.name);
      assert.ok(vaultNames.includes("anfkv-provider") && vaultNames.includes("anfkv-rbac"), vaultNames.join());
      assert.equal(vaults.pages, vaults.items.length);
      const identities = await collect(msi.userAssignedIdentities.listByResourceGroup(rg));
      assert.ok(identities.items.some((identity) => identity.name === "sdk-uami"));
      const volumes = await collect(netApp.volumes.list(rg, "sdk-account", "pool1"));
      assert.deepEqual(volumes.items.map((volume) => volume.name), ["sdk-account/pool1/vol1"]);
    } finally {
      await control("PUT", "paging", { pageSize: 100 });
    }
    for (const name of ["sdk-account-2", "sdk-account-3"]) await netApp.accounts.beginDeleteAndWait(rg, name, poll);
    await assert.rejects(netApp.accounts.get(rg, "sdk-account-2"), (error) => error.statusCode === 404);
  });

  test("@azure/arm-features: register a feature, Registering then Registered", async () => {
    const registered = await features.features.register("Microsoft.NetApp", "ANFCrossTenantCMK");
    assert.equal(registered.name, "Microsoft.NetApp/ANFCrossTenantCMK");
    assert.equal(registered.properties.state, "Registering");
    await control("POST", "clock/advance", { seconds: 5 });
    const read = await features.features.get("Microsoft.NetApp", "ANFCrossTenantCMK");
    assert.equal(read.properties.state, "Registered");
    const { items } = await collect(features.features.list("Microsoft.NetApp"));
    assert.ok(items.some((feature) => feature.name === "Microsoft.NetApp/ANFCrossTenantCMK"));
  });

  test("@azure/arm-authorization: assign Key Vault Crypto User on the RBAC vault", async () => {
    // The SDK's path template is "/{scope}/providers/..." and its docs write scopes as "/subscriptions/...": the
    // request path starts with "//subscriptions", which ARM takes as "/subscriptions".
    const rbacVaultScope = rbacVaultId;
    const name = randomUUID();
    const roleDefinitionId = `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424`;
    const created = await authorization.roleAssignments.create(rbacVaultScope, name, {
      roleDefinitionId, principalId: state.identity.principalId, principalType: "ServicePrincipal",
    });
    assert.equal(created.name, name);
    assert.equal(created.principalId, state.identity.principalId);
    assert.equal(created.scope.toLowerCase(), rbacVaultId.toLowerCase());
    assert.match(created.roleDefinitionId, /\/providers\/Microsoft\.Authorization\/roleDefinitions\/12338af0-0e69-4776-bea7-57ae8d297424$/);
    const read = await authorization.roleAssignments.get(rbacVaultScope, name);
    assert.equal(read.id, created.id);
    const { items } = await collect(authorization.roleAssignments.listForScope(rbacVaultScope));
    assert.ok(items.some((assignment) => assignment.name === name));
    const definition = await authorization.roleDefinitions.get(rbacVaultScope, "12338af0-0e69-4776-bea7-57ae8d297424");
    assert.equal(definition.roleName, "Key Vault Crypto User");
  });

  test("errors: the SDK surfaces Azure's codes and messages", async () => {
    const missing = await azureError(netApp.accounts.get(rg, "no-such-account"));
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.code, "ResourceNotFound");
    const noGroup = await azureError(msi.userAssignedIdentities.get("no-such-rg", "x"));
    assert.equal(noGroup.statusCode, 404);
    assert.equal(noGroup.code, "ResourceGroupNotFound");
    // Account table of the ANF CMK page: a key that does not exist is refused synchronously.
    const noKey = await azureError(netApp.accounts.beginCreateOrUpdateAndWait(rg, "sdk-bad-key", cmkAccount(state.identity.id, state.vaultUri, "no-such-key"), poll));
    assert.equal(noKey.statusCode, 400);
    assert.equal(noKey.message, "The operation failed because the specified key vault key was not found");
    // A volume without Standard network features on a CMK account.
    const basic = await azureError(netApp.volumes.beginCreateOrUpdateAndWait(rg, "sdk-account", "pool1", "vol-basic", {
      location, creationToken: "sdk-vol-basic", usageThreshold: 100 * GiB, subnetId: delegatedSubnetId, networkFeatures: "Basic",
      encryptionKeySource: "Microsoft.KeyVault", keyVaultPrivateEndpointResourceId: state.privateEndpointId,
    }, poll));
    assert.equal(basic.statusCode, 400);
    assert.ok(basic.code, "no error code");
    // Another tenant's subscription: the token is from the wrong issuer.
    const { netApp: foreign } = managementClients(credential, customer.subscriptions[0]);
    const wrongTenant = await azureError(foreign.accounts.get("customer-rg", "any"));
    assert.equal(wrongTenant.statusCode, 401);
    assert.equal(wrongTenant.code, "InvalidAuthenticationTokenTenant");
  });

  test("errors: a failed long-running operation rejects the SDK's poller with the status body's error", async () => {
    // An identity without key permissions: the vault accepts the request, the operation fails later.
    const outsider = await msi.userAssignedIdentities.createOrUpdate(rg, "sdk-no-access", { location });
    const failed = await azureError(netApp.accounts.beginCreateOrUpdateAndWait(rg, "sdk-no-access", cmkAccount(outsider.id, state.vaultUri), poll));
    // core-lro words it "The long-running operation has failed. {code}. {message}".
    assert.equal(failed.message,
      "The long-running operation has failed. EncryptionKeyUnusable. Unable to use the configured encryption key, please check if key is active");
    const account = await netApp.accounts.get(rg, "sdk-no-access");
    assert.equal(account.provisioningState, "Failed");
  });

  test("every request carried an api-version the emulator accepts", async () => {
    const { items } = await control("GET", "requests");
    assert.ok(items.length > 20);
    const rejected = items.filter((item) => item.status === 400 && item.path && !item.path.includes("sdk-bad-key") && !item.path.includes("vol-basic"));
    assert.deepEqual(rejected, []);
  });

  test("deletes are long-running operations the SDK waits for", async () => {
    await netApp.volumes.beginDeleteAndWait(rg, "sdk-account", "pool1", "vol1", poll);
    await netApp.pools.beginDeleteAndWait(rg, "sdk-account", "pool1", poll);
    await netApp.accounts.beginDeleteAndWait(rg, "sdk-account", poll);
    await network.privateEndpoints.beginDeleteAndWait(rg, "sdk-kv-pe", poll);
    await msi.userAssignedIdentities.delete(rg, "sdk-uami");
    const gone = await azureError(netApp.accounts.get(rg, "sdk-account"));
    assert.equal(gone.code, "ResourceNotFound");
  });
});
