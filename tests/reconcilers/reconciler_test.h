#pragma once
// The fixture of the per-kind reconciler unit tests: one reconciler over the strict fake client, the fake's
// in-memory store, and the world its contexts point at; pass() drives one engine step.
#include <gtest/gtest.h>

#include "controller/reconciler.h"
#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers::testing {

class ReconcilerTest : public ::testing::Test {
 protected:
  using Factory = controller::ReconcilerPtr (*)(azure::AzureClient&);
  ReconcilerTest(controller::Kind kind, std::string name, Factory make)
      : key_{kind, std::move(name)}, reconciler(make(client)) {
    store.serve(client);
  }

  controller::ReconcileContext context() { return world.context(key_); }
  /// The spec of the document under test (add it first).
  Json& spec() { return world.desired.documents.at(key_).spec; }

  /// One engine step: observe, then create (absent) or update (present).
  controller::Result<controller::Outcome> pass() {
    auto observed = reconciler->observe(context());
    if (!observed) return std::unexpected(observed.error());
    return observed->exists ? reconciler->update(context(), *observed) : reconciler->create(context(), *observed);
  }

  /// The one write the fake received (a test failure when there were none or several).
  FakeCall onlyWrite() const {
    const auto writes = client.writes();
    EXPECT_EQ(writes.size(), 1u) << (writes.empty() ? "no write" : writes[0].method + " " + writes[0].target + " and more");
    return writes.empty() ? FakeCall{} : writes[0];
  }

  FakeAzureClient client;
  FakeAzureStore store;
  World world;

 private:
  controller::DocumentKey key_;

 protected:
  controller::ReconcilerPtr reconciler;
};

}  // namespace anf::reconcilers::testing
