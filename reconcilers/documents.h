#pragma once
// Reading the desired state the reconcilers act on: spec fields of Document::spec (defaults already
// applied by the loader), the ARM ids documents name, references resolved through the engine's
// status of the referenced documents, and the cross-document questions of the CMK flows (which CMK
// volumes does an account or an endpoint carry).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "azure/resource_id.h"
#include "controller/reconciler.h"

namespace anf::reconcilers {

using controller::Document;
using controller::Json;

/// The string at `pointer` ("/encryption/keyVault/keyName") in the document's spec, or "".
std::string specString(const Document& document, std::string_view pointer);

/// The credential name the document acts with (spec.azure.tenant).
std::string credentialOf(const Document& document);

/// The ARM id of a top-level resource described by the document's spec.azure
/// ("Microsoft.NetApp/netAppAccounts").
azure::ResourceId topLevelId(const Document& document, std::string_view fullType);

/// The ARM ids of the NetApp hierarchy, computed from the documents themselves (never from status):
/// account of an account document, pool of a CapacityPool document (through spec.accountRef), volume
/// of a Volume document (through spec.poolRef). nullopt when a referenced document is missing.
std::optional<azure::ResourceId> accountIdOf(const Document& account);
std::optional<azure::ResourceId> poolIdOf(const Document& pool, const controller::DesiredState& desired);
std::optional<azure::ResourceId> volumeIdOf(const Document& volume, const controller::DesiredState& desired);

/// The document of `kind` named `name`, or nullptr.
const Document* findDocument(const controller::DesiredState& desired, controller::Kind kind, const std::string& name);

/// A string fact of the referenced document's status ("resourceId", "principalId"), or nullopt.
std::optional<std::string> referencedFact(const controller::ReconcileContext& context, controller::Kind kind,
                                          const std::string& name, const std::string& fact);

/// The documents of `kind` in context.desired whose references name `target`, in key order: found through
/// context.referrers (the engine's reference index), never by a walk of the desired state.
std::vector<const Document*> referringDocuments(const controller::ReconcileContext& context,
                                                const controller::DocumentKey& target, controller::Kind kind);

/// The documents of one kind, in name order: a walk of that kind only (the desired state orders by kind first).
std::vector<const Document*> documentsOfKind(const controller::DesiredState& desired, controller::Kind kind);

/// The Volume documents declaring `encryptionKeySource: Microsoft.KeyVault` in pools of context.document, an
/// account.
std::vector<const Document*> cmkVolumesOfAccount(const controller::ReconcileContext& context);

/// ARM ids as ARM compares them (case-insensitive, by segment; texts that are not ids: case-insensitive).
bool sameArmId(std::string_view a, std::string_view b);

using azure::virtualNetworkOf;  // the VNet id of a subnet id (azure/resource_id.h)

/// "Volume/a, Volume/b".
std::string joinKeys(const std::vector<const Document*>& documents);

/// A NetAppAccount whose spec.encryption.crossTenant is set: its key vault is in the customer's tenant.
bool declaresCrossTenant(const Document& account);

}  // namespace anf::reconcilers
