#include "tests/controller/manifests/corpus.h"

namespace anf::controller::testing {

namespace {
const std::string V = "apiVersion: anf-cmk.io/v1alpha1\n";
}

std::vector<BadCase> badCases() {
  const std::string uuidSub = "    subscriptionId: " + kSub + "\n";
  return {
      {"UnknownApiVersion",
       "apiVersion: anf-cmk.io/v1\nkind: Volume\nmetadata:\n  name: vol1\nspec:\n" + volumeSpec(),
       {"bad.yaml:1:13: Volume/vol1: apiVersion: 'anf-cmk.io/v1' is not one of anf-cmk.io/v1alpha1"},
       true},
      {"MissingApiVersion",
       "kind: Volume\nmetadata:\n  name: vol1\nspec:\n" + volumeSpec(),
       {"bad.yaml:1:1: Volume/vol1: apiVersion: is required"},
       true},
      {"UnknownKind",
       doc("Volum", "vol1", volumeSpec()),
       {"bad.yaml:2:7: kind: unknown kind 'Volum' (did you mean 'Volume'?); known kinds: UserAssignedIdentity, "
        "CrossTenantApplication, PrivateEndpoint, NetAppAccount, CapacityPool, Volume"},
       true},
      {"MissingKind", V + "metadata:\n  name: vol1\nspec:\n" + volumeSpec(), {"bad.yaml:1:1: kind: is required"}, true},
      {"KindNotAString",
       V + "kind: [Volume]\nmetadata:\n  name: vol1\n",
       {"bad.yaml:2:7: kind: expected a string, got a list"},
       true},
      {"MissingName",
       V + "kind: Volume\nmetadata:\n  labels: {app: x}\nspec:\n" + volumeSpec(),
       {"bad.yaml:4:3: metadata.name: is required"},
       true},
      {"NameNotDns1123",
       doc("Volume", "Vol_1", volumeSpec()),
       {"bad.yaml:4:9: metadata.name: 'Vol_1' is not a DNS-1123 label (lowercase letters, digits and '-', starting and "
        "ending with a letter or digit, at most 63 characters)"},
       true},
      {"NameTooLong",
       doc("Volume", std::string(64, 'v'), volumeSpec()),
       {"bad.yaml:4:9: metadata.name: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv' is not a "
        "DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 "
        "characters)"},
       true},
      {"UnknownTopLevelField",
       V + "kind: Volume\nmetadata:\n  name: vol1\nspecs:\n" + volumeSpec(),
       {"bad.yaml:1:1: Volume/vol1: spec: is required",
        "bad.yaml:5:1: Volume/vol1: specs: unknown field (did you mean 'spec'?)"},
       true},
      {"UnknownSpecFieldWithSuggestion",
       doc("Volume", "vol1", "  poolref: pool1\n  creationToken: vol1\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:6:3: Volume/vol1: spec.poolRef: is required",
        "bad.yaml:6:3: Volume/vol1: spec.poolref: unknown field (did you mean 'poolRef'?)"},
       true},
      {"UnknownNestedField",
       doc("NetAppAccount", "acct2", "  encryption:\n    keySorce: Microsoft.KeyVault\n"),
       {"bad.yaml:7:5: NetAppAccount/acct2: spec.encryption.keySorce: unknown field (did you mean 'keySource'?)"},
       true},
      {"UnknownFieldNoSuggestion",
       doc("Volume", "vol1", volumeSpec("  frobnicate: true\n")),
       {"bad.yaml:9:3: Volume/vol1: spec.frobnicate: unknown field"},
       true},
      {"UnknownMetadataField",
       V + "kind: Volume\nmetadata:\n  name: vol1\n  namespace: default\nspec:\n" + volumeSpec(),
       {"bad.yaml:5:3: Volume/vol1: metadata.namespace: unknown field"},
       true},
      {"IntegerGivenWord",
       doc("CapacityPool", "pool2", "  accountRef: acct\n  sizeTiB: four\n"),
       {"bad.yaml:7:12: CapacityPool/pool2: spec.sizeTiB: expected an integer, got 'four'"},
       true},
      {"IntegerGivenQuotedString",
       doc("CapacityPool", "pool2", "  accountRef: acct\n  sizeTiB: \"4\"\n"),
       {"bad.yaml:7:12: CapacityPool/pool2: spec.sizeTiB: expected an integer, got '4'"},
       true},
      {"ListGivenScalar",
       doc("Volume", "vol1", volumeSpec("  protocolTypes: NFSv3\n")),
       {"bad.yaml:9:18: Volume/vol1: spec.protocolTypes: expected a list, got 'NFSv3'"},
       true},
      {"MappingGivenScalar",
       doc("Volume", "vol1", "  azure: eastus\n" + volumeSpec()),
       {"bad.yaml:6:10: Volume/vol1: spec.azure: expected a mapping, got 'eastus'"},
       true},
      {"StringGivenList",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: [vol1]\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:7:18: Volume/vol1: spec.creationToken: expected a string, got a list"},
       true},
      {"SpecNotAMapping",
       V + "kind: Volume\nmetadata:\n  name: vol1\nspec: [1, 2]\n",
       {"bad.yaml:5:7: Volume/vol1: spec: expected a mapping, got a list"},
       true},
      {"EnumServiceLevel",
       doc("CapacityPool", "pool2", "  accountRef: acct\n  serviceLevel: Premum\n"),
       {"bad.yaml:7:17: CapacityPool/pool2: spec.serviceLevel: 'Premum' is not one of Standard, Premium, Ultra, "
        "StandardZRS, Flexible (did you mean 'Premium'?)"},
       true},
      {"EnumNetworkFeaturesCase",
       doc("Volume", "vol1", volumeSpec("  networkFeatures: standard\n")),
       {"bad.yaml:9:20: Volume/vol1: spec.networkFeatures: 'standard' is not one of Basic, Standard, Basic_Standard, "
        "Standard_Basic (did you mean 'Standard'?)"},
       true},
      {"EnumIdentityType",
       doc("NetAppAccount", "acct2", "  identity:\n    type: Systemassigned\n"),
       {"bad.yaml:7:11: NetAppAccount/acct2: spec.identity.type: 'Systemassigned' is not one of SystemAssigned, "
        "UserAssigned, None (did you mean 'SystemAssigned'?)"},
       true},
      {"EnumDeletionPolicy",
       doc("UserAssignedIdentity", "ids2", "  deletionPolicy: Destroy\n"),
       {"bad.yaml:6:19: UserAssignedIdentity/ids2: spec.deletionPolicy: 'Destroy' is not one of Retain, Delete"},
       true},
      {"EnumProtocolItem",
       doc("Volume", "vol1", volumeSpec("  protocolTypes: [NFSv3, SMB]\n")),
       {"bad.yaml:9:26: Volume/vol1: spec.protocolTypes[1]: 'SMB' is not one of NFSv3, NFSv4.1, CIFS"},
       true},
      {"EnumApproval",
       doc("PrivateEndpoint", "pe2",
           "  subnetId: " + kEndpoints + "\n  keyVaultResourceId: " + kVault + "\n  approval: Auto\n"),
       {"bad.yaml:8:13: PrivateEndpoint/pe2: spec.approval: 'Auto' is not one of Automatic, Manual"},
       true},
      {"BelowMinimum",
       doc("Volume", "vol1", volumeSpec("  usageThresholdGiB: 10\n")),
       {"bad.yaml:9:22: Volume/vol1: spec.usageThresholdGiB: must be at least 50"},
       true},
      {"AboveMaximum",
       doc("CapacityPool", "pool2", "  accountRef: acct\n  sizeTiB: 5000\n"),
       {"bad.yaml:7:12: CapacityPool/pool2: spec.sizeTiB: must be at most 2048"},
       true},
      {"RequiredSubnet",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: vol1\n"),
       {"bad.yaml:6:3: Volume/vol1: spec.subnetId: is required"},
       true},
      {"RequiredKeyVaultResourceId",
       doc("PrivateEndpoint", "pe2", "  subnetId: " + kEndpoints + "\n"),
       {"bad.yaml:6:3: PrivateEndpoint/pe2: spec.keyVaultResourceId: is required"},
       true},
      {"RequiredCustomerTenant",
       doc("CrossTenantApplication", "app2",
           "  displayName: x\n  identityRef: ids\n  customer:\n    keyVaultResourceId: " + kVault + "\n"),
       {"bad.yaml:9:5: CrossTenantApplication/app2: spec.customer.tenantId: is required"},
       true},
      {"RequiredKeyName",
       doc("NetAppAccount", "acct2",
           "  identity:\n    type: SystemAssigned\n  encryption:\n    keySource: Microsoft.KeyVault\n    keyVault:\n   "
           "   resourceId: " +
               kVault + "\n"),
       {"bad.yaml:11:7: NetAppAccount/acct2: spec.encryption.keyVault.keyName: is required"},
       true},
      {"ArmIdSyntax",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: vol1\n  subnetId: anf-delegated\n"),
       {"bad.yaml:8:13: Volume/vol1: spec.subnetId: 'anf-delegated' is not an ARM resource ID "
        "(/subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name})"},
       true},
      {"ArmIdMissingName",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: vol1\n  subnetId: " + kVnet + "/subnets\n"),
       {"bad.yaml:8:13: Volume/vol1: spec.subnetId: "
        "'/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/provid...' is not an ARM resource "
        "ID (/subscriptions/{id}/resourceGroups/{group}/providers/{namespace}/{type}/{name})"},
       true},
      {"ArmIdVnetWhereSubnetWanted",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: vol1\n  subnetId: " + kVnet + "\n"),
       {"bad.yaml:8:13: Volume/vol1: spec.subnetId: names a Microsoft.Network/virtualNetworks, expected a "
        "Microsoft.Network/virtualNetworks/subnets"},
       true},
      {"ArmIdSubnetWhereVaultWanted",
       doc("PrivateEndpoint", "pe2", "  subnetId: " + kEndpoints + "\n  keyVaultResourceId: " + kEndpoints + "\n"),
       {"bad.yaml:7:23: PrivateEndpoint/pe2: spec.keyVaultResourceId: names a "
        "Microsoft.Network/virtualNetworks/subnets, expected a Microsoft.KeyVault/vaults"},
       true},
      {"ArmIdVaultWhereIdentityWanted",
       doc("NetAppAccount", "acct2",
           "  identity:\n    type: UserAssigned\n    userAssignedIdentityId: " + kVault + "\n"),
       {"bad.yaml:8:29: NetAppAccount/acct2: spec.identity.userAssignedIdentityId: names a Microsoft.KeyVault/vaults, "
        "expected a Microsoft.ManagedIdentity/userAssignedIdentities"},
       true},
      {"ArmIdSubnetWhereVnetWanted",
       doc("NetAppAccount", "acct2",
           accountSpec("  transitionToCMK:\n    - virtualNetworkId: " + kDelegated +
                       "\n      privateEndpointRef: pe1\n")),
       {"bad.yaml:14:25: NetAppAccount/acct2: spec.transitionToCMK[0].virtualNetworkId: names a "
        "Microsoft.Network/virtualNetworks/subnets, expected a Microsoft.Network/virtualNetworks"},
       true},
      {"ArmIdVaultWherePrivateEndpointWanted",
       doc("Volume", "vol1",
           volumeSpec(
               "  networkFeatures: Standard\n  encryptionKeySource: Microsoft.KeyVault\n  keyVaultPrivateEndpointId: " +
               kVault + "\n")),
       {"bad.yaml:11:30: Volume/vol1: spec.keyVaultPrivateEndpointId: names a Microsoft.KeyVault/vaults, expected a "
        "Microsoft.Network/privateEndpoints"},
       true},
      {"KeyVaultUriNotHttps",
       doc("NetAppAccount", "acct2",
           accountSpec().replace(accountSpec().find("      keyName"), 0,
                                 "      uri: http://anfkv-provider.vault.azure.net/\n")),
       {"bad.yaml:12:12: NetAppAccount/acct2: spec.encryption.keyVault.uri: 'http://anfkv-provider.vault.azure.net/' "
        "is not a key vault URI (https://<vault>.vault.azure.net/, https://<hsm>.managedhsm.azure.net/, or a sovereign "
        "cloud's suffix)"},
       true},
      {"KeyVaultUriWrongSuffix",
       doc("NetAppAccount", "acct2",
           accountSpec().replace(accountSpec().find("      keyName"), 0,
                                 "      uri: https://anfkv-provider.vault.azure.com/\n")),
       {"bad.yaml:12:12: NetAppAccount/acct2: spec.encryption.keyVault.uri: 'https://anfkv-provider.vault.azure.com/' "
        "is not a key vault URI (https://<vault>.vault.azure.net/, https://<hsm>.managedhsm.azure.net/, or a sovereign "
        "cloud's suffix)"},
       true},
      {"SubscriptionNotUuid",
       doc("UserAssignedIdentity", "ids2", "  azure:\n    subscriptionId: my-subscription\n"),
       {"bad.yaml:7:21: UserAssignedIdentity/ids2: spec.azure.subscriptionId: 'my-subscription' is not a UUID "
        "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"},
       true},
      {"CreationTokenPattern",
       doc("Volume", "vol1", "  poolRef: pool1\n  creationToken: 1vol\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:7:18: Volume/vol1: spec.creationToken: '1vol' is not valid: a creation token starts with a letter "
        "and has at most 80 letters, digits, '-' and '_'"},
       true},
      {"KeyNamePattern",
       doc("NetAppAccount", "acct2", accountSpec().replace(accountSpec().find("anf-key"), 7, "anf_key")),
       {"bad.yaml:12:16: NetAppAccount/acct2: spec.encryption.keyVault.keyName: 'anf_key' is not valid: a key name has "
        "1 to 127 letters, digits and '-'"},
       true},
      {"ReferenceNotDns1123",
       doc("Volume", "vol1", "  poolRef: Pool_1\n  creationToken: vol1\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:6:12: Volume/vol1: spec.poolRef: 'Pool_1' is not a DNS-1123 label (lowercase letters, digits and "
        "'-', starting and ending with a letter or digit, at most 63 characters)"},
       true},
      {"LabelValueNotString",
       V + "kind: Volume\nmetadata:\n  name: vol1\n  labels:\n    team: [a, b]\nspec:\n" + volumeSpec(),
       {"bad.yaml:6:11: Volume/vol1: metadata.labels.team: expected a string, got a list"},
       true},
      {"DocumentIsAList",
       "- kind: Volume\n- metadata: {}\n",
       {"bad.yaml:1:1: a manifest document must be a mapping with apiVersion, kind, metadata and spec"},
       true},
      {"MissingReference",
       doc("Volume", "vol1", "  poolRef: pool2\n  creationToken: vol1\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:6:12: Volume/vol1: spec.poolRef: no CapacityPool named 'pool2' (did you mean 'pool1'?)"},
       false},
      {"ReferenceToWrongKind",
       doc("Volume", "vol1", "  poolRef: acct\n  creationToken: vol1\n  subnetId: " + kDelegated + "\n"),
       {"bad.yaml:6:12: Volume/vol1: spec.poolRef: 'acct' is a NetAppAccount, expected a CapacityPool"},
       false},
      {"DuplicateKindName",
       doc("CapacityPool", "pool1", "  accountRef: acct\n"),
       {"bad.yaml:29:1: CapacityPool/pool1: metadata.name: duplicate CapacityPool/pool1, already defined at "
        "bad.yaml:1:1"},
       false},
      {"CmkVolumeBasicNetwork",
       doc("Volume", "vol1",
           volumeSpec("  networkFeatures: Basic\n  encryptionKeySource: Microsoft.KeyVault\n  "
                      "keyVaultPrivateEndpointRef: pe1\n")),
       {"bad.yaml:9:20: Volume/vol1: spec.networkFeatures: a volume with encryptionKeySource Microsoft.KeyVault needs "
        "networkFeatures Standard"},
       false},
      {"CmkVolumeDefaultNetwork",
       doc("Volume", "vol1",
           volumeSpec("  encryptionKeySource: Microsoft.KeyVault\n  keyVaultPrivateEndpointRef: pe1\n")),
       {"bad.yaml:9:24: Volume/vol1: spec.encryptionKeySource: a volume with encryptionKeySource Microsoft.KeyVault "
        "needs networkFeatures Standard"},
       false},
      {"CmkVolumeWithoutPrivateEndpoint",
       doc("Volume", "vol1", volumeSpec("  networkFeatures: Standard\n  encryptionKeySource: Microsoft.KeyVault\n")),
       {"bad.yaml:10:24: Volume/vol1: spec.encryptionKeySource: a volume with encryptionKeySource Microsoft.KeyVault "
        "needs keyVaultPrivateEndpointRef or keyVaultPrivateEndpointId"},
       false},
      {"CmkVolumeBothEndpointRefAndId",
       doc("Volume", "vol1", volumeSpec(kCmkVolume + "  keyVaultPrivateEndpointId: " + kPeId + "\n")),
       {"bad.yaml:12:30: Volume/vol1: spec.keyVaultPrivateEndpointId: set only one of keyVaultPrivateEndpointRef or "
        "keyVaultPrivateEndpointId"},
       false},
      {"PmkVolumeWithEndpoint",
       doc("Volume", "vol1", volumeSpec("  keyVaultPrivateEndpointRef: pe1\n")),
       {"bad.yaml:9:31: Volume/vol1: spec.keyVaultPrivateEndpointRef: only applies when encryptionKeySource is "
        "Microsoft.KeyVault"},
       false},
      {"CmkVolumeOnPmkAccount",
       doc("Volume", "vol9", "  poolRef: pool9\n  creationToken: vol9\n  subnetId: " + kDelegated + "\n" + kCmkVolume) +
           "---\n" + doc("CapacityPool", "pool9", "  accountRef: pmk\n") + "---\n" +
           doc("NetAppAccount", "pmk", "  encryption:\n    keySource: Microsoft.NetApp\n"),
       {"bad.yaml:10:24: Volume/vol9: spec.encryptionKeySource: the pool's account NetAppAccount/pmk does not use "
        "encryption.keySource Microsoft.KeyVault (nor list this volume's VNet in transitionToCMK)"},
       false},
      {"CmkVolumeEndpointInOtherVnet",
       doc("Volume", "vol1", volumeSpec(kCmkVolume.substr(0, kCmkVolume.size() - 4) + "pe9\n")) + "---\n" +
           doc("PrivateEndpoint", "pe9",
               "  subnetId: " + kOtherVnet + "/subnets/endpoints\n  keyVaultResourceId: " + kVault + "\n"),
       {"bad.yaml:11:31: Volume/vol1: spec.keyVaultPrivateEndpointRef: PrivateEndpoint/pe9 is in VNet "
        "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.Network/"
        "virtualNetworks/other-vnet, not in the volume's VNet "
        "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.Network/"
        "virtualNetworks/anf-vnet"},
       false},
      {"CmkVolumeEndpointInDelegatedSubnet",
       doc("Volume", "vol1", volumeSpec(kCmkVolume.substr(0, kCmkVolume.size() - 4) + "pe9\n")) + "---\n" +
           doc("PrivateEndpoint", "pe9", "  subnetId: " + kDelegated + "\n  keyVaultResourceId: " + kVault + "\n"),
       {"bad.yaml:11:31: Volume/vol1: spec.keyVaultPrivateEndpointRef: PrivateEndpoint/pe9 is in the volume's "
        "delegated subnet; it needs another subnet of the same VNet"},
       false},
      {"CrossTenantNeedsUserAssigned",
       doc("NetAppAccount", "acct2", accountSpec("    crossTenant:\n      applicationRef: app\n")),
       {"bad.yaml:14:7: NetAppAccount/acct2: spec.encryption.crossTenant: cross-tenant keys need identity.type "
        "UserAssigned"},
       false},
      {"CrossTenantAppFederatesOtherIdentity",
       doc("NetAppAccount", "acct2",
           "  identity:\n    type: UserAssigned\n    userAssignedIdentityRef: ids2\n  encryption:\n    keySource: "
           "Microsoft.KeyVault\n    keyVault:\n"
           "      resourceId: " +
               kVault + "\n      keyName: anf-key\n    crossTenant:\n      applicationRef: app\n") +
           "---\n" + doc("UserAssignedIdentity", "ids2", "  {}\n"),
       {"bad.yaml:15:23: NetAppAccount/acct2: spec.encryption.crossTenant.applicationRef: CrossTenantApplication/app "
        "federates UserAssignedIdentity/ids, but the account uses UserAssignedIdentity/ids2"},
       false},
      {"RoleNeedsRoleAssignment",
       doc("NetAppAccount", "acct2",
           accountSpec("    access:\n      mode: AccessPolicy\n      role: KeyVaultCryptoUser\n")),
       {"bad.yaml:15:13: NetAppAccount/acct2: spec.encryption.access.role: needs access.mode RoleAssignment"},
       false},
      {"TransitionNeedsKeyVault",
       doc("NetAppAccount", "acct2",
           "  transitionToCMK:\n    - virtualNetworkId: " + kVnet + "\n      privateEndpointRef: pe1\n"),
       {"bad.yaml:7:5: NetAppAccount/acct2: spec.transitionToCMK: needs encryption.keySource Microsoft.KeyVault"},
       false},
      {"TransitionEndpointInOtherVnet",
       doc("NetAppAccount", "acct2",
           accountSpec("  transitionToCMK:\n    - virtualNetworkId: " + kOtherVnet +
                       "\n      privateEndpointRef: pe1\n")),
       {"bad.yaml:15:27: NetAppAccount/acct2: spec.transitionToCMK[0].privateEndpointRef: PrivateEndpoint/pe1 is not "
        "in VNet "
        "/subscriptions/10000000-0000-4000-8000-0000000000a1/resourceGroups/anf-rg/providers/Microsoft.Network/"
        "virtualNetworks/other-vnet"},
       false},
      {"TransitionVnetTwice",
       doc("NetAppAccount", "acct2",
           accountSpec("  transitionToCMK:\n    - {virtualNetworkId: " + kVnet +
                       ", privateEndpointRef: pe1}\n    - {virtualNetworkId: " + kVnet +
                       ", privateEndpointId: " + kPeId + "}\n")),
       {"bad.yaml:15:26: NetAppAccount/acct2: spec.transitionToCMK[1].virtualNetworkId: this VNet is listed twice"},
       false},
      {"KeyVaultSourceWithoutKeyVault",
       doc("NetAppAccount", "acct2",
           "  identity:\n    type: SystemAssigned\n  encryption:\n    keySource: Microsoft.KeyVault\n"),
       {"bad.yaml:9:5: NetAppAccount/acct2: spec.encryption.keyVault: is required when keySource is "
        "Microsoft.KeyVault"},
       false},
      {"KeyVaultSourceWithoutIdentity",
       doc("NetAppAccount", "acct2", accountSpec().substr(accountSpec().find("  encryption"))),
       {"bad.yaml:7:16: NetAppAccount/acct2: spec.encryption.keySource: encryption with Microsoft.KeyVault needs an "
        "identity: set spec.identity.type to SystemAssigned or UserAssigned"},
       false},
      {"UserAssignedWithoutIdentity",
       doc("NetAppAccount", "acct2", "  identity:\n    type: UserAssigned\n"),
       {"bad.yaml:7:5: NetAppAccount/acct2: spec.identity.userAssignedIdentityRef: is required (or set "
        "userAssignedIdentityId)"},
       false},
      {"IdentityRefAndId",
       doc("NetAppAccount", "acct2",
           "  identity:\n    type: UserAssigned\n    userAssignedIdentityRef: ids\n    userAssignedIdentityId: " +
               kIdentityId + "\n"),
       {"bad.yaml:9:29: NetAppAccount/acct2: spec.identity.userAssignedIdentityId: set only one of "
        "userAssignedIdentityRef or userAssignedIdentityId"},
       false},
      {"IdentityRefWithSystemAssigned",
       doc("NetAppAccount", "acct2", "  identity:\n    type: SystemAssigned\n    userAssignedIdentityRef: ids\n"),
       {"bad.yaml:8:30: NetAppAccount/acct2: spec.identity.userAssignedIdentityRef: needs identity.type UserAssigned"},
       false},
      {"ReconcilePolicyAnnotation",
       V + "kind: UserAssignedIdentity\nmetadata:\n  name: ids2\n  annotations:\n    anf-cmk.io/reconcile-policy: "
           "ignore\nspec: {}\n",
       {"bad.yaml:6:34: UserAssignedIdentity/ids2: metadata.annotations.anf-cmk.io/reconcile-policy: 'ignore' is not "
        "one of manage, observe, skip"},
       false},
      {"AzureNameFromMetadataInvalid",
       doc("Volume", "1vol", volumeSpec()),
       {"bad.yaml:4:9: Volume/1vol: metadata.name: '1vol' is not a valid Azure name for a Volume; set spec.azure.name"},
       false},
      {"DuplicateMappingKey",
       doc("Volume", "vol1", volumeSpec("  poolRef: pool1\n")),
       {"bad.yaml:9:3: Volume/vol1: spec.poolRef: duplicate field"},
       false},
      {"YamlSyntaxError",
       doc("Volume", "vol1", "  poolRef: [pool1\n"),
       {"bad.yaml:7:1: YAML syntax error: end of sequence flow not found"},
       false,
       false},
  };
}

}  // namespace anf::controller::testing
