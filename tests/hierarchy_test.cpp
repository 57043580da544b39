#include "wsenergy/hierarchy.hpp"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "wsenergy/detect.hpp"
#include "wsenergy/io/hierarchy_json.hpp"
#include "wsenergy/presets.hpp"

using namespace wsenergy;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// A scratch folder removed at the end of the test.
struct scratch_dir {
  fs::path path;
  explicit scratch_dir(const std::string& name)
      : path(fs::temp_directory_path() / fmt::format("wsenergy-{}-{}", name, ::getpid())) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() { fs::remove_all(path); }
  void write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((path / relative).parent_path());
    std::ofstream(path / relative) << text;
  }
};

/// Writes cpu<cpu>/cache/index<index>/{level,type,size,shared_cpu_list}.
void add_cache(const scratch_dir& d, int cpu, int index, int level, const std::string& type,
               const std::string& size, const std::string& shared) {
  const fs::path dir = fs::path(fmt::format("cpu{}/cache/index{}", cpu, index));
  d.write(dir / "level", fmt::format("{}\n", level));
  d.write(dir / "type", type + "\n");
  d.write(dir / "size", size + "\n");
  d.write(dir / "shared_cpu_list", shared + "\n");
}

}  // namespace

TEST_CASE("the study's presets are kept exactly", "[hierarchy][presets]") {
  STATIC_REQUIRE(presets::eagle_cpu.size() == 4);
  STATIC_REQUIRE(presets::eagle_cpu.levels()[0] == memory_level{32768, 36});
  STATIC_REQUIRE(presets::eagle_cpu.levels()[1] == memory_level{1048576, 36});
  STATIC_REQUIRE(presets::eagle_cpu.levels()[2] == memory_level{25952256, 2});
  STATIC_REQUIRE(presets::eagle_cpu.levels()[3] == memory_level{103079215104, 1});
  STATIC_REQUIRE(presets::eagle_gpu.levels()[0] == memory_level{114688, 168});
  STATIC_REQUIRE(presets::eagle_gpu.levels()[1] == memory_level{6291456, 2});
  STATIC_REQUIRE(presets::eagle_gpu.levels()[2] == memory_level{17179869184, 2});
  STATIC_REQUIRE(presets::v100_pcie.levels()[0].units == 80);
}

TEST_CASE("every preset can be found by its command-line name", "[hierarchy][presets]") {
  for (auto name : presets::names) {
    auto h = presets::find(name);
    REQUIRE(h);
    CHECK(h->size() >= 3);
    CHECK(h->level_name(h->size() - 1).find('L') != 0);  // last level is main memory
  }
  CHECK(presets::find("eagle_cpu")->name() == "eagle_cpu");
  CHECK_FALSE(presets::find("tpu-v5"));
}

TEST_CASE("a hierarchy whose capacity does not grow or has no units is rejected",
          "[hierarchy][errors]") {
  CHECK_THROWS_WITH(hierarchy("bad", {"L1", "L2"}, {{32768, 4}, {0, 1}}),
                    Contains("level 2 (L2)") && Contains("does not grow") &&
                        Contains("size_bytes = 0"));
  CHECK_THROWS_WITH(hierarchy("bad", {"L1", "DRAM"}, {{32768, 0}, {1 << 30, 1}}),
                    Contains("level 1 (L1)") && Contains("units = 0"));
  CHECK_THROWS_WITH(hierarchy("bad", {}, {}), Contains("at least one level"));
  CHECK_THROWS_WITH(hierarchy("bad", {"L1"}, {{1, 1}, {2, 1}}), Contains("1 level names for 2"));
  CHECK_THROWS_WITH(hierarchy("bad", {"A", "B"}, {{~0ull, 2}, {1, 1}}), Contains("overflows"));
  STATIC_REQUIRE(level_problem(std::array<memory_level, 1>{{{0, 1}}}).has_value());
}

TEST_CASE("hierarchies round-trip through JSON files", "[hierarchy][io]") {
  scratch_dir d("json");
  const hierarchy eagle(presets::eagle_cpu);
  d.write("eagle.json", io::to_json(eagle).dump());
  CHECK(io::read_hierarchy(d.path / "eagle.json") == eagle);
}

TEST_CASE("a hierarchy file with a missing or bad field names it", "[hierarchy][io][errors]") {
  scratch_dir d("badjson");
  d.write("missing.json",
          R"({"name": "x", "levels": [{"name": "L1", "size_bytes": 1024, "units": 2},)"
          R"( {"name": "DRAM", "size_bytes": 1048576}]})");
  CHECK_THROWS_WITH(io::read_hierarchy(d.path / "missing.json"),
                    Contains("missing.json") && Contains("levels[1]") &&
                        Contains("missing field 'units'"));
  d.write("negative.json",
          R"({"name": "x", "levels": [{"name": "L1", "size_bytes": -5, "units": 2}]})");
  CHECK_THROWS_WITH(io::read_hierarchy(d.path / "negative.json"),
                    Contains("levels[0]") && Contains("size_bytes") && Contains("-5"));
  d.write("noname.json", R"({"levels": []})");
  CHECK_THROWS_WITH(io::read_hierarchy(d.path / "noname.json"), Contains("missing field 'name'"));
  d.write("syntax.json", "{\"name\": \"x\",\n \"levels\": [}");
  CHECK_THROWS_WITH(io::read_hierarchy(d.path / "syntax.json"),
                    Contains("syntax.json") && Contains("line 2"));
  CHECK_THROWS_WITH(io::read_hierarchy(d.path / "absent.json"), Contains("cannot open"));
}

TEST_CASE("the host hierarchy is read from a sysfs tree", "[hierarchy][detect]") {
  scratch_dir d("sysfs");
  // Two sockets of two cores, each core with two hyper-threads: L1d and L2 per core, L3 per socket.
  const char* core_lists[] = {"0,4", "1,5", "2,6", "3,7"};
  for (int cpu = 0; cpu < 8; ++cpu) {
    const int core = cpu % 4;
    add_cache(d, cpu, 0, 1, "Data", "48K", core_lists[core]);
    add_cache(d, cpu, 1, 1, "Instruction", "32K", core_lists[core]);
    add_cache(d, cpu, 2, 2, "Unified", "2048K", core_lists[core]);
    add_cache(d, cpu, 3, 3, "Unified", "30M", core < 2 ? "0-1,4-5" : "2-3,6-7");
  }
  d.write("cpufreq/policy0", "not a cpu directory");
  d.write("meminfo", "MemTotal:       16384000 kB\nMemFree: 1 kB\n");
  const hierarchy h = detect_host(d.path, d.path / "meminfo");
  REQUIRE(h.size() == 4);
  CHECK(h.level_names() == std::vector<std::string>{"L1d", "L2", "L3", "DRAM"});
  CHECK(h.levels()[0] == memory_level{48 * 1024, 4});
  CHECK(h.levels()[1] == memory_level{2048 * 1024, 4});
  CHECK(h.levels()[2] == memory_level{30 * 1024 * 1024, 2});
  CHECK(h.levels()[3] == memory_level{16384000ull * 1024, 1});
}

TEST_CASE("detection fails clearly where sysfs is absent or broken", "[hierarchy][detect][errors]") {
  scratch_dir d("nosysfs");
  CHECK_THROWS_WITH(detect_host(d.path / "missing", d.path / "meminfo"),
                    Contains("does not exist") && Contains("hierarchy JSON file"));
  d.write("cpu0/online", "1");
  d.write("meminfo", "MemTotal: 1024 kB\n");
  CHECK_THROWS_WITH(detect_host(d.path, d.path / "meminfo"), Contains("no data caches"));
  add_cache(d, 0, 0, 1, "Data", "lots", "0");
  CHECK_THROWS_WITH(detect_host(d.path, d.path / "meminfo"),
                    Contains("size") && Contains("'lots'"));
  add_cache(d, 0, 0, 1, "Data", "32K", "0");
  d.write("meminfo", "MemFree: 1024 kB\n");
  CHECK_THROWS_WITH(detect_host(d.path, d.path / "meminfo"), Contains("no MemTotal"));
}

TEST_CASE("this machine's hierarchy can be detected", "[hierarchy][detect]") {
  if (!fs::exists("/sys/devices/system/cpu/cpu0/cache")) {
    CHECK_THROWS_AS(detect_host(), invalid_input);
    return;
  }
  const hierarchy h = detect_host();
  CHECK(h.size() >= 2);
  CHECK(h.level_name(0) == "L1d");
  CHECK(h.levels().back().size_bytes > h.levels()[0].size_bytes);
}
