#pragma once

#include "api/handler.hpp"

/// The admin API, /api/admin/: staff only (the route table's `Auth::staff`, checked by the
/// pipeline on every request before any of these run).
namespace chatgate::api {

// Users.
boost::asio::awaitable<Result<http::Response>> admin_list_users(Services& services,
                                                                RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_get_user(Services& services,
                                                              RequestContext& ctx);

// Actions on a user, each audited.
boost::asio::awaitable<Result<http::Response>> admin_grant(Services& services, RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_deduct(Services& services,
                                                            RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_activate(Services& services,
                                                              RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_deactivate(Services& services,
                                                                RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_revoke(Services& services,
                                                            RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_reset_password(Services& services,
                                                                    RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_set_staff(Services& services,
                                                               RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_revoke_key(Services& services,
                                                                RequestContext& ctx);

// A user's conversations, read-only.
boost::asio::awaitable<Result<http::Response>> admin_list_conversations(Services& services,
                                                                        RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_get_conversation(Services& services,
                                                                      RequestContext& ctx);

// Reports.
boost::asio::awaitable<Result<http::Response>> admin_usage(Services& services, RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_top_spenders(Services& services,
                                                                  RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_audit(Services& services, RequestContext& ctx);
boost::asio::awaitable<Result<http::Response>> admin_transactions(Services& services,
                                                                  RequestContext& ctx);

}  // namespace chatgate::api
