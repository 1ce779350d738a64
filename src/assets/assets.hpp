#pragma once

#include <string_view>

/// Files compiled into the binary (the OpenAPI document, migrations, the docs pages and their
/// npm assets, the common-password list), so a running server needs nothing beside it.
namespace chatgate::assets {

/// The file's bytes. Throws std::out_of_range for a name that was not embedded (a build bug).
std::string_view find(std::string_view name);

/// An embedded file with its entity tag: a quoted 64-bit FNV-1a of its bytes, so a browser can
/// revalidate a file it has cached and learn it is unchanged without fetching it again.
struct File {
    std::string_view bytes;
    std::string_view etag;
};

/// Like `find`, with the tag (computed for every file at the first call).
File find_file(std::string_view name);

}  // namespace chatgate::assets
