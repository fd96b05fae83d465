add_library(anf_manifests STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/suggest.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/document.cc)
target_include_directories(anf_manifests PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(anf_manifests PUBLIC
  anf::azure yaml-cpp nlohmann_json::nlohmann_json spdlog::spdlog Boost::system Threads::Threads)
add_library(anf::manifests ALIAS anf_manifests)
