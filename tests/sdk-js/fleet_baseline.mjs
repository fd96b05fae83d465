// The fleet benchmark's baseline (bench/fleet.py): the same CMK fleet created with the official Azure SDK for
// JavaScript, as a platform engineer would write it: one chain per account, all accounts in parallel, the
// SDK's default pollers and retry policy.
//
//   NODE_EXTRA_CA_CERTS=<emulator CA> ANF_EMULATOR=<emulator start-up line> node fleet_baseline.mjs fleet.json
//
// Prints one JSON line: {"seconds": <wall time>, "errors": [...]}.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";
import { NetAppManagementClient } from "@azure/arm-netapp";
import { NetworkManagementClient } from "@azure/arm-network";
import { ClientSecretCredential } from "@azure/identity";

const fleet = JSON.parse(readFileSync(process.argv[2], "utf8"));
const emulator = JSON.parse(process.env.ANF_EMULATOR);
const tenant = emulator.tenants.find((t) => t.name === "provider");
const admin = tenant.principals.find((p) => p.name === "admin");
const credential = new ClientSecretCredential(tenant.tenantId, admin.clientId, admin.clientSecret, {
  authorityHost: emulator.authority,
  disableInstanceDiscovery: true,
});
const scope = "https://management.azure.com/.default";
const armOptions = { endpoint: emulator.resourceManager, credentialScopes: [scope] };
const { resourceGroup: rg, location } = fleet;
const TiB = 1024 ** 4;
const GiB = 1024 ** 3;
const keyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";

const clients = new Map();
function clientsOf(subscription) {
  if (!clients.has(subscription)) {
    clients.set(subscription, {
      msi: new ManagedServiceIdentityClient(credential, subscription, armOptions),
      keyVault: new KeyVaultManagementClient(credential, subscription, { endpoint: emulator.resourceManager, credentials: { scopes: [scope] } }),
      network: new NetworkManagementClient(credential, subscription, armOptions),
      netApp: new NetAppManagementClient(credential, subscription, armOptions),
      authorization: new AuthorizationManagementClient(credential, subscription, armOptions),
    });
  }
  return clients.get(subscription);
}

// One private endpoint per vault and subscription, created once and shared by its accounts' volumes.
const endpoints = new Map();
function endpointOf(subscription, mode) {
  const key = `${subscription}/${mode}`;
  if (!endpoints.has(key)) {
    const ids = fleet.subscriptions[subscription];
    endpoints.set(key, clientsOf(subscription).network.privateEndpoints.beginCreateOrUpdateAndWait(rg, fleet.endpoints[subscription][mode], {
      location,
      subnet: { id: ids.endpoints },
      privateLinkServiceConnections: [{ name: fleet.endpoints[subscription][mode], privateLinkServiceId: ids.vault[mode], groupIds: ["vault"] }],
    }));
  }
  return endpoints.get(key);
}

async function grantKeyAccess(account, principalId) {
  const { keyVault, authorization } = clientsOf(account.subscription);
  const vaultId = fleet.subscriptions[account.subscription].vault[account.access];
  if (account.access === "AccessPolicy") {
    await keyVault.vaults.updateAccessPolicy(rg, fleet.subscriptions[account.subscription].vaultName.AccessPolicy, "add", {
      properties: { accessPolicies: [{ tenantId: tenant.tenantId, objectId: principalId, permissions: { keys: ["get", "encrypt", "decrypt"] } }] },
    });
  } else {
    await authorization.roleAssignments.create(vaultId, randomUUID(), {
      roleDefinitionId: `/subscriptions/${account.subscription}/providers/Microsoft.Authorization/roleDefinitions/${keyVaultCryptoUser}`,
      principalId,
      principalType: "ServicePrincipal",
    });
  }
}

function encryption(account, identityId) {
  const vaultName = fleet.subscriptions[account.subscription].vaultName[account.access];
  return {
    keySource: "Microsoft.KeyVault",
    keyVaultProperties: {
      keyVaultUri: `https://${vaultName}.vault.azure.net/`,
      keyName: "anf-key",
      keyVaultResourceId: fleet.subscriptions[account.subscription].vault[account.access],
    },
    ...(identityId ? { identity: { userAssignedIdentity: identityId } } : {}),
  };
}

// The account with its key: a user-assigned identity is created and granted first; a system-assigned one
// exists only once the account does, so the key is set by a second write.
async function createAccount(account) {
  const { msi, netApp } = clientsOf(account.subscription);
  if (account.uai) {
    const identity = await msi.userAssignedIdentities.createOrUpdate(rg, account.uai, { location });
    await grantKeyAccess(account, identity.principalId);
    await netApp.accounts.beginCreateOrUpdateAndWait(rg, account.name, {
      location,
      identity: { type: "UserAssigned", userAssignedIdentities: { [identity.id]: {} } },
      encryption: encryption(account, identity.id),
    });
    return;
  }
  const created = await netApp.accounts.beginCreateOrUpdateAndWait(rg, account.name, { location, identity: { type: "SystemAssigned" } });
  await grantKeyAccess(account, created.identity.principalId);
  await netApp.accounts.beginUpdateAndWait(rg, account.name, { encryption: encryption(account) });
}

async function createAccountChain(account) {
  const { netApp } = clientsOf(account.subscription);
  await createAccount(account);
  await netApp.pools.beginCreateOrUpdateAndWait(rg, account.name, account.pool, {
    location, size: account.poolTiB * TiB, serviceLevel: "Premium", qosType: "Auto",
  });
  const endpoint = await endpointOf(account.subscription, account.access);
  const subnetId = fleet.subscriptions[account.subscription].delegated;
  for (const volume of account.volumes) {
    await netApp.volumes.beginCreateOrUpdateAndWait(rg, account.name, account.pool, volume, {
      location,
      creationToken: volume,
      usageThreshold: fleet.volumeGiB * GiB,
      subnetId,
      protocolTypes: ["NFSv3"],
      networkFeatures: "Standard",
      encryptionKeySource: "Microsoft.KeyVault",
      keyVaultPrivateEndpointResourceId: endpoint.id,
    });
  }
}

const started = performance.now();
const outcomes = await Promise.allSettled(fleet.accounts.map(createAccountChain));
const seconds = (performance.now() - started) / 1000;
const errors = outcomes.filter((o) => o.status === "rejected").map((o) => `${o.reason?.code ?? ""} ${o.reason?.message ?? o.reason}`.trim());
console.log(JSON.stringify({ seconds, errors }));
