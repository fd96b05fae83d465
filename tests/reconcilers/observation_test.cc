// What the engine reads of Azure to converge and to resync (issue 14, observation): the real engine, volume
// reconciler and operation poll over the strict fake, counting requests. Volumes are observed through one LIST
// of their pool per pass, kept current from each PUT's response and each operation's final resource; an
// operation that moves volumes (changeKeyVault) makes them observed again.
#include <gtest/gtest.h>

#include "azure/operation.h"
#include "reconcilers/arm_bodies.h"
#include "reconcilers/registry.h"
#include "tests/controller/engine/fakes.h"
#include "tests/reconcilers/fake_azure_client.h"
#include "tests/reconcilers/reconcile_world.h"

namespace anf::reconcilers::testing {
namespace {

using namespace std::chrono_literals;
using controller::DocumentKey;
using controller::Kind;
using controller::OperationProgress;

const std::string kDelegated = kVnet + "/subnets/anf-delegated";

Json volumeSpec(const std::string& pool, const std::string& name) {
  return Json{{"poolRef", pool}, {"creationToken", name}, {"usageThresholdGiB", 100}, {"subnetId", kDelegated},
              {"networkFeatures", "Standard"}, {"encryptionKeySource", "Microsoft.NetApp"}};
}

controller::Document withReference(controller::Document doc, Kind kind, const std::string& name) {
  doc.references.push_back({"spec." + std::string(controller::kindName(kind)) + "Ref", DocumentKey{kind, name}});
  doc.generation = std::to_string(std::hash<std::string>{}(doc.spec.dump()));
  return doc;
}

/// An account, `pools` pools and `perPool` volumes each; the account and pools are Ready without Azure.
controller::DesiredState fleet(int pools, int perPool) {
  controller::DesiredState desired;
  auto add = [&](controller::Document doc) { desired.documents[doc.key] = std::move(doc); };
  add(document(Kind::NetAppAccount, "acct", Json::object()));
  for (int p = 1; p <= pools; ++p) {
    const std::string pool = "pool" + std::to_string(p);
    add(withReference(document(Kind::CapacityPool, pool, {{"accountRef", "acct"}}), Kind::NetAppAccount, "acct"));
    for (int v = 1; v <= perPool; ++v) {
      const std::string name = pool + "-vol" + std::to_string(v);
      add(withReference(document(Kind::Volume, name, volumeSpec(pool, name)), Kind::CapacityPool, pool));
    }
  }
  return desired;
}

/// The fake's volume PUT as ANF answers it: 201 Creating with an Azure-AsyncOperation to poll; the poll ends
/// Succeeded with the final resource (what the real poller's final GET returns).
void serveVolumeOperations(FakeAzureClient& client, FakeAzureStore& store) {
  client.putFn = [&store](const std::string&, const ResourceId& id, const Json& body, const RequestOptions&) -> Expected<ArmResult> {
    Json& stored = store.putArm(id.str(), body);
    stored["properties"]["provisioningState"] = "Succeeded";
    Json creating = stored;
    creating["properties"]["provisioningState"] = "Creating";
    ArmResult result = armOk(creating, 201);
    result.operation = azure::OperationState{.url = "https://management.azure.com/op/" + id.name(), .resourceId = id.str(),
                                             .method = "PUT"};
    return result;
  };
  client.pollFn = [&store](const azure::OperationState& operation) {
    return azure::PollResult{.state = azure::PollResult::State::Succeeded, .body = *store.findArm(operation.resourceId)};
  };
}

class ObservationTest : public ::testing::Test {
 protected:
  ObservationTest() {
    store.serve(client);
    serveVolumeOperations(client, store);
  }

  /// Starts an engine (one worker: the fake is not thread-safe) with the real volume reconciler and poll.
  void start(controller::DesiredState desired) {
    std::vector<controller::ReconcilerPtr> reconcilers;
    reconcilers.push_back(std::make_unique<controller::testing::ReconcilerFns>(Kind::NetAppAccount));
    reconcilers.push_back(std::make_unique<controller::testing::ReconcilerFns>(Kind::CapacityPool));
    reconcilers.push_back(makeVolumeReconciler(client));
    engine = std::make_unique<controller::Engine>(io.io, controller::testing::fastOptions(1), std::move(reconcilers),
                                                  makeOperationPoll(client), metrics);
    ASSERT_TRUE(engine->start());
    volumes = 0;
    for (const auto& [key, doc] : desired.documents) volumes += key.kind == Kind::Volume;
    engine->apply(std::move(desired));
  }

  bool allVolumesReady() {
    return engine->statuses().waitFor([&] { return engine->statuses().counts(Kind::Volume).ready == volumes; }, 10s) &&
           engine->waitIdle(10s);
  }

  FakeAzureClient client;
  FakeAzureStore store;
  controller::testing::IoThread io;
  controller::Metrics metrics;
  std::unique_ptr<controller::Engine> engine;
  int volumes = 0;
};

TEST_F(ObservationTest, TwentyVolumesOfOnePoolAreCreatedAndObservedReadyWithOneList) {
  start(fleet(1, 20));
  ASSERT_TRUE(allVolumesReady());
  EXPECT_EQ(client.callsTo("PUT").size(), 20u);
  EXPECT_EQ(client.callsTo("LIST").size(), 1u) << "each PUT's response and final resource keep the pool's LIST current";
  EXPECT_EQ(client.callsTo("GET").size(), 0u) << "no GET after an operation whose result carries the volume";
}

TEST_F(ObservationTest, AResyncPassCostsOneListPerPool) {
  start(fleet(3, 5));
  ASSERT_TRUE(allVolumesReady());
  client.calls.clear();
  engine->resyncNow();
  ASSERT_TRUE(engine->waitIdle(10s));
  EXPECT_EQ(client.callsTo("LIST").size(), 3u) << "a pass reads Azure again: one LIST per pool";
  EXPECT_TRUE(client.writes().empty());
  EXPECT_EQ(engine->statuses().counts(Kind::Volume).ready, 15);
}

TEST_F(ObservationTest, AFailedCreationIsNotReady) {
  client.pollFn = [](const azure::OperationState&) {
    return azure::PollResult{.state = azure::PollResult::State::Failed, .error = azureError(400, "BadRequest", "no")};
  };
  start(fleet(1, 1));
  ASSERT_TRUE(engine->statuses().waitFor([&] { return client.callsTo("POLL").size() >= 1; }, 10s));
  ASSERT_TRUE(engine->waitIdle(10s));
  const auto status = engine->statuses().get({Kind::Volume, "pool1-vol1"});
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->status.ready) << "a failed operation's PUT response (Creating) is no observation of Ready";
}

// changeKeyVault moves every volume of the account to the new endpoint in place: the volumes observed before it
// are observed again from Azure, not from the pass's LIST.
TEST(OperationEnd, AChangeKeyVaultMakesTheAccountsVolumesObservedAgain) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  World world;
  for (auto& [key, doc] : fleet(1, 1).documents) world.add(doc);
  const std::string volumeId = kPoolId + "/volumes/pool1-vol1";
  store.putArm(volumeId, volumeBody({.location = "eastus", .creationToken = "pool1-vol1", .usageThresholdGiB = 100,
                                     .subnetId = kDelegated}));
  auto volume = makeVolumeReconciler(client);
  const DocumentKey key{Kind::Volume, "pool1-vol1"};
  ASSERT_TRUE(volume->observe(world.context(key)));
  store.findArm(volumeId)->at("properties")["keyVaultPrivateEndpointResourceId"] = "pe-2";  // Azure moved it

  client.pollFn = [](const azure::OperationState& operation) {
    return azure::PollResult{.state = azure::PollResult::State::Succeeded, .operation = operation};
  };
  const azure::OperationState change{.url = "https://management.azure.com/op/1", .resourceId = kAccountId, .method = "POST",
                                     .action = "changeKeyVault"};
  const OperationProgress progress = makeOperationPoll(client)(change.toJson());
  ASSERT_EQ(progress.state, OperationProgress::State::Succeeded);
  ASSERT_TRUE(progress.observed);
  progress.observed(world.cache);

  auto observed = volume->observe(world.context(key));
  ASSERT_TRUE(observed) << observed.error().message;
  EXPECT_EQ(client.callsTo("LIST").size(), 2u);
  EXPECT_EQ(observed->facts.value("keyVaultPrivateEndpointResourceId", ""), "pe-2");
}


// The volumes of a pool being created are seen done in one LIST of the pool, read after their operations started:
// no status read, no final GET. What a LIST cannot tell (a Failed item) the operation's own status says.
TEST(OperationEnd, OneListOfThePoolStandsForThePollsOfItsVolumesOperations) {
  FakeAzureClient client;
  FakeAzureStore store;
  store.serve(client);
  const auto now = std::chrono::system_clock::now();
  auto creation = [&](const std::string& name, const std::string& state, std::chrono::system_clock::time_point startedAt) {
    const std::string id = kPoolId + "/volumes/" + name;
    store.putArm(id, {{"name", "acct/pool1/" + name}, {"properties", {{"provisioningState", state}}}});
    return azure::OperationState{.url = "https://management.azure.com/op/" + name, .resourceId = id, .method = "PUT",
                                 .credential = "provider", .startedAt = startedAt};
  };
  const auto v1 = creation("v1", "Succeeded", now - 2s), v2 = creation("v2", "Creating", now - 1s);
  const auto poll = makeOperationPoll(client);

  const OperationProgress done = poll(v1.toJson());
  ASSERT_EQ(done.state, OperationProgress::State::Succeeded);
  EXPECT_EQ(poll(v2.toJson()).state, OperationProgress::State::InProgress) << "the same LIST: v2 is still Creating";
  EXPECT_EQ(client.callsTo("LIST").size(), 1u);
  EXPECT_TRUE(client.callsTo("POLL").empty());
  EXPECT_TRUE(client.callsTo("GET").empty());

  World world;
  const std::string cached = "get:" + ResourceId::parse(v1.resourceId)->key();
  ASSERT_TRUE(world.cache.getOrLoad(cached, [] { return Result<Json>(Json()); }));  // observed missing before
  ASSERT_TRUE(done.observed);
  done.observed(world.cache);  // the LIST's item is the final resource
  EXPECT_EQ(world.cache.getOrLoad(cached, [] { return Result<Json>(Json()); })->value("/properties/provisioningState"_json_pointer, ""),
            "Succeeded");

  const auto v3 = creation("v3", "Failed", now + 1h);  // started after that LIST: a new one
  client.pollFn = [](const azure::OperationState&) {
    return azure::PollResult{.state = azure::PollResult::State::Failed, .error = azureError(400, "BadRequest", "no")};
  };
  const OperationProgress failed = poll(v3.toJson());
  EXPECT_EQ(failed.state, OperationProgress::State::Failed);
  EXPECT_EQ(client.callsTo("LIST").size(), 2u);
  EXPECT_EQ(client.callsTo("POLL").size(), 1u) << "a Failed item: the operation's status has the error";
}
}  // namespace
}  // namespace anf::reconcilers::testing
