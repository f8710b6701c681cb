#include "core/run/run_strategy.h"

#include "core/util/i18n.h"

#include <algorithm>

namespace imagegen {

Result<std::vector<ImageRequest>> OneStepStrategy::next() {
    if (sent_) {
        return std::vector<ImageRequest>();
    }
    sent_ = true;
    ImageRequest request = plan_.request;
    request.images = std::move(upload_.images);
    request.mask = std::move(upload_.mask);
    // prepareRun checked it; a plan without its pixels (planRun's) is refused here, unsent.
    if (auto valid = validateRequest(*plan_.service.caps, request); !valid) {
        return withGuessNote(valid.error(), plan_.service);
    }
    return planRequests(*plan_.service.caps, std::move(request));
}

Status OneStepStrategy::take(ImagesResult answer) {
    const size_t expected = static_cast<size_t>(std::max(1, plan_.request.n));
    const size_t got = answer.images.size();
    if (got != expected) {
        return makeError(
            ErrorKind::MalformedResponse,
            textf(g_dngettext(GETTEXT_PACKAGE,
                              "the service sent %zu image where %zu were asked for",
                              "the service sent %zu images where %zu were asked for", got),
                  got, expected));
    }
    answer_ = std::move(answer);
    return Ok{};
}

Result<std::vector<NewLayer>> OneStepStrategy::layers(int64_t nowUnix,
                                                      const CancelCheck& cancelled) {
    const RunParameters& p = plan_.parameters;
    const int64_t maxPixels = resultPixelLimit(*plan_.service.caps, plan_.request.size);
    const double upscale =
        upscaleFactor(plan_.procedure, {plan_.edit, plan_.target, plan_.request.size, {}});
    std::vector<NewLayer> layers;
    const int count = answer_ ? static_cast<int>(answer_->images.size()) : 0;
    for (int i = 0; i < count; ++i) {
        if (cancelled && cancelled()) {
            return cancelledError();
        }
        GeneratedImage& image = answer_->images[static_cast<size_t>(i)];
        ResultNotes notes;
        notes.upscaleFactor = upscale;
        auto layer = place(image, maxPixels, notes);
        if (!layer) {
            return layer.error();
        }
        image.bytes = {}; // decoded: the answer's copy is no longer needed
        layer->name = layerNameFor(p.prompt, i, count);
        layer->visible = i == 0;
        layer->parasite = resultParasite(p.prompt, image.revisedPrompt, plan_.service.model,
                                         plan_.request.size, plan_.request.quality, nowUnix, notes);
        layers.push_back(std::move(*layer));
    }
    return layers;
}

Result<RgbaImage> matchedResult(const RunPlan& plan, const std::string& bytes,
                                const KeptSamples& kept, ColorFit& fit) {
    auto decoded = decodeResult(bytes, resultPixelLimit(*plan.service.caps, plan.request.size));
    if (!decoded) {
        return decoded.error();
    }
    if (!plan.parameters.options.matchColors) {
        fit = colorMatchNotTried(ColorMatchOutcome::TurnedOff, "turned off (match_colors false)");
        return decoded;
    }
    // At the size the model drew: the kept pixels are compared with what it was sent.
    fit = fitColorDrift(kept, *decoded);
    undoColorDrift(*decoded, fit);
    return decoded;
}

std::unique_ptr<RunStrategy> strategyFor(const RunPlan& plan, Upload upload) {
    switch (plan.procedure) {
    case Procedure::Edit:
        return editStrategy(plan, std::move(upload));
    case Procedure::Generate:
        return generateStrategy(plan);
    case Procedure::NewImage:
        return newImageStrategy(plan);
    case Procedure::Expand:
        return expandStrategy(plan, std::move(upload));
    }
    return nullptr;
}

} // namespace imagegen
