#include "core/pixels/pipeline.h"

#include "core/util/glib_ptr.h"
#include "core/util/i18n.h"
#include "core/util/json_util.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>

namespace imagegen {

Result<EditPlan> planEdit(const ModelCaps& caps, const std::string& size, double context,
                          const ImageGeometry& g) {
    const Rect canvasRect{0, 0, g.canvas.width, g.canvas.height};
    EditPlan plan;
    plan.area =
        g.selection ? intersect(*g.selection, canvasRect) : intersect(g.drawable, canvasRect);
    if (plan.area.empty()) {
        return makeError(ErrorKind::InvalidRequest, g.selection
                                                        ? _("the selection is empty")
                                                        : _("the layer lies outside the canvas"));
    }
    const Rect grown = contextRegion(plan.area, context < 0 ? 0.0 : context, g.canvas);
    auto apiSize = chooseApiSize(caps, size, {grown.width, grown.height});
    if (!apiSize) {
        return apiSize.error();
    }
    plan.apiSize = *apiSize;
    plan.region = widenToAspect(grown, plan.apiSize, g.canvas);
    plan.held = intersect(plan.region, canvasRect);
    return plan;
}

std::vector<uint8_t> layerCoverage(Rect region, Rect drawable, Size canvas) {
    const Rect inside =
        intersect(intersect(drawable, Rect{0, 0, canvas.width, canvas.height}), region);
    std::vector<uint8_t> coverage(static_cast<size_t>(region.width) * region.height, 0);
    for (int y = inside.y; y < inside.bottom(); ++y) {
        std::fill_n(coverage.begin() + (static_cast<ptrdiff_t>(y - region.y) * region.width) +
                        (inside.x - region.x),
                    inside.width, 255);
    }
    return coverage;
}

Result<EditUpload> prepareEdit(const RgbaImage& pixels, const std::vector<uint8_t>& coverage,
                               bool sendMask, Size apiSize, UploadFormat format, Rect placement) {
    EditUpload upload;
    const Rect whole{0, 0, apiSize.width, apiSize.height};
    const Rect at = placement.empty() ? whole : placement;
    const RgbaImage scaled = at == whole
                                 ? resize(pixels, apiSize.width, apiSize.height)
                                 : placedOn(resize(pixels, at.width, at.height), apiSize, at);
    const bool jpeg = format == UploadFormat::JpegIfOpaque && isOpaque(scaled);
    auto encoded = jpeg ? encodeJpeg(scaled) : encodePng(scaled);
    if (!encoded) {
        return encoded.error();
    }
    upload.image.bytes = std::move(*encoded);
    if (jpeg) {
        upload.image.mimeType = mimeTypeOf(ImageFormat::Jpeg);
        upload.image.filename = "image.jpg";
    }
    upload.image.width = apiSize.width;
    upload.image.height = apiSize.height;
    if (sendMask) {
        // Past what was read, alpha 0: nothing there to keep.
        const RgbaImage maskImage =
            at == whole
                ? buildApiMask(coverage, pixels, apiSize)
                : placedOn(buildApiMask(coverage, pixels, {at.width, at.height}), apiSize, at);
        // The colour match compares the model's answer with what it was given: after JPEG, the
        // decoded upload, not the pixels before (their difference would read as a drift).
        if (jpeg) {
            auto seen = decodeImage(upload.image.bytes);
            if (!seen) {
                return seen.error();
            }
            upload.kept = sampleKeptPixels(*seen, maskImage);
        } else {
            upload.kept = sampleKeptPixels(scaled, maskImage);
        }
        auto maskPng = encodePng(maskImage);
        if (!maskPng) {
            return maskPng.error();
        }
        InputImage mask;
        mask.bytes = std::move(*maskPng);
        mask.filename = "mask.png";
        mask.width = apiSize.width;
        mask.height = apiSize.height;
        upload.mask = std::move(mask);
    }
    return upload;
}

Result<InputImage> prepareReference(const RgbaImage& pixels, int maxSide, int index) {
    const double scale =
        std::min(1.0, static_cast<double>(maxSide) / std::max(pixels.width, pixels.height));
    const int w = std::max(1, static_cast<int>(std::lround(pixels.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(pixels.height * scale)));
    auto png = encodePng(resize(pixels, w, h));
    if (!png) {
        return png.error();
    }
    InputImage image;
    image.bytes = std::move(*png);
    image.filename = "reference-" + std::to_string(index) + ".png";
    image.width = w;
    image.height = h;
    return image;
}

int64_t resultPixelLimit(const ModelCaps& caps, const std::string& size) {
    int64_t asked = 0;
    if (auto parsed = parseSize(size)) {
        asked = int64_t{parsed->width} * parsed->height;
    } else {
        for (const auto& offered : caps.sizes) {
            if (auto s = parseSize(offered)) {
                asked = std::max(asked, int64_t{s->width} * s->height);
            }
        }
        if (caps.freeSizes) {
            asked = std::max(asked, caps.freeSizes->maxPixels);
        }
    }
    return resultPixelBound(asked);
}

Result<RgbaImage> decodeResult(const std::string& bytes, int64_t maxPixels) {
    // Before any pixel is allocated: a 1x600000 answer is within the pixel limit, but GIMP can
    // hold no image that tall.
    if (auto info = probeImage(bytes);
        info && (info->width > kMaxImageSide || info->height > kMaxImageSide)) {
        return makeError(ErrorKind::MalformedResponse,
                         textf(_("the service sent an image of %dx%d pixels, larger than GIMP "
                                 "can hold (%d pixels a side)"),
                               info->width, info->height, kMaxImageSide));
    }
    auto decoded = decodeImage(bytes, maxPixels);
    if (!decoded) {
        Error e = decoded.error();
        e.kind = ErrorKind::MalformedResponse;
        e.message =
            textf(_("the service sent an image that cannot be read: %s"), e.message.c_str());
        return e;
    }
    return decoded;
}

Rect generationTarget(const ImageGeometry& g) {
    const Rect canvasRect{0, 0, g.canvas.width, g.canvas.height};
    if (g.selection) {
        const Rect s = intersect(*g.selection, canvasRect);
        if (!s.empty()) {
            return s;
        }
    }
    return canvasRect;
}

Result<RgbaImage> coverTarget(const std::string& bytes, Size target, int64_t maxPixels) {
    auto decoded = decodeResult(bytes, maxPixels);
    if (!decoded) {
        return decoded.error();
    }
    // The middle part of the answer with the target's shape, cropped before it is scaled: the
    // work and the memory follow the target, whatever the answer's shape (scaling a 1x489 answer
    // whole to cover 1024x1024 would make a 1024x500736 image first).
    const double scale = std::max(static_cast<double>(target.width) / decoded->width,
                                  static_cast<double>(target.height) / decoded->height);
    const int cropWidth =
        std::clamp(static_cast<int>(std::lround(target.width / scale)), 1, decoded->width);
    const int cropHeight =
        std::clamp(static_cast<int>(std::lround(target.height / scale)), 1, decoded->height);
    return resize(crop(*decoded, {(decoded->width - cropWidth) / 2,
                                  (decoded->height - cropHeight) / 2, cropWidth, cropHeight}),
                  target.width, target.height);
}

std::string layerNameFor(const std::string& prompt, int index, int count) {
    constexpr glong kMaxChars = 48;
    std::string name = prompt;
    std::replace(name.begin(), name.end(), '\n', ' ');
    if (g_utf8_strlen(name.c_str(), -1) > kMaxChars) {
        const char* end = g_utf8_offset_to_pointer(name.c_str(), kMaxChars - 1);
        name = std::string(name.c_str(), end) + "…";
    }
    if (count > 1) {
        name += " #" + std::to_string(index + 1);
    }
    return name;
}

namespace {

const char* outcomeName(ColorMatchOutcome outcome) {
    switch (outcome) {
    case ColorMatchOutcome::Applied:
        return "applied";
    case ColorMatchOutcome::Declined:
        return "declined";
    case ColorMatchOutcome::NoKeptPixels:
        return "no-kept-pixels";
    case ColorMatchOutcome::TurnedOff:
        return "off";
    }
    return "";
}

void addTriple(JsonBuilder* b, const char* name, const std::array<double, 3>& v) {
    json_builder_set_member_name(b, name);
    json_builder_begin_array(b);
    for (const double x : v) {
        json_builder_add_double_value(b, std::round(x * 10000) / 10000);
    }
    json_builder_end_array(b);
}

// "color_match": what was done, why not, and the fit's figures when there was a fit.
void addColorMatch(JsonBuilder* b, const ColorFit& fit) {
    json_builder_set_member_name(b, "color_match");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "outcome");
    json_builder_add_string_value(b, outcomeName(fit.outcome));
    if (!fit.reason.empty()) {
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, fit.reason.c_str());
    }
    if (fit.samples > 0) {
        addTriple(b, "gain", fit.gain);
        addTriple(b, "offset", fit.offset);
        json_builder_set_member_name(b, "samples");
        json_builder_add_int_value(b, static_cast<int64_t>(fit.samples));
        json_builder_set_member_name(b, "inliers");
        json_builder_add_double_value(b, std::round(fit.inliers * 10000) / 10000);
        json_builder_set_member_name(b, "residual");
        json_builder_add_double_value(b, std::round(fit.residual * 100) / 100);
    }
    json_builder_end_object(b);
}

} // namespace

std::string resultParasite(const std::string& prompt, const std::string& revisedPrompt,
                           const std::string& model, const std::string& size,
                           const std::string& quality, int64_t unixTime, const ResultNotes& notes) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    for (const auto& [k, v] : std::initializer_list<std::pair<const char*, const std::string*>>{
             {"prompt", &prompt},
             {"revised_prompt", &revisedPrompt},
             {"model", &model},
             {"size", &size},
             {"quality", &quality}}) {
        json_builder_set_member_name(b.get(), k);
        json_builder_add_string_value(b.get(), v->c_str());
    }
    json_builder_set_member_name(b.get(), "time");
    json_builder_add_int_value(b.get(), unixTime);
    if (notes.upscaleFactor) {
        json_builder_set_member_name(b.get(), "upscale_factor");
        json_builder_add_double_value(b.get(), std::round(*notes.upscaleFactor * 10000) / 10000);
    }
    if (notes.colorMatch) {
        addColorMatch(b.get(), *notes.colorMatch);
    }
    json_builder_end_object(b.get());
    return json::builderText(b.get());
}

} // namespace imagegen
