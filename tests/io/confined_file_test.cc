// Files opened beneath a root: symlinks and ".." that stay inside are followed, anything that
// leads out is refused with a message naming the file as given, never the root or the target.
// Both ways of opening (openat2, and the real-path check used where it is missing) are held to
// the same cases.
#include "io/confined_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/error.h"
#include "support/fixtures.h"

namespace lorax {
namespace {

namespace fs = std::filesystem;

using Opener = std::optional<FileHandle> (*)(const std::string&, const std::string&);

class ConfinedFile : public ::testing::TestWithParam<Opener> {
 protected:
  ConfinedFile() {
    testing::write_file(outside.file("secret"), "root:x:0:0\n");
    fs::create_directories(root.file("a/b"));
    testing::write_file(root.file("a/file"), "inside");
    fs::create_symlink("../file", root.file("a/b/relative"));
    fs::create_symlink(root.file("a/file"), root.file("a/b/absolute"));
    fs::create_symlink(outside.file("secret"), root.file("a/out_absolute"));
    fs::create_symlink(fs::relative(outside.file("secret"), root.file("a")),
                       root.file("a/out_relative"));
    fs::create_directory_symlink(outside.path(), root.file("a/out_dir"));
  }
  std::string read(const std::string& relative) {
    auto file = GetParam()(root.path(), relative);
    if (!file) return "<none>";
    return read_all(*file, relative, 1024);
  }
  void expect_refused(const std::string& relative, const std::string& words) {
    try {
      GetParam()(root.path(), relative);
      ADD_FAILURE() << relative << " was opened";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(relative), std::string::npos) << message;
      EXPECT_NE(message.find(words), std::string::npos) << message;
      EXPECT_EQ(message.find(root.path()), std::string::npos) << message;
      EXPECT_EQ(message.find(outside.path()), std::string::npos) << message;
      EXPECT_EQ(message.find("root:"), std::string::npos) << message;
    }
  }
  testing::TempDir root, outside;
};

TEST_P(ConfinedFile, FollowsWhatStaysInside) {
  EXPECT_EQ(read("a/file"), "inside");
  EXPECT_EQ(read("a/b/relative"), "inside");
  EXPECT_EQ(read("a/b/absolute"), "inside");
  EXPECT_EQ(read("a/b/../file"), "inside");
  EXPECT_EQ(read("a/missing"), "<none>");
}

TEST_P(ConfinedFile, RefusesWhatLeadsOutside) {
  expect_refused("a/out_absolute", "outside");
  expect_refused("a/out_relative", "outside");
  expect_refused("a/out_dir/secret", "outside");
  expect_refused("a/../../" + fs::path(outside.path()).filename().string() + "/secret", "outside");
}

TEST_P(ConfinedFile, RefusesWhatIsNotARegularFile) {
  ASSERT_EQ(::mkfifo(root.file("a/fifo").c_str(), 0600), 0);
  expect_refused("a/fifo", "not a regular file");  // and does not block opening it
  expect_refused("a/b", "not a regular file");
}

INSTANTIATE_TEST_SUITE_P(BothWays, ConfinedFile,
                         ::testing::Values(&open_beneath, &open_beneath_by_real_path));

}  // namespace
}  // namespace lorax
