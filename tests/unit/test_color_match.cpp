// The colour match: which pixels are sampled as kept, exact recovery of a known drift, resistance
// to pixels the model changed, refusal of a tone curve no gain and offset can follow and of a
// different picture, and nothing done when nothing was kept.
#include "core/pixels/color_match.h"
#include "test_util.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>

using namespace imagegen;
using namespace imagegen::test;

namespace {

constexpr int kSide = 256;
constexpr std::array<double, 3> kGain = {1.1, 0.95, 1.05};
constexpr std::array<double, 3> kOffset = {-8, 5, 3};

// A source of many tones (no clipping under kGain and kOffset): each channel its own pattern.
RgbaImage source() {
    RgbaImage image(kSide, kSide);
    GRand* rand = g_rand_new_with_seed(11);
    for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
            uint8_t* p = image.at(x, y);
            p[0] = static_cast<uint8_t>(10 + (x * 200 / kSide));
            p[1] = static_cast<uint8_t>(10 + (y * 200 / kSide));
            p[2] = static_cast<uint8_t>(g_rand_int_range(rand, 10, 220));
            p[3] = 255;
        }
    }
    g_rand_free(rand);
    return image;
}

// The mask sent: alpha 0 (edit) over a square in the middle, 255 (keep) elsewhere.
RgbaImage maskWithHole(int from = 96, int to = 160) {
    RgbaImage mask(kSide, kSide);
    for (int y = 0; y < kSide; ++y) {
        for (int x = 0; x < kSide; ++x) {
            const bool hole = x >= from && x < to && y >= from && y < to;
            mask.at(x, y)[3] = hole ? 0 : 255;
        }
    }
    return mask;
}

uint8_t affine(size_t c, uint8_t v) {
    return static_cast<uint8_t>(std::clamp(std::lround((v * kGain[c]) + kOffset[c]), 0L, 255L));
}

// Every pixel of `image` through `curve`, channel by channel.
RgbaImage mapped(const RgbaImage& image, const std::function<uint8_t(size_t, uint8_t)>& curve) {
    RgbaImage out = image;
    for (size_t i = 0; i < out.pixels.size(); i += 4) {
        for (size_t c = 0; c < 3; ++c) {
            out.pixels[i + c] = curve(c, out.pixels[i + c]);
        }
    }
    return out;
}

// `share` of the pixels (spread evenly, by a fixed seed) replaced with random colours.
void spoil(RgbaImage& image, double share) {
    GRand* rand = g_rand_new_with_seed(3);
    for (size_t i = 0; i < image.pixels.size(); i += 4) {
        if (g_rand_double(rand) < share) {
            for (size_t c = 0; c < 3; ++c) {
                image.pixels[i + c] = static_cast<uint8_t>(g_rand_int_range(rand, 0, 256));
            }
        }
    }
    g_rand_free(rand);
}

int largestDifference(const RgbaImage& a, const RgbaImage& b, const RgbaImage& mask) {
    int worst = 0;
    for (size_t i = 0; i < a.pixels.size(); i += 4) {
        if (mask.pixels[i + 3] != 255) {
            continue;
        }
        for (size_t c = 0; c < 3; ++c) {
            worst = std::max(worst, std::abs(a.pixels[i + c] - b.pixels[i + c]));
        }
    }
    return worst;
}

void assertFitClose(const ColorFit& fit, double gainTolerance, double offsetTolerance) {
    for (size_t c = 0; c < 3; ++c) {
        g_assert_cmpfloat_with_epsilon(fit.gain[c], kGain[c], gainTolerance);
        g_assert_cmpfloat_with_epsilon(fit.offset[c], kOffset[c], offsetTolerance);
    }
}

void testSamplesOnlyKeptPixelsAwayFromTheEdit() {
    RgbaImage sent = source();
    sent.at(10, 10)[3] = 0; // transparent in the source: no information
    const RgbaImage mask = maskWithHole();
    const KeptSamples kept = sampleKeptPixels(sent, mask, 1000);
    g_assert_cmpint(kept.width, ==, kSide);
    g_assert_cmpuint(kept.samples.size(), <=, 1000);
    g_assert_cmpuint(kept.samples.size(), >=, 500);
    for (const KeptSample& k : kept.samples) {
        // Two pixels or more from the area that changes, never a transparent one.
        const bool nearHole = k.x >= 94 && k.x < 162 && k.y >= 94 && k.y < 162;
        g_assert_false(nearHole);
        g_assert_false(k.x == 10 && k.y == 10);
        const uint8_t* p = sent.at(k.x, k.y);
        g_assert_true(k.rgb[0] == p[0] && k.rgb[1] == p[1] && k.rgb[2] == p[2]);
    }
}

void testNothingKept() {
    const RgbaImage sent = source();
    const KeptSamples kept = sampleKeptPixels(sent, maskWithHole(0, kSide));
    g_assert_cmpuint(kept.samples.size(), ==, 0);
    RgbaImage result = mapped(sent, affine);
    const RgbaImage before = result;
    const ColorFit fit = fitColorDrift(kept, result);
    g_assert_true(fit.outcome == ColorMatchOutcome::NoKeptPixels);
    assertContains(fit.reason, "covers all of it");
    undoColorDrift(result, fit);
    g_assert_true(result.pixels == before.pixels);
}

void testRecoversAnExactDrift() {
    const RgbaImage sent = source();
    const RgbaImage mask = maskWithHole();
    RgbaImage result = mapped(sent, affine);
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, mask), result);
    g_assert_true(fit.applied());
    assertFitClose(fit, 0.005, 0.5);
    g_assert_cmpfloat(fit.inliers, >, 0.99);
    g_assert_cmpfloat(fit.residual, <, 0.6);
    undoColorDrift(result, fit);
    g_assert_cmpint(largestDifference(result, sent, mask), <=, 1);
}

void testRecoversADriftOfAnAnswerAtAnotherSize() {
    const RgbaImage sent = source();
    const RgbaImage mask = maskWithHole();
    const RgbaImage drifted = mapped(sent, affine);
    RgbaImage twice(kSide * 2, kSide * 2); // the same answer at twice the size
    for (int y = 0; y < twice.height; ++y) {
        for (int x = 0; x < twice.width; ++x) {
            std::copy_n(drifted.at(x / 2, y / 2), 4, twice.at(x, y));
        }
    }
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, mask), twice);
    g_assert_true(fit.applied());
    assertFitClose(fit, 0.005, 0.5);
}

void testResistsChangedPixels(gconstpointer data) {
    const double share = *static_cast<const double*>(data);
    const RgbaImage sent = source();
    const RgbaImage mask = maskWithHole();
    RgbaImage result = mapped(sent, affine);
    spoil(result, share);
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, mask), result);
    g_assert_true(fit.applied());
    assertFitClose(fit, 0.01, 1.0);
    g_assert_cmpfloat(fit.inliers, >, 1 - share - 0.05);
}

// A flat context says nothing of the gain: the offset alone is fitted, exactly.
void testFlatContextFitsTheOffset() {
    RgbaImage sent(64, 64);
    for (size_t i = 0; i < sent.pixels.size(); i += 4) {
        sent.pixels[i] = 120;
        sent.pixels[i + 1] = 90;
        sent.pixels[i + 2] = 40;
        sent.pixels[i + 3] = 255;
    }
    RgbaImage mask(64, 64);
    for (size_t i = 3; i < mask.pixels.size(); i += 4) {
        mask.pixels[i] = 255;
    }
    RgbaImage result = mapped(
        sent, [](size_t c, uint8_t v) { return static_cast<uint8_t>(v + (c == 0 ? 6 : -4)); });
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, mask), result);
    g_assert_true(fit.applied());
    g_assert_cmpfloat_with_epsilon(fit.gain[0], 1.0, 1e-9);
    g_assert_cmpfloat_with_epsilon(fit.offset[0], 6.0, 1e-6);
    g_assert_cmpfloat_with_epsilon(fit.offset[2], -4.0, 1e-6);
    undoColorDrift(result, fit);
    g_assert_true(result.pixels == sent.pixels);
}

// A poor fit changes nothing, and says why.
struct Refusal {
    const char* name;
    std::function<RgbaImage(const RgbaImage&)> answer;
    const char* reason;
};

const Refusal kRefusals[] = {
    {"wave-curve",
     [](const RgbaImage& s) {
         return mapped(s, [](size_t, uint8_t v) {
             return static_cast<uint8_t>(
                 std::clamp(std::lround(v + (24.0 * std::sin(2.0 * G_PI * v / 64.0))), 0L, 255L));
         });
     },
     "follow one shift in tone"},
    {"different-scene",
     [](const RgbaImage& s) {
         RgbaImage r = s;
         spoil(r, 1.0);
         return r;
     },
     "the model changed the context"},
    {"half-changed",
     [](const RgbaImage& s) {
         RgbaImage r = mapped(s, affine);
         spoil(r, 0.5);
         return r;
     },
     "(60% needed)"},
    {"inverted",
     [](const RgbaImage& s) {
         return mapped(s, [](size_t, uint8_t v) { return static_cast<uint8_t>(255 - v); });
     },
     "gain"},
    {"far-brighter",
     [](const RgbaImage& s) {
         return mapped(s, [](size_t c, uint8_t v) {
             return static_cast<uint8_t>(c == 1 ? std::min(255, v + 70) : v);
         });
     },
     "the green channel moved by"},
};

void testRefusesAPoorFit(gconstpointer data) {
    const auto* r = static_cast<const Refusal*>(data);
    const RgbaImage sent = source();
    const RgbaImage mask = maskWithHole();
    RgbaImage result = r->answer(sent);
    const RgbaImage before = result;
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, mask), result);
    g_assert_true(fit.outcome == ColorMatchOutcome::Declined);
    assertContains(fit.reason, "poor fit");
    assertContains(fit.reason, r->reason);
    g_assert_cmpuint(fit.samples, >, 0);
    undoColorDrift(result, fit);
    g_assert_true(result.pixels == before.pixels);
}

void testTooFewKeptPixels() {
    const RgbaImage sent = source();
    RgbaImage result = mapped(sent, affine);
    const ColorFit fit = fitColorDrift(sampleKeptPixels(sent, maskWithHole(), 40), result);
    g_assert_true(fit.outcome == ColorMatchOutcome::Declined);
    assertContains(fit.reason, "too few kept pixels");
}

const double kOutlierShares[] = {0.2, 0.3};

} // namespace

int main(int argc, char** argv) {
    init(&argc, &argv);
    g_test_add_func("/color-match/samples-kept-pixels", testSamplesOnlyKeptPixelsAwayFromTheEdit);
    g_test_add_func("/color-match/nothing-kept", testNothingKept);
    g_test_add_func("/color-match/exact-drift", testRecoversAnExactDrift);
    g_test_add_func("/color-match/answer-at-another-size",
                    testRecoversADriftOfAnAnswerAtAnotherSize);
    for (const double& share : kOutlierShares) {
        const std::string path =
            "/color-match/outliers/" + std::to_string(static_cast<int>(share * 100)) + "-percent";
        g_test_add_data_func(path.c_str(), &share, testResistsChangedPixels);
    }
    g_test_add_func("/color-match/flat-context-offset", testFlatContextFitsTheOffset);
    for (const Refusal& r : kRefusals) {
        g_test_add_data_func((std::string("/color-match/declines/") + r.name).c_str(), &r,
                             testRefusesAPoorFit);
    }
    g_test_add_func("/color-match/too-few-kept-pixels", testTooFewKeptPixels);
    return g_test_run();
}
