// Uploads every file under a folder to a container of the blob emulator's
// account (its well-known key), as PREFIX + the relative path: the data of
// bench/blob_ingest.sh.
//   blob_upload ENDPOINT CONTAINER DIR [PREFIX]
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "blob/client.h"
#include "blob/storage.h"
#include "common/error.h"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace loadcast;
  if (argc < 4) {
    std::cerr << "usage: blob_upload ENDPOINT CONTAINER DIR [PREFIX]\n";
    return 2;
  }
  try {
    blob::StorageSettings settings;
    settings.key = blob::kDevelopmentKey;
    settings.endpoint = argv[1];
    blob::BlobUrl url;
    url.account = blob::kDevelopmentAccount;
    blob::Client client(blob::resolve_service(url, settings));
    client.create_container(argv[2]);
    const std::string prefix = argc > 4 ? argv[4] : "";
    int64_t bytes = 0;
    for (const auto& entry : fs::recursive_directory_iterator(argv[3])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      client.put(argv[2], prefix + fs::relative(entry.path(), argv[3]).string(), text.str());
      bytes += static_cast<int64_t>(text.str().size());
    }
    std::cout << "uploaded " << bytes << " bytes\n";
  } catch (const Failure& f) {
    std::cerr << "blob_upload: " << f.what() << "\n";
    return 3;
  }
  return 0;
}
