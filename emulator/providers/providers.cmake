# The resource providers of the emulator (one .cc per ARM namespace, plus the shared key vault rules),
# built on the world store (anf_emulator_world, emulator/world.cc). Included from emulator/CMakeLists.txt.
set(ANF_EMULATOR_PROVIDERS_DIR ${CMAKE_CURRENT_LIST_DIR})
add_library(anf_emulator_providers STATIC
  ${ANF_EMULATOR_PROVIDERS_DIR}/arm.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/directory.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/key_access.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/key_checks.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/netapp.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/netapp_limits.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/keyvault.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/network.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/managed_identity.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/authorization.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/features.cc
  ${ANF_EMULATOR_PROVIDERS_DIR}/resources.cc)
target_include_directories(anf_emulator_providers PUBLIC ${CMAKE_SOURCE_DIR})
# The world target may be defined after this file is included; the generator expression resolves late.
target_link_libraries(anf_emulator_providers PUBLIC nlohmann_json::nlohmann_json
  $<TARGET_NAME_IF_EXISTS:anf_emulator_world>)
add_library(anf::emulator_providers ALIAS anf_emulator_providers)
