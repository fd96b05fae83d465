# The engine: workqueue, reconcile loop, status, metrics, HTTP servers, plan, operator wiring.
# The status store persists to SQLite (GLOBAL: the imported target is linked wherever anf::controller is).
find_package(SQLite3 REQUIRED GLOBAL)
add_library(anf_controller STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/conditions.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/workqueue.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/status_store.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/metrics.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/logging.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/decision.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/engine.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/mutation_groups.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/servers.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/limits.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/plan.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/status_client.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/kubernetes_source.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/operator.cc)
target_include_directories(anf_controller PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(anf_controller PUBLIC
  anf::manifests anf::reconcilers anf::kube prometheus-cpp::core Boost::system spdlog::spdlog nlohmann_json::nlohmann_json
  SQLite::SQLite3 Threads::Threads)
add_library(anf::controller ALIAS anf_controller)
