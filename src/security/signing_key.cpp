#include "security/signing_key.hpp"

#include "observability/log.hpp"

#include <sodium.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace chatgate::security {
namespace {

constexpr std::size_t kMinKeyBytes = 32;

std::string read_key_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read the JWT key file " + path.string());
    std::stringstream text;
    text << in.rdbuf();
    std::string key = text.str();
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    if (key.size() < kMinKeyBytes) {
        throw std::runtime_error("the JWT key in " + path.string() + " is shorter than 32 bytes");
    }
    return key;
}

std::string generate_key_file(const std::filesystem::path& path) {
    unsigned char raw[kMinKeyBytes];
    randombytes_buf(raw, sizeof raw);
    char hex[kMinKeyBytes * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    // O_EXCL: if two processes start at once, exactly one creates the key.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return read_key_file(path);
        throw std::runtime_error("cannot create the JWT key file " + path.string());
    }
    std::string key(hex, kMinKeyBytes * 2);
    bool written =
        ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write the JWT key file " + path.string());
    log::info("generated a new JWT signing key", {{"path", path.string()}});
    return key;
}

}  // namespace

std::string load_signing_key(const Config& config) {
    if (!config.jwt_secret.empty()) return config.jwt_secret;
    if (!config.jwt_secret_file.empty()) return read_key_file(config.jwt_secret_file);
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    auto path = std::filesystem::path(config.data_dir) / "jwt.key";
    if (std::filesystem::exists(path)) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
            log::warn("JWT key file is readable by others; fixing its mode to 0600",
                      {{"path", path.string()}});
            ::chmod(path.c_str(), 0600);
        }
        return read_key_file(path);
    }
    return generate_key_file(path);
}

}  // namespace chatgate::security
