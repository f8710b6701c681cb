// The core's share of an edit, timed beside a floor, and what the image to edit costs on the
// wire in each format. No GIMP, no network: tools/benchmark runs this and the GIMP cases and
// prints one table.
//
//     imagegen-bench-core [ROUNDS] [PICTURE.png]
//
// 1. For a 1024x1024 and a 4096x4096 region: the pipeline (scale to the API size, encode the
//    image, build and encode the mask, decode the answer, fit and undo its colour drift, scale it
//    back) against bare PNG encode+decode of the region's pixels with the same library. Medians
//    of ROUNDS, the two measured alternately.
// 2. A 1536x1024 picture as PNG (the core's level 1), JPEG at several qualities (4:4:4) and
//    WebP: bytes, and PSNR of the decoded upload against the pixels. Two pictures: a synthetic
//    photograph (1/f shading, edges, sensor grain; seeded) and PICTURE (GIMP's splash by
//    default, a painting), cropped to 1536x1024.
//
// Lines starting "row " are for tools/benchmark: row <key> <value>.
#include "core/pixels/codec.h"
#include "core/pixels/color_match.h"
#include "core/pixels/pipeline.h"
#include "core/pixels/region.h"

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

using namespace imagegen;

namespace {

double nowMs() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Value noise on a grid of `cell` pixels, smoothly interpolated.
class Noise {
  public:
    Noise(int cell, uint32_t seed) : cell_(cell), seed_(seed) {}
    [[nodiscard]] double at(int x, int y) const {
        const int gx = x / cell_;
        const int gy = y / cell_;
        const double fx = smooth(double(x % cell_) / cell_);
        const double fy = smooth(double(y % cell_) / cell_);
        const double a = lerp(corner(gx, gy), corner(gx + 1, gy), fx);
        const double b = lerp(corner(gx, gy + 1), corner(gx + 1, gy + 1), fx);
        return lerp(a, b, fy);
    }

  private:
    static double smooth(double t) { return t * t * (3 - 2 * t); }
    static double lerp(double a, double b, double t) { return a + (b - a) * t; }
    [[nodiscard]] double corner(int x, int y) const {
        uint32_t h = seed_ ^ (static_cast<uint32_t>(x) * 374761393U) ^
                     (static_cast<uint32_t>(y) * 668265263U);
        h = (h ^ (h >> 13)) * 1274126177U;
        return double((h ^ (h >> 16)) & 0xffff) / 65535.0 - 0.5;
    }
    int cell_;
    uint32_t seed_;
};

// Octaves of 1/f noise per channel (natural images' spectrum), hard edges where the coarse
// octave crosses a level (objects), and a grain of sigma ~2 levels (a sensor's noise).
RgbaImage syntheticPhoto(int w, int h) {
    RgbaImage image(w, h);
    std::vector<std::vector<Noise>> octaves(3);
    for (int c = 0; c < 3; ++c) {
        for (int o = 0; o < 7; ++o) {
            octaves[c].emplace_back(std::max(2, 512 >> o), 977U * (c + 1) + 31U * o);
        }
    }
    const Noise objects(160, 4242);
    GRand* rand = g_rand_new_with_seed(7);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const bool inside = objects.at(x, y) > 0.1;
            for (int c = 0; c < 3; ++c) {
                double v = 0;
                double amp = 110;
                for (const Noise& n : octaves[c]) {
                    v += n.at(x, y) * amp;
                    amp *= 0.55;
                }
                const double base = inside ? 90 + (c * 40) : 160 - (c * 30);
                const double grain =
                    (g_rand_double(rand) + g_rand_double(rand) + g_rand_double(rand) - 1.5) * 4.0;
                image.at(x, y)[c] =
                    static_cast<uint8_t>(std::clamp(std::lround(base + v + grain), 0L, 255L));
            }
            image.at(x, y)[3] = 255;
        }
    }
    g_rand_free(rand);
    return image;
}

RgbaImage crop(const RgbaImage& src, int w, int h) {
    RgbaImage out(w, h);
    for (int y = 0; y < h; ++y) {
        const int sy = std::min(y, src.height - 1);
        for (int x = 0; x < w; ++x) {
            const uint8_t* s = src.at(std::min(x, src.width - 1), sy);
            std::copy(s, s + 4, out.at(x, y));
            out.at(x, y)[3] = 255; // the picture as an opaque photograph
        }
    }
    return out;
}

double psnr(const RgbaImage& a, const RgbaImage& b) {
    double sum = 0;
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        if (i % 4 != 3) {
            const double d = double(a.pixels[i]) - double(b.pixels[i]);
            sum += d * d;
        }
    }
    const double mse = sum / (double(a.pixels.size()) * 3 / 4);
    return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

std::vector<uint8_t> ellipseCoverage(int w, int h) {
    std::vector<uint8_t> c(static_cast<size_t>(w) * h, 0);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double dx = (x - w / 2.0) / (w * 0.35);
            const double dy = (y - h / 2.0) / (h * 0.35);
            c[static_cast<size_t>(y) * w + x] = dx * dx + dy * dy <= 1 ? 255 : 0;
        }
    }
    return c;
}

// The pipeline beside the floor for one region size; prints its row.
void pipelineAgainstFloor(int side, int rounds) {
    const RgbaImage region = syntheticPhoto(side, side);
    const std::vector<uint8_t> coverage = ellipseCoverage(side, side);
    const Size api{1024, 1024};
    // The service's answer: made once, outside the timing (the server's work, not ours).
    const std::string answer = *encodePng(resize(region, api.width, api.height));
    std::vector<double> pipeline;
    std::vector<double> floor;
    size_t sink = 0;
    for (int r = 0; r < rounds; ++r) {
        double t0 = nowMs();
        auto upload = prepareEdit(region, coverage, true, api, UploadFormat::JpegIfOpaque);
        auto decoded = decodeResult(answer);
        const ColorFit fit = fitColorDrift(upload->kept, *decoded);
        undoColorDrift(*decoded, fit);
        const RgbaImage back = resize(*decoded, side, side);
        sink += back.pixels[0] + upload->image.bytes.size();
        pipeline.push_back(nowMs() - t0);

        t0 = nowMs();
        auto png = encodePng(region);
        auto again = decodeImage(*png);
        sink += again->pixels[0];
        floor.push_back(nowMs() - t0);
    }
    const double p = median(pipeline);
    const double f = median(floor);
    std::printf("row core-%d-pipeline-ms %.1f\nrow core-%d-floor-ms %.1f\nrow core-%d-ratio %.2f\n",
                side, p, side, f, side, p / f);
    std::printf("# %dx%d region: pipeline %.1f ms, PNG encode+decode %.1f ms (sink %zu)\n", side,
                side, p, f, sink);
}

void formats(const char* name, const RgbaImage& photo) {
    struct Variant {
        std::string label;
        std::function<Result<std::string>()> encode;
    };
    std::vector<Variant> variants = {{"png", [&] {
                                          return encodePng(photo);
                                      }}};
    for (const int q : {75, 85, 90, 92, 95}) {
        variants.push_back({"jpeg-q" + std::to_string(q), [&, q] {
                                return encodeJpeg(photo, q);
                            }});
    }
    for (const int q : {80, 90}) {
        variants.push_back({"webp-q" + std::to_string(q), [&, q] {
                                return encodeWebP(photo, q);
                            }});
    }
    for (const auto& v : variants) {
        const double t0 = nowMs();
        auto bytes = v.encode();
        const double ms = nowMs() - t0;
        auto decoded = decodeImage(*bytes);
        std::printf("row bytes-%s-%s %zu\nrow psnr-%s-%s %.1f\nrow encode-ms-%s-%s %.1f\n", name,
                    v.label.c_str(), bytes->size(), name, v.label.c_str(), psnr(photo, *decoded),
                    name, v.label.c_str(), ms);
    }
}

} // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    const char* picture = argc > 2 ? argv[2] : "/usr/share/gimp/2.0/images/gimp-splash.png";
    pipelineAgainstFloor(1024, rounds);
    pipelineAgainstFloor(4096, std::max(1, rounds / 2));
    formats("synthetic", syntheticPhoto(1536, 1024));
    gchar* data = nullptr;
    gsize length = 0;
    if (g_file_get_contents(picture, &data, &length, nullptr)) {
        auto decoded = decodeImage(std::string_view(data, length));
        g_free(data);
        if (decoded) {
            formats("picture", crop(*decoded, 1536, 1024));
        }
    }
    return 0;
}
