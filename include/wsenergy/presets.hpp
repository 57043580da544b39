#pragma once
/// @file presets.hpp
/// @brief Named hierarchies: the two the BUTTER-E study used, and real GPUs from their datasheets.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "wsenergy/hierarchy.hpp"

namespace wsenergy::presets {

inline constexpr std::uint64_t kib = 1024;
inline constexpr std::uint64_t mib = 1024 * kib;
inline constexpr std::uint64_t gib = 1024 * mib;

/// @brief An Eagle CPU node as the study modelled it: 2 x Intel Xeon Gold 6154 (18 cores each).
/// L1d 32 KiB and L2 1 MiB per core, L3 24.75 MiB per socket, 96 GiB DRAM (docs/model.md s. 5).
inline constexpr fixed_hierarchy<4> eagle_cpu{
    "eagle_cpu",
    {"L1d", "L2", "L3", "DRAM"},
    {{{32 * kib, 36}, {1 * mib, 36}, {24 * mib + 768 * kib, 2}, {96 * gib, 1}}}};

/// @brief An Eagle GPU node as the study modelled it: 2 x V100 counted as 84 SMs each with 112 KiB
/// of L1, 6 MiB of L2 and 16 GiB of HBM2 per GPU. Kept exactly for conformance with the authors'
/// placements even though a shipping V100 PCIe has 80 SMs (see `v100_pcie`).
inline constexpr fixed_hierarchy<3> eagle_gpu{
    "eagle_gpu", {"L1", "L2", "HBM"}, {{{112 * kib, 168}, {6 * mib, 2}, {16 * gib, 2}}}};

/// @brief One NVIDIA Tesla V100 PCIe 16 GB.
/// Source: NVIDIA Tesla V100 GPU Architecture whitepaper (WP-08608-001_v1.1, 2017): 80 SMs,
/// 128 KB combined L1 data cache / shared memory per SM, 6144 KB L2; V100 PCIe datasheet: 16 GB
/// HBM2.
inline constexpr fixed_hierarchy<3> v100_pcie{
    "v100_pcie", {"L1", "L2", "HBM2"}, {{{128 * kib, 80}, {6 * mib, 1}, {16 * gib, 1}}}};

/// @brief One NVIDIA A100 40 GB (SXM4).
/// Source: NVIDIA A100 Tensor Core GPU Architecture whitepaper (V1.0, 2020), table 3: 108 SMs,
/// 192 KB combined L1 / shared memory per SM, 40960 KB L2, 40 GB HBM2.
inline constexpr fixed_hierarchy<3> a100{
    "a100", {"L1", "L2", "HBM2"}, {{{192 * kib, 108}, {40 * mib, 1}, {40 * gib, 1}}}};

/// @brief One NVIDIA H100 SXM5 80 GB.
/// Source: NVIDIA H100 Tensor Core GPU Architecture whitepaper (V1.04, 2022), table 3: 132 SMs,
/// 256 KB combined L1 / shared memory per SM, 51200 KB L2, 80 GB HBM3.
inline constexpr fixed_hierarchy<3> h100{
    "h100", {"L1", "L2", "HBM3"}, {{{256 * kib, 132}, {50 * mib, 1}, {80 * gib, 1}}}};

/// @brief One NVIDIA H200 SXM 141 GB.
/// Source: NVIDIA H200 Tensor Core GPU datasheet (2024): 141 GB HBM3e at 4.8 TB/s on the GH100
/// die, whose SM count (132), L1 (256 KB per SM) and L2 (50 MB) are those of the H100 SXM5
/// whitepaper. The datasheet's 141 GB is decimal.
inline constexpr fixed_hierarchy<3> h200{
    "h200", {"L1", "L2", "HBM3e"}, {{{256 * kib, 132}, {50 * mib, 1}, {141'000'000'000, 1}}}};

static_assert(!level_problem(eagle_cpu.levels()) && !level_problem(eagle_gpu.levels()) &&
              !level_problem(v100_pcie.levels()) && !level_problem(a100.levels()) &&
              !level_problem(h100.levels()) && !level_problem(h200.levels()));

/// @brief The command-line names of the presets (`eagle-cpu`, ...), in the order listed.
inline constexpr std::array<std::string_view, 6> names = {"eagle-cpu", "eagle-gpu", "v100-pcie",
                                                          "a100",      "h100",      "h200"};

/// @brief The preset with this name (`eagle-cpu` or `eagle_cpu`), or nothing.
inline std::optional<hierarchy> find(std::string_view name) {
  std::string key(name);
  for (char& c : key)
    if (c == '_') c = '-';
  if (key == "eagle-cpu") return hierarchy(eagle_cpu);
  if (key == "eagle-gpu") return hierarchy(eagle_gpu);
  if (key == "v100-pcie") return hierarchy(v100_pcie);
  if (key == "a100") return hierarchy(a100);
  if (key == "h100") return hierarchy(h100);
  if (key == "h200") return hierarchy(h200);
  return std::nullopt;
}

}  // namespace wsenergy::presets
