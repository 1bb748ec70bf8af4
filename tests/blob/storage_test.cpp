// Blob URLs and credentials, as docs/storage.md describes them: the three
// URL forms, a SAS token in the URL's query, and which key, token and
// endpoint a request uses (configuration first, then the connection string,
// then anonymous).
#include "blob/storage.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "blob/signing.h"
#include "common/error.h"
#include "common/url.h"

namespace loadcast::blob {
namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST(BlobUrl, TheThreeFormsNameAccountContainerAndPath) {
  const BlobUrl wasb =
      parse_blob_url("wasb://data@acct.blob.core.windows.net/2016/*/request.csv", "dataFile");
  EXPECT_EQ(wasb.account, "acct");
  EXPECT_EQ(wasb.container, "data");
  EXPECT_EQ(wasb.path, "2016/*/request.csv");
  EXPECT_EQ(wasb.endpoint, "");
  EXPECT_EQ(wasb.text(), "https://acct.blob.core.windows.net/data/2016/*/request.csv");

  const BlobUrl https =
      parse_blob_url("https://acct.blob.core.windows.net/data/x.csv?sv=1&sig=s", "dataFile");
  EXPECT_EQ(https.account, "acct");
  EXPECT_EQ(https.container, "data");
  EXPECT_EQ(https.path, "x.csv");
  EXPECT_EQ(https.sas, "sv=1&sig=s");
  EXPECT_EQ(https.text(), "https://acct.blob.core.windows.net/data/x.csv");  // no token

  const BlobUrl path_style =
      parse_blob_url("http://127.0.0.1:10000/devstoreaccount1/data/a/b.csv", "dataFile");
  EXPECT_EQ(path_style.account, "devstoreaccount1");
  EXPECT_EQ(path_style.container, "data");
  EXPECT_EQ(path_style.path, "a/b.csv");
  EXPECT_EQ(path_style.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  EXPECT_EQ(parse_blob_url(path_style.text(), "x").endpoint, path_style.endpoint);

  const BlobUrl china = parse_blob_url("wasbs://c@acct.blob.core.chinacloudapi.cn/p", "dataFile");
  EXPECT_EQ(china.endpoint, "https://acct.blob.core.chinacloudapi.cn");
}

TEST(BlobUrl, AnAddressWithoutContainerOrAccountIsAUsageError) {
  for (const char* bad :
       {"wasb://acct.blob.core.windows.net/p", "https://acct.blob.core.windows.net", "ftp://x/y",
        "http://127.0.0.1:10000/devstoreaccount1", "wasb://c@acct.example.com/p"}) {
    try {
      parse_blob_url(bad, "dataFile");
      ADD_FAILURE() << bad;
    } catch (const Failure& f) {
      EXPECT_EQ(f.code(), ExitCode::kUsage);
      EXPECT_NE(std::string(f.what()).find("is not a blob URL"), std::string::npos) << f.what();
    }
  }
}

TEST(BlobCredentials, TheConfigurationComesFirstThenTheConnectionStringThenNothing) {
  const BlobUrl url = parse_blob_url("wasb://c@acct.blob.core.windows.net/p", "dataFile");
  const std::string key = base64_encode("configured key");
  StorageSettings settings;
  settings.account = "acct";
  settings.key = key;
  Service s = resolve_service(url, settings);
  EXPECT_EQ(s.key, "configured key");
  EXPECT_EQ(s.endpoint, "https://acct.blob.core.windows.net");

  // A key of another account is not sent; the connection string's is, for its account.
  settings.account = "other";
  EXPECT_EQ(resolve_service(url, settings).key, "");
  const std::string connection = "AccountName=acct;AccountKey=" + base64_encode("from env") +
                                 ";BlobEndpoint=http://10.0.0.1:1/acct/;SharedAccessSignature=sv=9";
  {
    ScopedEnv env("AZURE_STORAGE_CONNECTION_STRING", connection.c_str());
    s = resolve_service(url, settings);
    EXPECT_EQ(s.key, "from env");
    EXPECT_EQ(s.sas, "sv=9");
    EXPECT_EQ(s.endpoint, "http://10.0.0.1:1/acct");
    settings.endpoint = "http://127.0.0.1:2/acct";  // blobEndpoint wins
    settings.sas = "?sv=1";
    EXPECT_EQ(resolve_service(url, settings).endpoint, "http://127.0.0.1:2/acct");
    settings.account = "";  // the configured token now belongs to every account
    EXPECT_EQ(resolve_service(url, settings).sas, "sv=1");
  }
  {
    ScopedEnv env("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true");
    const BlobUrl dev = parse_blob_url("wasb://c@devstoreaccount1.blob.core.windows.net/p", "x");
    s = resolve_service(dev, StorageSettings{});
    EXPECT_EQ(s.endpoint, kDevelopmentEndpoint);
    EXPECT_EQ(base64_encode(s.key), kDevelopmentKey);
  }
  settings = {};
  settings.key = "not base64!";
  try {
    resolve_service(url, settings);
    ADD_FAILURE();
  } catch (const Failure& f) {
    EXPECT_EQ(std::string(f.what()).find("not base64!"), std::string::npos);  // never shown
  }
}

TEST(BlobSigning, KnownAnswers) {
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVsbA=="), "hell");
  EXPECT_EQ(base64_decode("a*=="), std::nullopt);
  // RFC 4231, test case 2 (5bdcc146...64ec3843).
  EXPECT_EQ(base64_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
  EXPECT_EQ(url_encode("a b/c+=", false), "a%20b%2Fc%2B%3D");
  EXPECT_EQ(url_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(url_decode("a%20b%2Fc%2"), "a b/c%2");
}

}  // namespace
}  // namespace loadcast::blob
