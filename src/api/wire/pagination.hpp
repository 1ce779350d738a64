#pragma once

#include "api/handler.hpp"
#include "core/error.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>

namespace chatgate::api {

/// `?page=&page_size=` as DRF's PageNumberPagination reads them.
struct PageRequest {
    std::int64_t page = 1;
    std::int64_t size = 20;
    bool size_given = false;      ///< echoed in the next/previous links
    std::string_view public_url;  ///< the links' prefix (the configured public URL) or empty
};

/// Errors: not_found "Invalid page." for a page that is not a positive integer.
Result<PageRequest> read_page(const RequestContext& ctx, const HandlerSettings& settings);

/// DRF's envelope: {"count","next","previous","results"}. Links are absolute under the
/// configured public URL, else relative: the Host header is the client's to choose, so it never
/// goes into a link.
boost::json::object page_envelope(const RequestContext& ctx, const PageRequest& page,
                                  std::int64_t count, boost::json::array results);

}  // namespace chatgate::api
