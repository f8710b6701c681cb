#include "core/pixels/region.h"

#include "core/util/i18n.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace imagegen {

Rect intersect(Rect a, Rect b) {
    const int x0 = std::max(a.x, b.x);
    const int y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.right(), b.right());
    const int y1 = std::min(a.bottom(), b.bottom());
    if (x1 <= x0 || y1 <= y0) {
        return {};
    }
    return {x0, y0, x1 - x0, y1 - y0};
}

Rect contextRegion(Rect selection, double context, Size canvas) {
    // In doubles, and no wider than the canvas, before any conversion: a context of 1e308 (or
    // one whose padding passes 2^31 pixels) is the whole canvas, never a wrapped-around integer.
    // Not a number, or not above 0: no context.
    const double widest = std::max(canvas.width, canvas.height);
    const double padding =
        context > 0.0 ? std::min(context * std::max(selection.width, selection.height), widest)
                      : 0.0;
    const int pad = static_cast<int>(std::lround(padding));
    Rect grown{selection.x - pad, selection.y - pad, selection.width + 2 * pad,
               selection.height + 2 * pad};
    return intersect(grown, Rect{0, 0, canvas.width, canvas.height});
}

static int roundTo(double v, int multiple) {
    return std::max(multiple, static_cast<int>(std::lround(v / multiple)) * multiple);
}

Result<Size> chooseApiSize(const ModelCaps& caps, const std::string& requested, Size region) {
    if (region.width <= 0 || region.height <= 0) {
        return makeError(ErrorKind::InvalidRequest, _("the area to edit is empty"));
    }
    if (!requested.empty() && requested != "auto") {
        if (!caps.offersSize(requested)) {
            return makeError(ErrorKind::InvalidRequest,
                             textf(_("size %s is not offered by %s: use %s"), requested.c_str(),
                                   caps.name.c_str(), joinAlternatives(caps.sizes).c_str()));
        }
        return *parseSize(requested);
    }
    const double aspect = static_cast<double>(region.width) / region.height;
    if (caps.freeSizes) {
        const FreeSizeRule& rule = *caps.freeSizes;
        const double a = std::clamp(aspect, rule.minAspect, rule.maxAspect);
        // About a megapixel, or the region's own pixel count when larger (up to the limit).
        const double pixels = std::clamp(static_cast<double>(region.width) * region.height,
                                         1024.0 * 1024.0, 2560.0 * 1440.0);
        double h = std::sqrt(pixels / a);
        double w = h * a;
        const double shrink = std::min(1.0, static_cast<double>(rule.maxEdge) / std::max(w, h));
        Size s{roundTo(w * shrink, rule.multiple), roundTo(h * shrink, rule.multiple)};
        while (static_cast<int64_t>(s.width) * s.height > rule.maxPixels) {
            s = {s.width - rule.multiple, s.height - rule.multiple};
        }
        // Rounding to the multiple may step just past an aspect limit: step back inside.
        while (static_cast<double>(s.width) / s.height > rule.maxAspect) {
            s.width -= rule.multiple;
        }
        while (static_cast<double>(s.width) / s.height < rule.minAspect) {
            s.height -= rule.multiple;
        }
        return s;
    }
    Size best;
    double bestDistance = std::numeric_limits<double>::max();
    for (const auto& name : caps.sizes) {
        auto s = parseSize(name);
        if (!s) {
            continue;
        }
        const double d = std::fabs(std::log(static_cast<double>(s->width) / s->height / aspect));
        // Sizes of the same shape (dall-e-2's 256, 512 and 1024 squares): the smallest that
        // covers the region, else the largest, so that a result is not enlarged when a larger
        // size was on offer (Automatic once picked 256x256 and enlarged it 1.8 times).
        const auto covers = [&region](Size a) {
            return a.width >= region.width && a.height >= region.height;
        };
        const auto pixels = [](Size a) {
            return int64_t{a.width} * a.height;
        };
        const bool tie = std::fabs(d - bestDistance) <= 1e-9;
        const bool better = tie && (covers(*s) ? !covers(best) || pixels(*s) < pixels(best)
                                               : !covers(best) && pixels(*s) > pixels(best));
        if (d < bestDistance - 1e-9 || better) {
            best = *s;
            bestDistance = std::min(d, bestDistance);
        }
    }
    if (best.width == 0) {
        return makeError(ErrorKind::InvalidRequest,
                         textf(_("%s lists no fixed size"), caps.name.c_str()));
    }
    return best;
}

Rect widenToAspect(Rect region, Size target, Size canvas) {
    const double aspect = static_cast<double>(target.width) / target.height;
    Rect r = region;
    if (static_cast<double>(r.width) / r.height < aspect) {
        const int w = static_cast<int>(std::lround(r.height * aspect));
        r.x -= (w - r.width) / 2;
        r.width = w;
    } else {
        const int h = static_cast<int>(std::lround(r.width / aspect));
        r.y -= (h - r.height) / 2;
        r.height = h;
    }
    // Slide back onto the canvas where it fits; centre it where it does not.
    auto place = [](int pos, int size, int limit) {
        if (size >= limit) {
            return (limit - size) / 2;
        }
        return std::clamp(pos, 0, limit - size);
    };
    r.x = place(r.x, r.width, canvas.width);
    r.y = place(r.y, r.height, canvas.height);
    // The region must still hold the original one (it may not when centred on a small canvas).
    r.x = std::min(r.x, region.x);
    r.y = std::min(r.y, region.y);
    r.x = std::max(r.x, region.right() - r.width);
    r.y = std::max(r.y, region.bottom() - r.height);
    return r;
}

RgbaImage crop(const RgbaImage& image, Rect rect) {
    if (rect == Rect{0, 0, image.width, image.height}) {
        return image;
    }
    RgbaImage out(rect.width, rect.height);
    for (int y = 0; y < rect.height; ++y) {
        std::copy_n(image.at(rect.x, rect.y + y), static_cast<size_t>(rect.width) * 4,
                    out.at(0, y));
    }
    return out;
}

RgbaImage placedOn(const RgbaImage& image, Size canvas, Rect at) {
    RgbaImage out(canvas.width, canvas.height);
    for (int y = 0; y < at.height; ++y) {
        std::copy_n(image.at(0, y), static_cast<size_t>(at.width) * 4, out.at(at.x, at.y + y));
    }
    return out;
}

Rect scaledPart(Rect part, Rect whole, Size scaled) {
    const double sx = static_cast<double>(scaled.width) / whole.width;
    const double sy = static_cast<double>(scaled.height) / whole.height;
    const auto edge = [](int pos, int origin, double scale, int limit) {
        return std::clamp(static_cast<int>(std::lround((pos - origin) * scale)), 0, limit);
    };
    const int x0 = std::min(edge(part.x, whole.x, sx, scaled.width), scaled.width - 1);
    const int y0 = std::min(edge(part.y, whole.y, sy, scaled.height), scaled.height - 1);
    const int x1 = std::max(edge(part.right(), whole.x, sx, scaled.width), x0 + 1);
    const int y1 = std::max(edge(part.bottom(), whole.y, sy, scaled.height), y0 + 1);
    return {x0, y0, x1 - x0, y1 - y0};
}

namespace {

double catmullRom(double x) {
    x = std::fabs(x);
    if (x < 1.0) {
        return 1.5 * x * x * x - 2.5 * x * x + 1.0;
    }
    if (x < 2.0) {
        return -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0;
    }
    return 0.0;
}

struct Contribution {
    std::vector<int> sources; // input indices, clamped to the edges
    std::vector<float> weights;
};

// For each output coordinate: which input samples contribute, with which weights.
std::vector<Contribution> contributions(int in, int out) {
    std::vector<Contribution> c(static_cast<size_t>(out));
    const double scale = static_cast<double>(out) / in;
    const double support = scale < 1.0 ? 2.0 / scale : 2.0;
    const double stretch = scale < 1.0 ? scale : 1.0;
    for (int i = 0; i < out; ++i) {
        const double centre = (i + 0.5) / scale - 0.5;
        const int first = static_cast<int>(std::floor(centre - support)) + 1;
        const int last = static_cast<int>(std::floor(centre + support));
        Contribution& k = c[static_cast<size_t>(i)];
        double sum = 0.0;
        for (int j = first; j <= last; ++j) {
            const double w = catmullRom((j - centre) * stretch);
            k.sources.push_back(std::clamp(j, 0, in - 1));
            k.weights.push_back(static_cast<float>(w));
            sum += w;
        }
        for (auto& w : k.weights) {
            w = static_cast<float>(w / sum);
        }
    }
    return c;
}

// Separable resampling of `channels` interleaved channels, streamed row by row: `loadRow(y, row)`
// fills one input row as floats, `storeRow(y, row)` takes one output row. Only the few
// horizontally filtered rows the vertical filter needs at once are kept, in a ring, so a large
// image never exists as floats in full.
template <typename LoadRow, typename StoreRow>
void resample(int w, int h, int channels, int nw, int nh, LoadRow loadRow, StoreRow storeRow) {
    const auto cx = contributions(w, nw);
    const auto cy = contributions(h, nh);
    size_t window = 1;
    for (const auto& k : cy) {
        window = std::max(window, k.weights.size());
    }
    const auto rowFloats = static_cast<size_t>(nw) * channels;
    std::vector<float> ring(window * rowFloats);
    std::vector<float> in(static_cast<size_t>(w) * channels);
    std::vector<float> out(rowFloats);
    int filtered = -1; // the last input row filtered into the ring
    auto filteredRow = [&](int sy) -> const float* {
        // The vertical windows only move down, so a row leaves the ring once no longer needed.
        while (filtered < sy) {
            ++filtered;
            loadRow(filtered, in.data());
            float* dst = ring.data() + (static_cast<size_t>(filtered) % window) * rowFloats;
            for (int x = 0; x < nw; ++x) {
                const Contribution& k = cx[static_cast<size_t>(x)];
                for (int c = 0; c < channels; ++c) {
                    float acc = 0.0F;
                    for (size_t t = 0; t < k.weights.size(); ++t) {
                        acc += k.weights[t] * in[static_cast<size_t>(k.sources[t]) * channels + c];
                    }
                    dst[static_cast<size_t>(x) * channels + c] = acc;
                }
            }
        }
        return ring.data() + (static_cast<size_t>(sy) % window) * rowFloats;
    };
    for (int y = 0; y < nh; ++y) {
        const Contribution& k = cy[static_cast<size_t>(y)];
        std::fill(out.begin(), out.end(), 0.0F);
        for (size_t t = 0; t < k.weights.size(); ++t) {
            const float* src = filteredRow(k.sources[t]);
            const float wt = k.weights[t];
            for (size_t i = 0; i < rowFloats; ++i) {
                out[i] += wt * src[i];
            }
        }
        storeRow(y, out.data());
    }
}

uint8_t toByte(float v) {
    return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

} // namespace

RgbaImage resize(const RgbaImage& image, int width, int height) {
    if (image.width == width && image.height == height) {
        return image;
    }
    RgbaImage out(width, height);
    // Premultiplied alpha, so that the colour of transparent pixels does not bleed.
    auto load = [&image](int y, float* row) {
        const uint8_t* p = image.at(0, y);
        for (int x = 0; x < image.width; ++x, p += 4, row += 4) {
            const float a = p[3];
            row[0] = p[0] * a / 255.0F;
            row[1] = p[1] * a / 255.0F;
            row[2] = p[2] * a / 255.0F;
            row[3] = a;
        }
    };
    auto store = [&out](int y, const float* row) {
        uint8_t* p = out.at(0, y);
        for (int x = 0; x < out.width; ++x, p += 4, row += 4) {
            const float a = std::clamp(row[3], 0.0F, 255.0F);
            for (int c = 0; c < 3; ++c) {
                p[c] = a > 0.0F ? toByte(row[c] * 255.0F / a) : 0;
            }
            p[3] = toByte(a);
        }
    };
    resample(image.width, image.height, 4, width, height, load, store);
    return out;
}

std::vector<uint8_t> resizeChannel(const std::vector<uint8_t>& channel, int width, int height,
                                   int newWidth, int newHeight) {
    if (width == newWidth && height == newHeight) {
        return channel;
    }
    std::vector<uint8_t> out(static_cast<size_t>(newWidth) * newHeight);
    auto load = [&](int y, float* row) {
        const uint8_t* p = channel.data() + static_cast<size_t>(y) * width;
        std::copy(p, p + width, row);
    };
    auto store = [&](int y, const float* row) {
        std::transform(row, row + newWidth, out.begin() + static_cast<ptrdiff_t>(y) * newWidth,
                       toByte);
    };
    resample(width, height, 1, newWidth, newHeight, load, store);
    return out;
}

RgbaImage buildApiMask(const std::vector<uint8_t>& coverage, const RgbaImage& source,
                       Size apiSize) {
    const size_t n = static_cast<size_t>(source.width) * source.height;
    std::vector<uint8_t> keep(n);
    for (size_t i = 0; i < n; ++i) {
        keep[i] =
            std::min<uint8_t>(static_cast<uint8_t>(255 - coverage[i]), source.pixels[i * 4 + 3]);
    }
    auto scaled = resizeChannel(keep, source.width, source.height, apiSize.width, apiSize.height);
    RgbaImage mask(apiSize.width, apiSize.height);
    for (size_t i = 0; i < scaled.size(); ++i) {
        mask.pixels[i * 4 + 3] = scaled[i];
    }
    return mask;
}

// Squared Euclidean distance transform of one row or column (Felzenszwalb & Huttenlocher).
static void distance1d(const std::vector<double>& f, std::vector<double>& d, std::vector<int>& v,
                       std::vector<double>& z, int n) {
    constexpr double kInf = 1e20;
    int k = 0;
    v[0] = 0;
    z[0] = -kInf;
    z[1] = kInf;
    for (int q = 1; q < n; ++q) {
        double s = 0;
        while (true) {
            const int p = v[static_cast<size_t>(k)];
            s = ((f[static_cast<size_t>(q)] + q * q) - (f[static_cast<size_t>(p)] + p * p)) /
                (2.0 * q - 2.0 * p);
            if (s > z[static_cast<size_t>(k)] || k == 0) {
                break;
            }
            --k;
        }
        if (s <= z[static_cast<size_t>(k)]) {
            v[0] = q;
            z[0] = -kInf;
            z[1] = kInf;
            k = 0;
            continue;
        }
        ++k;
        v[static_cast<size_t>(k)] = q;
        z[static_cast<size_t>(k)] = s;
        z[static_cast<size_t>(k) + 1] = kInf;
    }
    k = 0;
    for (int q = 0; q < n; ++q) {
        while (z[static_cast<size_t>(k) + 1] < q) {
            ++k;
        }
        const int p = v[static_cast<size_t>(k)];
        d[static_cast<size_t>(q)] = (q - p) * (q - p) + f[static_cast<size_t>(p)];
    }
}

std::vector<uint8_t> featherInward(const std::vector<uint8_t>& coverage, int width, int height,
                                   double feather) {
    if (!(feather > 0.0)) { // none, or not a number
        return coverage;
    }
    // Distance of every pixel to the nearest pixel outside the selection (coverage 0); the edge
    // of the region counts as outside only where the selection does not reach it.
    constexpr double kInf = 1e20;
    const int n = std::max(width, height);
    std::vector<double> grid(static_cast<size_t>(width) * height);
    for (size_t i = 0; i < grid.size(); ++i) {
        grid[i] = coverage[i] == 0 ? 0.0 : kInf;
    }
    std::vector<double> f(static_cast<size_t>(n)), d(static_cast<size_t>(n)),
        z(static_cast<size_t>(n) + 1);
    std::vector<int> v(static_cast<size_t>(n));
    for (int x = 0; x < width; ++x) {
        for (int y = 0; y < height; ++y) {
            f[static_cast<size_t>(y)] = grid[static_cast<size_t>(y) * width + x];
        }
        distance1d(f, d, v, z, height);
        for (int y = 0; y < height; ++y) {
            grid[static_cast<size_t>(y) * width + x] = d[static_cast<size_t>(y)];
        }
    }
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            f[static_cast<size_t>(x)] = grid[static_cast<size_t>(y) * width + x];
        }
        distance1d(f, d, v, z, width);
        for (int x = 0; x < width; ++x) {
            grid[static_cast<size_t>(y) * width + x] = d[static_cast<size_t>(x)];
        }
    }
    std::vector<uint8_t> out(coverage.size());
    for (size_t i = 0; i < out.size(); ++i) {
        const double ramp = std::min(1.0, std::sqrt(grid[i]) / feather);
        out[i] = static_cast<uint8_t>(std::lround(coverage[i] * ramp));
    }
    return out;
}

} // namespace imagegen
