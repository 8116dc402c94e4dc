// The SRLAB_TEST_DEVICE switch (tests/test_device.h): the values it accepts, the errors for the others,
// the training keys it adds on CUDA, and the device this process resolved.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/test_device.h"
#include "tests/test_util.h"

namespace test_device_test {

using srlab::testing::error_of;
using srlab::testing::parse_test_device;

TEST(TestDevice, ParsesCpuAndCudaSpellings) {
  EXPECT_EQ(parse_test_device(""), torch::Device(torch::kCPU));
  EXPECT_EQ(parse_test_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(parse_test_device("cuda"), torch::Device(torch::kCUDA));
  EXPECT_EQ(parse_test_device("cuda:1"), torch::Device(torch::kCUDA, 1));
}

TEST(TestDevice, OtherValuesNameTheVariableAndTheAcceptedValues) {
  for (const std::string bad : {"bogus", "gpu", "CPU", "auto", "cuda:x", "cuda:-1", "cudax", " cpu"}) {
    const std::string msg = error_of([&] { parse_test_device(bad); });
    EXPECT_NE(msg.find("SRLAB_TEST_DEVICE='" + bad + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cpu (the default), cuda or cuda:N"), std::string::npos) << msg;
  }
}

TEST(TestDevice, TrainingKeysOnlyOnCuda) {
  EXPECT_EQ(srlab::testing::train_keys_for(torch::kCPU), "");
  EXPECT_EQ(srlab::testing::train_keys_for(torch::Device(torch::kCUDA, 0)), ", tf32: false, cudnn_tf32: false, cudnn_benchmark: false");
}

// The device of this run: what SRLAB_TEST_DEVICE says, or a failure naming it (no CUDA, bad value). On CUDA
// the process-wide settings of tests/test_device.h are in force.
TEST(TestDevice, ThisRunUsesTheDeviceTheEnvironmentNames) {
  const char* env = std::getenv(srlab::testing::kTestDeviceEnv);
  const torch::Device d = srlab::testing::test_device();
  EXPECT_EQ(d, parse_test_device(env == nullptr ? "" : env));
  EXPECT_EQ(srlab::testing::test_device_yaml(), d.str());
  if (d.is_cuda()) {
    EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
    EXPECT_FALSE(at::globalContext().allowTF32CuDNN());
    EXPECT_TRUE(at::globalContext().deterministicCuDNN());
    EXPECT_FALSE(at::globalContext().benchmarkCuDNN());
    EXPECT_EQ(srlab::testing::on_test_device(torch::ones({2})).device().type(), torch::kCUDA);
  }
}

}  // namespace test_device_test
