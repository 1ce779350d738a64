#pragma once

#include <boost/asio/ip/address.hpp>

namespace chatgate::http {

/// The client an address stands for when connections are counted, grouped as the rate limits
/// group them: an IPv4 address, or an IPv6 /64 (one subscriber's network; an IPv4-mapped
/// address counts as its IPv4 one).
boost::asio::ip::address client_group(const boost::asio::ip::address& peer);

}  // namespace chatgate::http
