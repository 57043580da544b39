#pragma once
/// @file measure/nvml.hpp
/// @brief NVIDIA GPU energy through NVML, loaded at run time with `dlopen` so that nothing links
/// against it: the total-energy counter (millijoules since the driver loaded) of every GPU.

#include <dlfcn.h>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "wsenergy/error.hpp"
#include "wsenergy/measure/meter.hpp"

namespace wsenergy::measure {

/// @brief NVML's energy counters. Needs a Volta or newer GPU (the counter does not exist before).
class nvml_meter final : public energy_meter {
 public:
  /// @brief Loads NVML, initialises it and checks every GPU's energy counter once.
  /// @param library the shared library to load; tests pass a missing name or a fake library
  /// @throws invalid_input when the library, a symbol or a GPU counter is missing (the message
  /// names which), or when NVML finds no GPU
  explicit nvml_meter(const std::string& library = "libnvidia-ml.so.1") {
    handle_ = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      throw invalid_input(fmt::format("NVML: cannot load {} (no NVIDIA driver?): {}", library,
                                      why ? why : "unknown dlopen error"));
    }
    try {
      init_ = symbol<init_fn>("nvmlInit_v2");
      shutdown_ = symbol<shutdown_fn>("nvmlShutdown");
      const auto count_fn = symbol<count_fn_t>("nvmlDeviceGetCount_v2");
      const auto handle_fn = symbol<handle_fn_t>("nvmlDeviceGetHandleByIndex_v2");
      energy_ = symbol<energy_fn>("nvmlDeviceGetTotalEnergyConsumption");
      error_string_ = reinterpret_cast<error_string_fn>(::dlsym(handle_, "nvmlErrorString"));
      check(init_(), "nvmlInit_v2");
      initialised_ = true;
      unsigned count = 0;
      check(count_fn(&count), "nvmlDeviceGetCount_v2");
      if (count == 0) throw invalid_input("NVML: the driver reports no GPU");
      for (unsigned i = 0; i < count; ++i) {
        device_t device = nullptr;
        check(handle_fn(i, &device), fmt::format("nvmlDeviceGetHandleByIndex_v2({})", i));
        unsigned long long mj = 0;
        check(energy_(device, &mj),
              fmt::format("nvmlDeviceGetTotalEnergyConsumption(gpu {}) (needs a Volta or newer "
                          "GPU)",
                          i));
        devices_.push_back(device);
        domains_.push_back({fmt::format("gpu-{}", i), 1e-3, 0});
      }
    } catch (...) {
      close();
      throw;
    }
  }

  nvml_meter(const nvml_meter&) = delete;
  nvml_meter& operator=(const nvml_meter&) = delete;
  ~nvml_meter() override { close(); }

  std::string name() const override { return "nvml"; }
  const std::vector<energy_domain>& domains() const override { return domains_; }

  /// @throws invalid_input when a counter cannot be read
  std::vector<std::uint64_t> read_counts() override {
    std::vector<std::uint64_t> counts;
    counts.reserve(devices_.size());
    for (std::size_t i = 0; i < devices_.size(); ++i) {
      unsigned long long mj = 0;
      check(energy_(devices_[i], &mj),
            fmt::format("nvmlDeviceGetTotalEnergyConsumption(gpu {})", i));
      counts.push_back(static_cast<std::uint64_t>(mj));
    }
    return counts;
  }

 private:
  // The C interface, declared here so that no NVML header is needed.
  using device_t = void*;
  using init_fn = int (*)();
  using shutdown_fn = int (*)();
  using count_fn_t = int (*)(unsigned*);
  using handle_fn_t = int (*)(unsigned, device_t*);
  using energy_fn = int (*)(device_t, unsigned long long*);
  using error_string_fn = const char* (*)(int);

  template <typename F>
  F symbol(const char* name) {
    void* p = ::dlsym(handle_, name);
    if (p == nullptr)
      throw invalid_input(fmt::format("NVML: the library has no symbol {} (driver too old?)", name));
    return reinterpret_cast<F>(p);
  }

  void check(int status, const std::string& call) const {
    if (status == 0) return;
    const char* text = error_string_ ? error_string_(status) : nullptr;
    throw invalid_input(fmt::format("NVML: {} failed with status {}{}", call, status,
                                    text ? fmt::format(" ({})", text) : std::string()));
  }

  void close() noexcept {
    if (initialised_ && shutdown_) shutdown_();
    initialised_ = false;
    if (handle_) ::dlclose(handle_);
    handle_ = nullptr;
  }

  void* handle_ = nullptr;
  bool initialised_ = false;
  init_fn init_ = nullptr;
  shutdown_fn shutdown_ = nullptr;
  energy_fn energy_ = nullptr;
  error_string_fn error_string_ = nullptr;
  std::vector<device_t> devices_;
  std::vector<energy_domain> domains_;
};

}  // namespace wsenergy::measure
