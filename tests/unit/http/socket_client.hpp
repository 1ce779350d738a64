#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace chatgate::http::testing {

/// A plain blocking TCP client for talking raw HTTP to a server under test. Every wait has a
/// deadline, so a server that misbehaves fails the test instead of hanging it.
class SocketClient {
public:
    /// `receive_buffer` > 0 shrinks the socket's receive buffer (a slow consumer).
    explicit SocketClient(std::uint16_t port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        if (receive_buffer > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        }
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect failed");
        }
    }
    ~SocketClient() { close(); }
    SocketClient(const SocketClient&) = delete;
    SocketClient& operator=(const SocketClient&) = delete;

    void send(std::string_view bytes) {
        while (!bytes.empty()) {
            auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) throw std::runtime_error("send failed");
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    /// Reads until `received` contains `needle` (counting from `from`); false on timeout or EOF.
    bool read_until(std::string_view needle, std::size_t from = 0,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (received.find(needle, from) == std::string::npos) {
            if (!read_some(deadline)) return false;
        }
        return true;
    }

    /// Reads until `needle` has arrived `times` times; false on timeout or EOF.
    bool read_until_count(std::string_view needle, std::size_t times,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (count(needle) < times) {
            if (!read_some(deadline)) return false;
        }
        return true;
    }

    /// How often `needle` occurs in what was received.
    std::size_t count(std::string_view needle) const {
        std::size_t n = 0;
        for (auto at = received.find(needle); at != std::string::npos;
             at = received.find(needle, at + needle.size())) {
            ++n;
        }
        return n;
    }

    /// Reads until the server closes the connection; false on timeout.
    bool read_until_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!closed_) {
            if (!read_some(deadline) && !closed_) return false;
        }
        return true;
    }

    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    std::string received;

private:
    bool read_some(std::chrono::steady_clock::time_point deadline) {
        if (closed_) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[4096];
        auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) {
            closed_ = true;  // EOF or reset
            return false;
        }
        received.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool closed_ = false;
};

/// Splits a chunked body (starting right after the head) into its pieces; `complete` tells
/// whether the terminating chunk was seen.
struct Chunks {
    std::vector<std::string> pieces;
    bool complete = false;
    std::size_t end = 0;  ///< offset just past the terminating chunk
};

inline Chunks decode_chunks(std::string_view text, std::size_t at) {
    Chunks out;
    for (;;) {
        auto line_end = text.find("\r\n", at);
        if (line_end == std::string_view::npos) return out;
        std::size_t size = std::stoul(std::string(text.substr(at, line_end - at)), nullptr, 16);
        at = line_end + 2;
        if (size == 0) {
            out.complete = text.substr(at, 2) == "\r\n";
            out.end = at + 2;
            return out;
        }
        if (text.size() < at + size + 2) return out;
        out.pieces.emplace_back(text.substr(at, size));
        at += size + 2;
    }
}

}  // namespace chatgate::http::testing
