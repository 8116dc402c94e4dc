// The GPU kit's placeholders (scripts/gpu/pack.sh) stand in for libraries SRLab never calls into (GDAL,
// GDCM, OpenEXR, OpenGL, LAPACK/BLAS, libcurl, libcrypto). This program, linked against the kit with ALL
// placeholders in front (scripts/gpu/check_kit.sh), loads the kit's OpenCV, HDF5, libzip, libpng, ONNX and
// protobuf and does what SRLab does with them: PNG/JPEG/TIFF/WebP encode + decode, resize, HDF5 dataset
// write + read, a zip archive, an ONNX model's protobuf round trip. A placeholder that is missing a symbol
// fails the load (BIND_NOW); one that is called aborts with its name. Prints "placeholder_check: OK".
#include <H5Cpp.h>
#include <onnx/onnx_pb.h>
#include <zip.h>

#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <vector>

static void check(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp";
  try {
    cv::Mat img(48, 64, CV_8UC3);
    cv::randu(img, 0, 255);
    for (const std::string ext : {".png", ".jpg", ".tif", ".webp", ".ppm"}) {
      std::vector<uchar> buf;
      check(cv::imencode(ext, img, buf), "imencode " + ext);
      const cv::Mat back = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
      check(back.rows == 48 && back.cols == 64, "imdecode " + ext);
    }
    cv::Mat up;
    cv::resize(img, up, cv::Size(), 2.0, 2.0, cv::INTER_CUBIC);
    check(up.cols == 128, "resize");

    const std::string h5 = dir + "/placeholder_check.h5";
    {
      H5::H5File f(h5, H5F_ACC_TRUNC);
      const hsize_t dims[2] = {4, 5};
      H5::DataSpace space(2, dims);
      H5::DataSet ds = f.createDataSet("x", H5::PredType::NATIVE_FLOAT, space);
      std::vector<float> v(20, 1.5f);
      ds.write(v.data(), H5::PredType::NATIVE_FLOAT);
    }
    {
      H5::H5File f(h5, H5F_ACC_RDONLY);
      std::vector<float> v(20);
      f.openDataSet("x").read(v.data(), H5::PredType::NATIVE_FLOAT);
      check(v[19] == 1.5f, "hdf5 read");
    }
    std::remove(h5.c_str());

    const std::string zp = dir + "/placeholder_check.zip";
    int err = 0;
    zip_t* z = zip_open(zp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    check(z != nullptr, "zip_open");
    static const char text[] = "srlab";
    zip_source_t* src = zip_source_buffer(z, text, sizeof text, 0);
    check(zip_file_add(z, "a.txt", src, ZIP_FL_OVERWRITE) >= 0, "zip_file_add");
    check(zip_close(z) == 0, "zip_close");
    std::remove(zp.c_str());

    onnx::ModelProto m;
    m.set_ir_version(8);
    m.mutable_graph()->set_name("g");
    onnx::ModelProto back;
    check(back.ParseFromString(m.SerializeAsString()) && back.graph().name() == "g", "onnx protobuf");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "placeholder_check: FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("placeholder_check: OK (OpenCV %s codecs + resize, HDF5, libzip, ONNX protobuf)\n", CV_VERSION);
  return 0;
}
