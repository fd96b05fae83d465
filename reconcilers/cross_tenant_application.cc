// CrossTenantApplication: see cross_tenant_application.h for the flow.
#include "reconcilers/cross_tenant_application.h"

#include <algorithm>

#include "azure/client.h"
#include "reconcilers/arm_calls.h"
#include "reconcilers/documents.h"

namespace anf::reconcilers {

using controller::Condition;
using controller::DocumentKey;
using controller::FieldDiff;

namespace {

constexpr std::string_view kMultipleOrgs = "AzureADMultipleOrgs";

/// An OData string literal's content: quotes doubled.
std::string odataQuoted(const std::string& value) {
  std::string escaped;
  for (char c : value) escaped += c == '\'' ? std::string("''") : std::string(1, c);
  return "'" + escaped + "'";
}

class CrossTenantApplicationReconciler final : public controller::Reconciler {
 public:
  CrossTenantApplicationReconciler(azure::AzureClient& client, CrossTenantOptions options)
      : client_(client), options_(std::move(options)) {}

  Kind kind() const override { return Kind::CrossTenantApplication; }

  Result<Observation> observe(const ReconcileContext& context) override {
    const Json& spec = context.document.spec;
    const auto identity = referencedIdentity(context);
    if (!identity) return std::unexpected(identity.error());
    auto app = findApplication(context);
    if (!app) return std::unexpected(app.error());
    Observation observed;
    if (!*app) return observed;  // exists = false: create() registers it

    observed.exists = true;
    const std::string applicationId = (*app)->value("appId", "");
    observed.facts = {{"applicationId", applicationId},
                      {"objectId", (*app)->value("id", "")},
                      {"adminConsentUrl", adminConsentUrl(options_, customerOf(context.document).tenantId, applicationId)}};
    if ((*app)->value("signInAudience", "") != kMultipleOrgs)
      observed.diff.push_back(FieldDiff{.path = "signInAudience", .desired = kMultipleOrgs,
                                        .observed = (*app)->value("signInAudience", "")});
    if (auto error = observeFederatedCredential(context, *identity, observed)) return std::unexpected(*error);

    auto steps = observeCustomerSteps(client_, options_, context, applicationId, observed.facts);
    if (!steps) return std::unexpected(steps.error());
    observed.facts["customerSteps"] = customerStepFacts(*steps);
    observed.conditions.push_back(awaitingCustomerCondition(*steps));
    const bool customerDone = !customerStepsOutstanding(observed.facts);
    if (!customerDone) observed.planNotes.push_back("customer steps outstanding: " + customerInstructions(*steps));
    // Without the customer's credential the operator has nothing to do for the outstanding steps: the
    // application is Ready (AwaitingCustomer=True says what the customer must do) and the account's
    // chain check names the missing link in the account's status.
    const bool operatorActsForCustomer = !spec.value("/customer/credential"_json_pointer, std::string()).empty();
    observed.upToDate = observed.diff.empty() && (customerDone || !operatorActsForCustomer);
    return observed;
  }

  Result<Outcome> create(const ReconcileContext& context, const Observation& observed) override {
    if (observed.exists) return update(context, observed);
    const std::string displayName = customerOf(context.document).displayName;
    auto app = await(client_.createApplication(tenantOf(context), displayName, std::string(kMultipleOrgs)));
    if (!app) return std::unexpected(app.error());
    const std::string applicationId = app->value("appId", "");
    // The federated credential follows on the next pass (update), from a fresh observation.
    return Outcome{.facts = {{"objectId", app->value("id", "")}, {"applicationId", applicationId}},
                   .description = "registered multitenant application " + displayName + " (" + applicationId + ")"};
  }

  Result<Outcome> update(const ReconcileContext& context, const Observation& observed) override {
    const std::string objectId = observed.facts.value("objectId", "");
    std::string description;
    if (std::ranges::any_of(observed.diff, [](const FieldDiff& d) { return d.path == "signInAudience"; })) {
      auto patched = await(client_.updateApplication(tenantOf(context), objectId, {{"signInAudience", kMultipleOrgs}}));
      if (!patched) return std::unexpected(patched.error());
      description += "set signInAudience " + std::string(kMultipleOrgs) + "; ";
    }
    if (std::ranges::any_of(observed.diff, [](const FieldDiff& d) { return d.path.starts_with("federatedIdentityCredentials"); })) {
      auto written = writeFederatedCredential(context, observed.facts);
      if (!written) return std::unexpected(written.error());
      return Outcome{.description = description + *written};
    }
    if (!customerStepsOutstanding(observed.facts)) return Outcome{.description = description.empty() ? "up to date" : description};
    if (customerOf(context.document).credential.empty())
      return Outcome{.requeueAfter = kCustomerRecheck,
                     .description = description + "awaiting the customer (steps in condition AwaitingCustomer)"};
    auto performed = performCustomerSteps(client_, context, observed.facts);
    if (!performed) return std::unexpected(performed.error());
    if (performed->empty())  // nothing the operator can do yet (no connection to approve): look again later
      return Outcome{.requeueAfter = kCustomerRecheck,
                     .description = description + "waiting for Azure: " + customerInstructions(customerStepsOf(observed.facts))};
    return Outcome{.requeueAfter = std::chrono::seconds(1), .description = description + *performed};
  }

  Result<Outcome> remove(const ReconcileContext& context, const Observation& observed) override {
    if (!observed.exists || context.document.deletionPolicy != controller::DeletionPolicy::Delete)
      return Outcome{.description = "application retained"};
    const std::string objectId = observed.facts.value("objectId", "");
    auto deleted = client_.deleteApplication(tenantOf(context), objectId).get();
    if (!deleted && !deleted.error().isNotFound()) return std::unexpected(fromAzure(deleted.error()));
    return Outcome{.description = "deleted application " + objectId};
  }

 private:
  struct Identity {
    std::string principalId;
    std::string tenantId;
  };

  static std::string tenantOf(const ReconcileContext& context) { return context.document.spec.value("tenant", ""); }

  static Result<Identity> referencedIdentity(const ReconcileContext& context) {
    const std::string ref = context.document.spec.value("identityRef", "");
    auto principal = referencedFact(context, Kind::UserAssignedIdentity, ref, "principalId");
    auto tenant = referencedFact(context, Kind::UserAssignedIdentity, ref, "tenantId");
    if (!principal || !tenant || principal->empty() || tenant->empty())
      return std::unexpected(dependencyNotReady("spec.identityRef: the principalId and tenantId of UserAssignedIdentity/" + ref));
    return Identity{*principal, *tenant};
  }

  /// By the appId this document registered, else by display name (a restart before the status was written).
  Result<std::optional<Json>> findApplication(const ReconcileContext& context) {
    const std::string knownAppId = context.self.facts.value("applicationId", "");
    if (!knownAppId.empty()) {
      auto found = await(client_.findApplicationByAppId(tenantOf(context), knownAppId));
      if (!found || *found) return found;
    }
    auto named = await(client_.listApplications(tenantOf(context),
                                                "displayName eq " + odataQuoted(customerOf(context.document).displayName)));
    if (!named) return std::unexpected(named.error());
    if (named->empty()) return std::optional<Json>{};
    return std::optional<Json>{named->front()};
  }

  std::optional<ReconcileError> observeFederatedCredential(const ReconcileContext& context, const Identity& identity,
                                                           Observation& observed) {
    const Json want = desiredFederatedCredential(options_, identity.tenantId, identity.principalId);
    auto credentials = await(client_.listFederatedIdentityCredentials(tenantOf(context), observed.facts.value("objectId", "")));
    if (!credentials) return credentials.error();
    const auto have = std::ranges::find_if(
        *credentials, [](const Json& c) { return c.value("name", "") == kFederatedCredentialName; });
    const std::string path = "federatedIdentityCredentials[" + std::string(kFederatedCredentialName) + "]";
    if (have == credentials->end()) {
      observed.diff.push_back(FieldDiff{.path = path, .desired = want, .observed = nullptr});
      return std::nullopt;
    }
    observed.facts["federatedCredential"] = {{"id", have->value("id", "")}, {"name", kFederatedCredentialName},
                                             {"issuer", have->value("issuer", "")}, {"subject", have->value("subject", "")}};
    for (const char* field : {"issuer", "subject", "audiences"})
      if (have->value(field, Json()) != want[field])
        observed.diff.push_back(
            FieldDiff{.path = path + "." + field, .desired = want[field], .observed = have->value(field, Json())});
    return std::nullopt;
  }

  /// POSTs the credential when missing, PATCHes issuer, subject and audiences back when they drifted.
  Result<std::string> writeFederatedCredential(const ReconcileContext& context, const Json& facts) {
    const auto identity = referencedIdentity(context);
    if (!identity) return std::unexpected(identity.error());
    const Json want = desiredFederatedCredential(options_, identity->tenantId, identity->principalId);
    const std::string objectId = facts.value("objectId", "");
    const std::string ficId = facts.value("/federatedCredential/id"_json_pointer, std::string());
    if (ficId.empty()) {
      auto created = await(client_.createFederatedIdentityCredential(tenantOf(context), objectId, want));
      if (!created) return std::unexpected(created.error());
      return "added federated identity credential with subject " + identity->principalId;
    }
    auto patched = await(client_.updateFederatedIdentityCredential(
        tenantOf(context), objectId, ficId,
        {{"issuer", want["issuer"]}, {"subject", want["subject"]}, {"audiences", want["audiences"]}}));
    if (!patched) return std::unexpected(patched.error());
    return "repaired federated identity credential: subject " + identity->principalId;
  }

  azure::AzureClient& client_;
  CrossTenantOptions options_;
};

}  // namespace

Json desiredFederatedCredential(const CrossTenantOptions& options, const std::string& providerTenantId,
                                const std::string& identityPrincipalId) {
  std::string base = options.issuerAuthority;
  if (!base.empty() && base.back() != '/') base += '/';
  return {{"name", kFederatedCredentialName},
          {"issuer", base + providerTenantId + "/v2.0"},
          {"subject", identityPrincipalId},
          {"audiences", Json::array({kTokenExchangeAudience})},
          {"description", "anf-cmk-operator: cross-tenant customer-managed keys"}};
}

controller::ReconcilerPtr makeCrossTenantApplicationReconciler(azure::AzureClient& client, CrossTenantOptions options) {
  return std::make_unique<CrossTenantApplicationReconciler>(client, std::move(options));
}

}  // namespace anf::reconcilers
