// A stand-in for libnvidia-ml.so.1 with two GPUs, loaded by measure_meter_test through dlopen
// exactly as the real library is: it shows the NVML meter's symbol lookup, calls and units.
// Each energy query advances GPU 0 by 1500 mJ and GPU 1 by 250 mJ. With
// WSENERGY_FAKE_NVML_UNSUPPORTED set, the energy query fails as on a pre-Volta GPU (status 3).
#include <cstdlib>

namespace {
int devices[2];
unsigned long long energy_mj[2] = {1000000, 5000};
}  // namespace

extern "C" {
int nvmlInit_v2() { return 0; }
int nvmlShutdown() { return 0; }
int nvmlDeviceGetCount_v2(unsigned* count) {
  *count = 2;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned index, void** device) {
  if (index >= 2) return 2;  // NVML_ERROR_INVALID_ARGUMENT
  *device = &devices[index];
  return 0;
}
int nvmlDeviceGetTotalEnergyConsumption(void* device, unsigned long long* mj) {
  if (std::getenv("WSENERGY_FAKE_NVML_UNSUPPORTED")) return 3;  // NVML_ERROR_NOT_SUPPORTED
  const int i = static_cast<int*>(device) == &devices[0] ? 0 : 1;
  energy_mj[i] += i == 0 ? 1500 : 250;
  *mj = energy_mj[i];
  return 0;
}
const char* nvmlErrorString(int status) { return status == 3 ? "Not Supported" : "Unknown Error"; }
}
