// The form body of Stripe's checkout session, as its API reads it.

#include "payments/stripe_client.hpp"

#include <gtest/gtest.h>

namespace chatgate::payments {
namespace {

TEST(CheckoutForm, NamesThePriceTheUserAndTheReturnUrlsPercentEncoded) {
    domain::CheckoutRequest request{42, "price_1&x=y", "key"};
    EXPECT_EQ(checkout_form(request, "https://a.example/ok?s={CHECKOUT_SESSION_ID}",
                            "https://a.example/no"),
              "mode=payment&line_items%5B0%5D%5Bprice%5D=price_1%26x%3Dy"
              "&line_items%5B0%5D%5Bquantity%5D=1&client_reference_id=42"
              "&metadata%5Bchatgate_user%5D=42"
              "&success_url=https%3A%2F%2Fa.example%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D"
              "&cancel_url=https%3A%2F%2Fa.example%2Fno");
}

}  // namespace
}  // namespace chatgate::payments
