#pragma once
// FlowAzure over the operator's azure::AzureClient (azure/client.h), so the flows reach Azure through
// the same authentication, retries, throttling and metrics as every reconciler. Azure errors become
// ReconcileErrors through reconcilers::fromAzure (documented texts keep their resolution).
//
// ARM paths map to the client's typed calls: GET of a resource id -> get(); GET of a collection
// (".../capacityPools", ".../privateEndpointConnections", "{scope}/providers/Microsoft.Authorization/
// roleAssignments") -> list(), answered as {"value": [...]}; POST ".../{id}/{action}" -> post(id,
// action); PUT/PATCH/DELETE -> put()/patch()/remove(). Query parameters other than api-version go to
// RequestOptions::query.
// Graph paths map to the client's Graph calls: GET /v1.0/applications?$filter=...,
// POST /v1.0/applications, GET|POST /v1.0/applications/{id}/federatedIdentityCredentials,
// GET /v1.0/servicePrincipals?$filter=appId eq '...', POST /v1.0/servicePrincipals. Other Graph
// requests (PATCH or DELETE of applications and credentials) are answered with a terminal
// GraphRequestUnsupported error until the client has them.
#include "reconcilers/flows/flow_azure.h"

namespace anf::azure {
class AzureClient;
}

namespace anf::reconcilers::flows {

/// `client` must outlive the returned object.
std::shared_ptr<FlowAzure> makeFlowAzure(azure::AzureClient& client);

}  // namespace anf::reconcilers::flows
