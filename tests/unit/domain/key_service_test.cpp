#include "domain/keys/key_service.hpp"

#include "security/key_crypto.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "support/manual_clock.hpp"
#include "support/run_sync.hpp"

#include <gtest/gtest.h>

namespace chatgate {
namespace {

using namespace std::chrono_literals;
using testing::run_sync;

/// The key rules on the real store, with time under the test's control.
class KeyServiceTest : public ::testing::Test {
protected:
    void SetUp() override { user_ = *store_.create_user({"kim", "hash", 4000, false, false}); }
    void TearDown() override {
        writes_.join();
        reads_.join();
    }
    std::int64_t now() const {
        return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch())
            .count();
    }

    testing::ManualClock clock_;
    storage::SqliteStore store_{":memory:"};
    WorkPool reads_{"test-db-read", {.threads = 1}};
    WorkPool writes_{"test-db-write", {.threads = 1}};
    security::SodiumKeyCrypto crypto_;
    domain::KeyService keys_{store_, crypto_, {reads_, writes_}, clock_, {3, 60s}};
    UserId user_ = 0;
};

TEST_F(KeyServiceTest, AKeyExpiresAtItsTime) {
    auto created = run_sync(keys_.create(user_, {"k", {}, {}, now() + 10}));
    ASSERT_TRUE(created);
    EXPECT_TRUE(run_sync(keys_.authenticate(created->key)));
    clock_.advance(10s);
    auto refused = run_sync(keys_.authenticate(created->key));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::token_not_valid);
}

TEST_F(KeyServiceTest, AnExpiryInThePastIsRefused) {
    auto created = run_sync(keys_.create(user_, {"k", {}, {}, now()}));
    ASSERT_FALSE(created);
    EXPECT_EQ(created.error().fields.at(0).field, "expires_at");
}

TEST_F(KeyServiceTest, OnlyTheDigestIsStoredAndTheSecretMustMatch) {
    auto created = run_sync(keys_.create(user_, {"k", {}, {}, {}}));
    ASSERT_TRUE(created);
    const std::string& key = created->key;
    auto record = store_.find_api_key(created->info.public_id);
    ASSERT_TRUE(record);
    EXPECT_EQ(key.find(record->secret_digest), std::string::npos);
    EXPECT_EQ(record->secret_digest, crypto_.digest(key.substr(key.size() - 43)));
    std::string altered = key;
    altered.back() = altered.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(run_sync(keys_.authenticate(altered)));
    EXPECT_EQ(run_sync(keys_.authenticate(key))->user, user_);
}

TEST_F(KeyServiceTest, TheNumberOfLiveKeysIsBounded) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(run_sync(keys_.create(user_, {"k", {}, {}, {}})));
    auto refused = run_sync(keys_.create(user_, {"k", {}, {}, {}}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::permission_denied);
    auto listed = run_sync(keys_.list(user_));
    ASSERT_TRUE(run_sync(keys_.revoke(user_, listed.front().id)));
    EXPECT_TRUE(run_sync(keys_.create(user_, {"k", {}, {}, {}})));
}

TEST_F(KeyServiceTest, LastUsedIsWrittenAtMostOncePerResolution) {
    auto created = run_sync(keys_.create(user_, {"k", {}, {}, {}}));
    ASSERT_TRUE(created);
    ASSERT_TRUE(run_sync(keys_.authenticate(created->key)));
    auto first = store_.find_api_key_info(user_, created->info.id)->last_used_at;
    ASSERT_TRUE(first);
    EXPECT_TRUE(run_sync(keys_.authenticate(created->key)));
    EXPECT_EQ(store_.find_api_key_info(user_, created->info.id)->last_used_at, first);
}

TEST(KeyGrant, AllowsItsModelsOnly) {
    domain::KeyGrant every{1, std::nullopt};
    domain::KeyGrant some{2, std::vector<std::string>{"a"}};
    EXPECT_TRUE(every.allows("anything"));
    EXPECT_TRUE(some.allows("a"));
    EXPECT_FALSE(some.allows("b"));
}

}  // namespace
}  // namespace chatgate
