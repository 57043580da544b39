// Energy meters: RAPL on fake powercap trees (normal, wrap-around, unreadable), NVML missing,
// the automatic choice, and measuring real child processes.
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "wsenergy/measure/measure.hpp"
#include "scratch.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;
using namespace wsenergy;
using namespace wsenergy::measure;

using test::temp_dir;

namespace {

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

/// A powercap domain directory with name, counter and range.
void domain(const fs::path& dir, const std::string& name, std::uint64_t energy_uj,
            std::uint64_t range_uj) {
  write(dir / "name", name + "\n");
  write(dir / "energy_uj", std::to_string(energy_uj) + "\n");
  write(dir / "max_energy_range_uj", std::to_string(range_uj) + "\n");
}

/// Two sockets with DRAM domains, a core sub-domain and a psys platform domain.
fs::path two_socket_tree(const fs::path& root) {
  domain(root / "intel-rapl:0", "package-0", 1000000, 262143328850);
  domain(root / "intel-rapl:0" / "intel-rapl:0:0", "core", 500, 262143328850);
  domain(root / "intel-rapl:0" / "intel-rapl:0:1", "dram", 2000000, 65712999613);
  domain(root / "intel-rapl:1", "package-1", 3000000, 262143328850);
  domain(root / "intel-rapl:1" / "intel-rapl:1:0", "dram", 4000000, 65712999613);
  domain(root / "intel-rapl:2", "psys", 9000000, 262143328850);
  return root;
}

}  // namespace

TEST_CASE("RAPL finds the package and DRAM domains of every socket", "[rapl]") {
  temp_dir t;
  rapl_meter m(two_socket_tree(t.path));
  REQUIRE(m.domains().size() == 4);
  CHECK(m.domains()[0].name == "package-0");
  CHECK(m.domains()[1].name == "dram-0");
  CHECK(m.domains()[2].name == "package-1");
  CHECK(m.domains()[3].name == "dram-1");
  CHECK(m.domains()[1].wrap_counts == 65712999613u);
  CHECK(m.domains()[0].joules_per_count == Approx(1e-6));
  CHECK(m.read_counts() == std::vector<std::uint64_t>{1000000, 2000000, 3000000, 4000000});
}

TEST_CASE("RAPL energy between two readings, with and without wrap-around", "[rapl]") {
  temp_dir t;
  rapl_meter m(two_socket_tree(t.path));
  const auto before = m.read_counts();
  write(t.path / "intel-rapl:0" / "energy_uj", "3500000\n");                    // +2.5 J
  write(t.path / "intel-rapl:0" / "intel-rapl:0:1" / "energy_uj", "2250000\n");  // +0.25 J
  // package-1 wraps: 262143328850 - 3000000 + 1000000 counts = 262141.32885 J
  write(t.path / "intel-rapl:1" / "energy_uj", "1000000\n");
  const auto joules = energy_between(m.domains(), before, m.read_counts());
  REQUIRE(joules.size() == 4);
  CHECK(joules[0] == Approx(2.5));
  CHECK(joules[1] == Approx(0.25));
  CHECK(joules[2] == Approx((262143328850.0 - 3000000.0 + 1000000.0) * 1e-6));
  CHECK(joules[3] == Approx(0.0).margin(1e-12));
}

TEST_CASE("a counter that goes backwards without a range is an error", "[rapl]") {
  const energy_domain gpu{"gpu-0", 1e-3, 0};
  CHECK(domain_energy_j(gpu, 100, 1100) == Approx(1.0));
  CHECK_THROWS_WITH(domain_energy_j(gpu, 1100, 100),
                    Contains("gpu-0") && Contains("went backwards (1100 then 100)"));
  const energy_domain small{"package-0", 1e-6, 1000};
  CHECK(domain_energy_j(small, 900, 100) == Approx(200e-6));
  CHECK_THROWS_WITH(domain_energy_j(small, 5000, 100), Contains("went backwards"));
  CHECK_THROWS_WITH(energy_between({gpu}, {1, 2}, {3}), Contains("expected 1 counters, got 2 and 1"));
}

TEST_CASE("an unreadable RAPL counter is reported with its path", "[rapl]") {
  temp_dir t;
  two_socket_tree(t.path);
  const fs::path counter = t.path / "intel-rapl:1" / "energy_uj";
  fs::remove(counter);
  fs::create_directory(counter);  // reading a directory fails even as root (EISDIR)
  CHECK_THROWS_WITH(rapl_meter(t.path), StartsWith(counter.string() + ": cannot read: ") &&
                                            Contains("Is a directory"));
}

TEST_CASE("permission denied explains the root-only counters in one line", "[rapl]") {
  temp_dir t;
  two_socket_tree(t.path);
  // Tests run as root, so the kernel's EACCES is injected through the reader.
  file_reader deny_energy = [](const fs::path& f) {
    if (f.filename() == "energy_uj") return read_result{"", EACCES};
    return read_small_file(f);
  };
  try {
    rapl_meter m(t.path, deny_energy);
    FAIL("expected an exception");
  } catch (const invalid_input& e) {
    const std::string what = e.what();
    CHECK_THAT(what, StartsWith((t.path / "intel-rapl:0" / "energy_uj").string() +
                                ": permission denied"));
    CHECK_THAT(what, Contains("only root") && Contains("CVE-2020-8694") && Contains("chmod"));
    CHECK(what.find('\n') == std::string::npos);
  }
  // A reading that starts failing later names the file too.
  bool deny = false;
  rapl_meter m(t.path, [&deny](const fs::path& f) {
    if (deny) return read_result{"", EPERM};
    return read_small_file(f);
  });
  deny = true;
  CHECK_THROWS_WITH(m.read_counts(), Contains("permission denied"));
}

TEST_CASE("malformed or missing powercap trees are errors naming the file", "[rapl]") {
  temp_dir t;
  CHECK_THROWS_WITH(rapl_meter(t.path / "absent"),
                    Contains("absent does not exist") && StartsWith("RAPL: "));
  CHECK_THROWS_WITH(rapl_meter(t.path), Contains("no package domains"));
  domain(t.path / "intel-rapl:0", "package-0", 0, 100);
  write(t.path / "intel-rapl:0" / "energy_uj", "12abc\n");
  CHECK_THROWS_WITH(rapl_meter(t.path),
                    Contains("energy_uj: expected a whole number of microjoules, got '12abc'"));
  write(t.path / "intel-rapl:0" / "energy_uj", "12\n");
  write(t.path / "intel-rapl:0" / "max_energy_range_uj", "0\n");
  CHECK_THROWS_WITH(rapl_meter(t.path), Contains("max_energy_range_uj is 0"));
}

TEST_CASE("NVML missing: a clear message, and auto goes on without it", "[nvml]") {
  CHECK_THROWS_WITH(nvml_meter("libwsenergy-no-such-nvml.so.1"),
                    StartsWith("NVML: cannot load libwsenergy-no-such-nvml.so.1 (no NVIDIA driver?)"));
  // A library that exists but is not NVML lacks the symbols.
  CHECK_THROWS_WITH(nvml_meter("libm.so.6"), Contains("has no symbol nvmlInit_v2"));

  temp_dir t;
  meter_options o;
  o.powercap_root = two_socket_tree(t.path);
  o.nvml_library = "libwsenergy-no-such-nvml.so.1";
  meter_set set = open_meters(meter_choice::automatic, o);
  REQUIRE(set.meters.size() == 1);
  CHECK(set.names() == "rapl");
  REQUIRE(set.unavailable.size() == 1);
  CHECK_THAT(set.unavailable[0], StartsWith("NVML: cannot load"));
  CHECK_THROWS_WITH(open_meters(meter_choice::nvml, o), StartsWith("NVML: cannot load"));
}

TEST_CASE("no meter anywhere: auto records why, explicit choices fail", "[meters]") {
  meter_options o;
  o.powercap_root = "/nonexistent/powercap";
  o.nvml_library = "libwsenergy-no-such-nvml.so.1";
  meter_set set = open_meters(meter_choice::automatic, o);
  CHECK_FALSE(set.measures_energy());
  CHECK(set.names() == "none");
  CHECK(set.unavailable.size() == 2);
  CHECK_THROWS_WITH(open_meters(meter_choice::rapl, o), Contains("/nonexistent/powercap"));
  CHECK(open_meters(meter_choice::none, o).unavailable.empty());
  CHECK(parse_meter_choice("nvml") == meter_choice::nvml);
  CHECK_THROWS_WITH(parse_meter_choice("ipmi"),
                    Contains("unknown meter 'ipmi'") && Contains("auto, rapl, nvml or none"));

  const measurement m = measure_command(set, {"sh", "-c", "sleep 0.05"});
  CHECK(m.process.ok);
  CHECK(m.duration_s >= 0.04);
  CHECK_FALSE(m.energy_j.has_value());
  CHECK(m.by_domain.empty());
  CHECK_THAT(m.energy_note, StartsWith("energy not measured: no energy meter on this machine") &&
                                Contains("NVML"));
}

TEST_CASE("a measurement session around work in this process", "[measure]") {
  temp_dir t;
  meter_options o;
  o.powercap_root = two_socket_tree(t.path);
  o.nvml_library = "libwsenergy-no-such-nvml.so.1";
  meter_set set = open_meters(meter_choice::automatic, o);
  measurement_session session(set);
  write(t.path / "intel-rapl:0" / "energy_uj", "3500000\n");  // package-0 spends 2.5 J
  const measurement m = session.finish({true, 0, 0, ""});
  REQUIRE(m.energy_j.has_value());
  CHECK(*m.energy_j == Approx(2.5));
  CHECK(m.by_domain_text() == "package-0=2.5;dram-0=0;package-1=0;dram-1=0");
  CHECK(m.process.ok);
  CHECK(m.duration_s >= 0);

  // Work shorter than the counters' update interval: no energy rather than 0 J (a runs file
  // refuses 0 J), with the reason.
  measurement_session idle(set);
  const measurement none = idle.finish({false, 1, 0, "stopped"});
  CHECK_FALSE(none.energy_j.has_value());
  CHECK(none.by_domain.empty());
  CHECK_THAT(none.energy_note, StartsWith("energy not measured: no counter advanced"));
  CHECK(none.process.message == "stopped");
}

TEST_CASE("a measured child that spends energy on a fake RAPL tree", "[measure]") {
  temp_dir t;
  meter_options o;
  o.powercap_root = two_socket_tree(t.path);
  o.nvml_library = "libwsenergy-no-such-nvml.so.1";
  meter_set set = open_meters(meter_choice::automatic, o);
  // The child moves package-0 from 1 J to 4 J and dram-1 from 4 J to 4.5 J.
  const std::string script = "echo 4000000 > '" + (t.path / "intel-rapl:0" / "energy_uj").string() +
                             "' && echo 4500000 > '" +
                             (t.path / "intel-rapl:1" / "intel-rapl:1:0" / "energy_uj").string() +
                             "'";
  const measurement m = measure_command(set, {"sh", "-c", script});
  REQUIRE(m.process.ok);
  REQUIRE(m.energy_j.has_value());
  CHECK(*m.energy_j == Approx(3.5));
  CHECK(m.meters == "rapl");
  CHECK(m.by_domain_text() == "package-0=3;dram-0=0;package-1=0;dram-1=0.5");
  CHECK(m.energy_note.empty());
}

TEST_CASE("failed commands: not found, non-zero exit, killed", "[process]") {
  meter_set none;
  const measurement missing = measure_command(none, {"wsenergy-no-such-command-xyz"});
  CHECK_FALSE(missing.process.ok);
  CHECK(missing.process.message == "command not found: 'wsenergy-no-such-command-xyz'");
  const measurement exit3 = measure_command(none, {"sh", "-c", "exit 3"});
  CHECK_FALSE(exit3.process.ok);
  CHECK(exit3.process.exit_code == 3);
  CHECK(exit3.process.message == "'sh' exited with status 3");
  const process_result sh127 = run_process({"sh", "-c", "exit 127"});
  CHECK_THAT(sh127.message, Contains("status 127 (command not found?)"));
  const process_result killed = run_process({"sh", "-c", "kill -9 $$"});
  CHECK_FALSE(killed.ok);
  CHECK(killed.signal == 9);
  CHECK_THAT(killed.message, Contains("killed by signal 9"));
  temp_dir t;
  const process_result logged = run_process({"sh", "-c", "echo out; echo err >&2"}, {t.path / "log"});
  CHECK(logged.ok);
  std::ifstream in(t.path / "log");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "out\nerr\n");
  CHECK_THROWS_WITH(run_process({"true"}, {t.path / "no" / "dir" / "log"}),
                    Contains("cannot open the log file"));
}

#ifdef WSENERGY_FAKE_NVML

TEST_CASE("NVML through dlopen: every GPU's counter, in millijoules", "[nvml]") {
  nvml_meter m(WSENERGY_FAKE_NVML);
  REQUIRE(m.domains().size() == 2);
  CHECK(m.name() == "nvml");
  CHECK(m.domains()[0].name == "gpu-0");
  CHECK(m.domains()[1].name == "gpu-1");
  CHECK(m.domains()[0].joules_per_count == Approx(1e-3));
  const auto before = m.read_counts();
  const auto joules = energy_between(m.domains(), before, m.read_counts());
  CHECK(joules[0] == Approx(1.5));
  CHECK(joules[1] == Approx(0.25));

  ::setenv("WSENERGY_FAKE_NVML_UNSUPPORTED", "1", 1);
  CHECK_THROWS_WITH(nvml_meter(WSENERGY_FAKE_NVML),
                    Contains("nvmlDeviceGetTotalEnergyConsumption(gpu 0)") &&
                        Contains("needs a Volta or newer GPU") && Contains("status 3 (Not Supported)"));
  ::unsetenv("WSENERGY_FAKE_NVML_UNSUPPORTED");

  // auto with both meters: their domains are summed.
  temp_dir t;
  meter_options o;
  o.powercap_root = two_socket_tree(t.path);
  o.nvml_library = WSENERGY_FAKE_NVML;
  meter_set set = open_meters(meter_choice::automatic, o);
  CHECK(set.names() == "rapl+nvml");
  CHECK(set.unavailable.empty());
  const measurement run = measure_command(set, {"true"});
  REQUIRE(run.energy_j.has_value());
  CHECK(*run.energy_j == Approx(1.75));
  CHECK(run.by_domain.size() == 6);
  CHECK(run.meters == "rapl+nvml");
}

#endif
