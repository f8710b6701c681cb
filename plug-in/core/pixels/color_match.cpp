#include "core/pixels/color_match.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace imagegen {

namespace {

// Fewer kept pixels than this say too little about six figures.
constexpr size_t kMinSamples = 64;
// A channel whose kept pixels span fewer levels than this (between its 10th and 90th
// percentiles) cannot tell a gain from an offset: only its offset is fitted.
constexpr double kMinSpreadForGain = 16.0;
// Beyond these the change is not a drift in tone but a different picture: a gain outside
// [1/1.43, 1.43], or a mid-grey moved by more than 48 levels (almost a fifth of the range).
constexpr double kMaxGain = 1.43;
constexpr double kMaxMidShift = 48.0;
// Tukey's biweight constant: 95 % efficiency on Gaussian noise.
constexpr double kTukey = 4.685;
constexpr int kMaxIterations = 50;

const char* const kChannelNames[3] = {"red", "green", "blue"};

bool keptAt(const RgbaImage& sent, const RgbaImage& mask, int x, int y) {
    if (x < 0 || y < 0 || x >= mask.width || y >= mask.height) {
        return true; // the image's own border is no edge of the edit area
    }
    return mask.at(x, y)[3] == 255 && sent.at(x, y)[3] == 255;
}

bool keptWithMargin(const RgbaImage& sent, const RgbaImage& mask, int x, int y) {
    constexpr int kMargin = 2;
    return x >= 0 && y >= 0 && x < mask.width && y < mask.height && keptAt(sent, mask, x, y) &&
           keptAt(sent, mask, x - kMargin, y) && keptAt(sent, mask, x + kMargin, y) &&
           keptAt(sent, mask, x, y - kMargin) && keptAt(sent, mask, x, y + kMargin);
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

double percentile(std::vector<double> v, double p) {
    const auto at = v.begin() + static_cast<std::ptrdiff_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), at, v.end());
    return *at;
}

struct Line {
    double gain = 1;
    double offset = 0;
};

// One weighted least-squares step; `gainToo` false fits the offset alone.
Line weightedLine(const std::vector<double>& s, const std::vector<double>& r,
                  const std::vector<double>& w, bool gainToo, Line previous) {
    double sw = 0, sws = 0, swr = 0, swss = 0, swsr = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        sw += w[i];
        sws += w[i] * s[i];
        swr += w[i] * r[i];
        swss += w[i] * s[i] * s[i];
        swsr += w[i] * s[i] * r[i];
    }
    if (sw <= 0) {
        return previous;
    }
    const double det = (sw * swss) - (sws * sws);
    if (!gainToo || det <= 1e-9 * sw * sw) {
        return {1.0, (swr - sws) / sw};
    }
    const double gain = ((sw * swsr) - (sws * swr)) / det;
    return {gain, (swr - gain * sws) / sw};
}

// Iteratively reweighted least squares with Tukey's biweight, from gain 1 and the median
// difference: far residuals (pixels the model changed) get no weight at all, so up to a third
// of the kept pixels may lie anywhere without moving the fit.
Line robustLine(const std::vector<double>& s, const std::vector<double>& r) {
    const bool gainToo = percentile(s, 0.9) - percentile(s, 0.1) >= kMinSpreadForGain;
    std::vector<double> e(s.size());
    std::vector<double> w(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        e[i] = r[i] - s[i];
    }
    Line line{1.0, median(e)};
    for (int iteration = 0; iteration < kMaxIterations; ++iteration) {
        for (size_t i = 0; i < s.size(); ++i) {
            e[i] = std::abs(r[i] - (line.gain * s[i]) - line.offset);
        }
        const double sigma = std::max(1.4826 * median(e), 0.5);
        const double c = kTukey * sigma;
        for (size_t i = 0; i < s.size(); ++i) {
            const double u = e[i] / c;
            w[i] = u < 1 ? (1 - u * u) * (1 - u * u) : 0;
        }
        const Line next = weightedLine(s, r, w, gainToo, line);
        const bool settled =
            std::abs(next.gain - line.gain) < 1e-7 && std::abs(next.offset - line.offset) < 1e-5;
        line = next;
        if (settled) {
            break;
        }
    }
    return line;
}

std::string formatted(const char* format, double a, double b = 0, double c = 0) {
    char text[160];
    std::snprintf(text, sizeof text, format, a, b, c);
    return text;
}

// Why a channel's fit is beyond a drift in tone; empty when it is within.
std::string beyondDrift(int channel, Line line) {
    const std::string name = kChannelNames[channel];
    if (line.gain > kMaxGain || line.gain < 1 / kMaxGain) {
        return "the " + name + " channel's gain " + formatted("%.2f", line.gain) +
               " is beyond a drift in tone " + formatted("(%.2f to %.2f)", 1 / kMaxGain, kMaxGain);
    }
    const double mid = (line.gain * 128) + line.offset - 128;
    if (std::abs(mid) > kMaxMidShift) {
        return "the " + name + " channel moved by " + formatted("%.0f", std::abs(mid)) +
               " levels, beyond a drift in tone (" + formatted("%.0f", kMaxMidShift) + " at most)";
    }
    return {};
}

// The share of samples the fit explains in every channel, and their RMS residual.
void scoreFit(ColorFit& fit, const std::array<std::vector<double>, 3>& s,
              const std::array<std::vector<double>, 3>& r) {
    size_t inliers = 0;
    double squares = 0;
    for (size_t i = 0; i < fit.samples; ++i) {
        double worst = 0;
        double sum = 0;
        for (size_t c = 0; c < 3; ++c) {
            const double e = r[c][i] - (fit.gain[c] * s[c][i]) - fit.offset[c];
            worst = std::max(worst, std::abs(e));
            sum += e * e;
        }
        if (worst <= kInlierLevels) {
            ++inliers;
            squares += sum / 3;
        }
    }
    fit.inliers = static_cast<double>(inliers) / static_cast<double>(fit.samples);
    fit.residual = inliers > 0 ? std::sqrt(squares / static_cast<double>(inliers)) : 0;
}

// Declines a fit that is poor, saying why.
void judgeFit(ColorFit& fit) {
    if (fit.inliers < kMinInlierShare) {
        fit.outcome = ColorMatchOutcome::Declined;
        fit.reason = "poor fit: only " + formatted("%.0f", fit.inliers * 100) +
                     "% of the kept pixels follow one shift in tone within " +
                     formatted("%.0f", kInlierLevels) + " levels (" +
                     formatted("%.0f", kMinInlierShare * 100) +
                     "% needed): the model changed the context";
        return;
    }
    for (int c = 0; c < 3; ++c) {
        const std::string beyond =
            beyondDrift(c, {fit.gain[static_cast<size_t>(c)], fit.offset[static_cast<size_t>(c)]});
        if (!beyond.empty()) {
            fit.outcome = ColorMatchOutcome::Declined;
            fit.reason = "poor fit: " + beyond;
            return;
        }
    }
    fit.outcome = ColorMatchOutcome::Applied;
    fit.reason.clear();
}

} // namespace

KeptSamples sampleKeptPixels(const RgbaImage& sent, const RgbaImage& mask, size_t maxSamples) {
    KeptSamples kept;
    kept.width = sent.width;
    kept.height = sent.height;
    if (mask.width != sent.width || mask.height != sent.height || maxSamples == 0) {
        return kept;
    }
    size_t total = 0;
    for (size_t i = 3; i < mask.pixels.size(); i += 4) {
        total += mask.pixels[i] == 255 && sent.pixels[i] == 255 ? 1 : 0;
    }
    const int stride =
        std::max(1, static_cast<int>(std::ceil(
                        std::sqrt(static_cast<double>(total) / static_cast<double>(maxSamples)))));
    for (int y = stride / 2; y < sent.height; y += stride) {
        for (int x = stride / 2; x < sent.width; x += stride) {
            if (keptWithMargin(sent, mask, x, y)) {
                const uint8_t* p = sent.at(x, y);
                kept.samples.push_back({x, y, {p[0], p[1], p[2]}});
            }
        }
    }
    if (kept.samples.size() > maxSamples) { // the grid's rounding: thin it evenly
        std::vector<KeptSample> thinned;
        thinned.reserve(maxSamples);
        for (size_t i = 0; i < maxSamples; ++i) {
            thinned.push_back(kept.samples[i * kept.samples.size() / maxSamples]);
        }
        kept.samples = std::move(thinned);
    }
    return kept;
}

ColorFit colorMatchNotTried(ColorMatchOutcome outcome, std::string reason) {
    ColorFit fit;
    fit.outcome = outcome;
    fit.reason = std::move(reason);
    return fit;
}

ColorFit fitColorDrift(const KeptSamples& kept, const RgbaImage& result) {
    if (kept.samples.empty() || kept.width <= 0 || kept.height <= 0) {
        return colorMatchNotTried(ColorMatchOutcome::NoKeptPixels,
                                  "no pixel of the region sent was to be kept: the edit area "
                                  "covers all of it");
    }
    std::array<std::vector<double>, 3> s;
    std::array<std::vector<double>, 3> r;
    for (const KeptSample& k : kept.samples) {
        // In 64 bits: an answer may be far wider than what was sent (up to the decode limit).
        const auto x = static_cast<int>(
            std::clamp<int64_t>(int64_t{k.x} * result.width / kept.width, 0, result.width - 1));
        const auto y = static_cast<int>(
            std::clamp<int64_t>(int64_t{k.y} * result.height / kept.height, 0, result.height - 1));
        const uint8_t* p = result.at(x, y);
        if (p[3] != 255) {
            continue; // a transparent answer says nothing of its colour there
        }
        for (size_t c = 0; c < 3; ++c) {
            s[c].push_back(k.rgb[c]);
            r[c].push_back(p[c]);
        }
    }
    ColorFit fit;
    fit.samples = s[0].size();
    if (fit.samples < kMinSamples) {
        fit.outcome = ColorMatchOutcome::Declined;
        fit.reason = "too few kept pixels to fit (" + std::to_string(fit.samples) + "; " +
                     std::to_string(kMinSamples) + " needed)";
        return fit;
    }
    for (size_t c = 0; c < 3; ++c) {
        const Line line = robustLine(s[c], r[c]);
        fit.gain[c] = line.gain;
        fit.offset[c] = line.offset;
    }
    scoreFit(fit, s, r);
    judgeFit(fit);
    return fit;
}

void undoColorDrift(RgbaImage& image, const ColorFit& fit) {
    if (!fit.applied()) {
        return;
    }
    std::array<std::array<uint8_t, 256>, 3> lut{};
    for (size_t c = 0; c < 3; ++c) {
        for (int v = 0; v < 256; ++v) {
            const double back = (v - fit.offset[c]) / fit.gain[c];
            lut[c][static_cast<size_t>(v)] =
                static_cast<uint8_t>(std::clamp(std::lround(back), 0L, 255L));
        }
    }
    for (size_t i = 0; i + 3 < image.pixels.size(); i += 4) {
        for (size_t c = 0; c < 3; ++c) {
            image.pixels[i + c] = lut[c][image.pixels[i + c]];
        }
    }
}

} // namespace imagegen
