// Shared by the *.test.mjs files: the emulator's start-up line (ANF_EMULATOR, set by run.mjs), the default
// world's names, client options that point the management SDKs at the emulator, and small helpers.
import assert from "node:assert/strict";

import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { FeatureClient } from "@azure/arm-features";
import { KeyVaultManagementClient } from "@azure/arm-keyvault";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";
import { NetAppManagementClient } from "@azure/arm-netapp";
import { NetworkManagementClient } from "@azure/arm-network";
import { ClientSecretCredential } from "@azure/identity";

export const emulator = JSON.parse(process.env.ANF_EMULATOR ?? "null");
if (!emulator) throw new Error("ANF_EMULATOR is not set: run this through run.mjs");

export const provider = emulator.tenants.find((tenant) => tenant.name === "provider");
export const customer = emulator.tenants.find((tenant) => tenant.name === "customer");
export const admin = provider.principals.find((principal) => principal.name === "admin");
export const subscriptionId = provider.subscriptions[0];
export const rg = "anf-rg";
export const location = "eastus";
export const rgId = `/subscriptions/${subscriptionId}/resourceGroups/${rg}`;
export const vaultName = "anfkv-provider";
export const vaultId = `${rgId}/providers/Microsoft.KeyVault/vaults/${vaultName}`;
export const rbacVaultId = `${rgId}/providers/Microsoft.KeyVault/vaults/anfkv-rbac`;
export const vnetId = `${rgId}/providers/Microsoft.Network/virtualNetworks/anf-vnet`;
export const endpointSubnetId = `${vnetId}/subnets/endpoints`;
export const delegatedSubnetId = `${vnetId}/subnets/anf-delegated`;
export const scope = "https://management.azure.com/.default";
export const TiB = 1024 ** 4;
export const GiB = 1024 ** 3;

// Options every management client gets: the emulator as endpoint, Azure's audience, and fast LRO polling.
export const armOptions = { endpoint: emulator.resourceManager, credentialScopes: [scope] };
export const modularOptions = { endpoint: emulator.resourceManager, credentials: { scopes: [scope] } };
export const poll = { updateIntervalInMs: 250 };

// A control call under /_emulator/ (not Azure; plain fetch, trusting the CA through NODE_EXTRA_CA_CERTS).
export async function control(method, path, body) {
  const response = await fetch(`${emulator.resourceManager}/_emulator/${path}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.equal(response.status, 200, `${method} /_emulator/${path}: ${text}`);
  return JSON.parse(text);
}

// Collects every item of a paged iterator, and the number of pages it took.
export async function collect(iterator) {
  const items = [];
  let pages = 0;
  for await (const page of iterator.byPage()) {
    pages += 1;
    items.push(...page);
  }
  return { items, pages };
}

// Awaits a promise that must reject with an Azure RestError; returns the error.
export async function azureError(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the call to fail");
}

// The provider tenant's admin, signed in with its client secret through the emulator's authority.
export const adminCredential = new ClientSecretCredential(provider.tenantId, admin.clientId, admin.clientSecret, {
  authorityHost: emulator.authority,
  disableInstanceDiscovery: true,
});

// One client of each management SDK, for `credential` in `subscription`.
export function managementClients(credential, subscription = subscriptionId) {
  return {
    msi: new ManagedServiceIdentityClient(credential, subscription, armOptions),
    keyVault: new KeyVaultManagementClient(credential, subscription, modularOptions),
    network: new NetworkManagementClient(credential, subscription, armOptions),
    netApp: new NetAppManagementClient(credential, subscription, armOptions),
    features: new FeatureClient(credential, subscription, armOptions),
    authorization: new AuthorizationManagementClient(credential, subscription, armOptions),
  };
}
