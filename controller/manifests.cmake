add_library(anf_manifests STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/suggest.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/document.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/schema.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/validation.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/manifest_loader.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/config.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/directory_source.cc)
target_include_directories(anf_manifests PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(anf_manifests PUBLIC
  anf::azure yaml-cpp nlohmann_json::nlohmann_json spdlog::spdlog Boost::system Threads::Threads
  OpenSSL::Crypto)
add_library(anf::manifests ALIAS anf_manifests)
