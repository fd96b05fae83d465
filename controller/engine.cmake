add_library(anf_controller INTERFACE)
target_include_directories(anf_controller INTERFACE ${CMAKE_SOURCE_DIR})
target_link_libraries(anf_controller INTERFACE anf::manifests anf::reconcilers anf::azure prometheus-cpp::core)
add_library(anf::controller ALIAS anf_controller)
