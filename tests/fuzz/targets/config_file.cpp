// The JSON configuration file (`--config FILE`) through load_config, as `serve` reads it. The
// loader takes a path, so each input is written to one scratch file in the temp directory.
#include "config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir && *dir ? dir : "/tmp") + "/chatgate-fuzz-config-" +
               std::to_string(getpid()) + ".json";
    }();
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) std::abort();
    if (size && std::fwrite(data, 1, size, file) != size) std::abort();
    std::fclose(file);

    chatgate::ConfigSources sources;
    sources.file = path;
    sources.use_environment = false;  // only the file's contents decide
    auto config = chatgate::load_config(sources);
    if (config) {
        (void)chatgate::describe(*config);
        (void)config->listen_host();
        (void)config->listen_port();
        (void)config->effective_database_path();
    }
    return 0;
}
