#include "emulator/errors.h"

#include "core/util/glib_ptr.h"
#include "core/util/json_util.h"

using imagegen::adoptRef;

namespace emulator {

namespace {

void addNullable(JsonBuilder* b, const char* name, const std::string& value) {
    json_builder_set_member_name(b, name);
    if (value.empty()) {
        json_builder_add_null_value(b);
    } else {
        json_builder_add_string_value(b, value.c_str());
    }
}

void addOpenAIError(JsonBuilder* b, const ApiError& e) {
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, e.message.c_str());
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, e.type.c_str());
    addNullable(b, "param", e.param);
    addNullable(b, "code", e.code);
    if (!e.filterStage.empty()) {
        json_builder_set_member_name(b, "moderation_details");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "moderation_stage");
        json_builder_add_string_value(b, e.filterStage.c_str());
        json_builder_set_member_name(b, "categories");
        json_builder_begin_array(b);
        json_builder_add_string_value(b, "violence");
        json_builder_end_array(b);
        json_builder_end_object(b);
    }
}

void addAzureError(JsonBuilder* b, const ApiError& e, Flavour flavour) {
    json_builder_set_member_name(b, "code");
    json_builder_add_string_value(b, e.code.empty() ? std::to_string(e.status).c_str()
                                                    : e.code.c_str());
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, e.message.c_str());
    if (!e.param.empty()) {
        json_builder_set_member_name(b, "param");
        json_builder_add_string_value(b, e.param.c_str());
    }
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, flavour == Flavour::AzureV1 ? "error" : e.type.c_str());
    if (!e.filterStage.empty()) {
        json_builder_set_member_name(b, "inner_error");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "code");
        json_builder_add_string_value(b, "ResponsibleAIPolicyViolation");
        json_builder_set_member_name(b, "content_filter_results");
        addPromptFilterResults(b, e.filterStage == "input" ? "violence" : nullptr);
        json_builder_end_object(b);
    }
}

} // namespace

ApiError invalid(const std::string& param, const std::string& message, const std::string& code) {
    return {400, message, param, code, "invalid_request_error", ""};
}

void addFilterCategories(JsonBuilder* b, const char* filteredCategory) {
    for (const char* category : {"hate", "self_harm", "sexual", "violence"}) {
        const bool filtered =
            filteredCategory != nullptr && g_str_equal(category, filteredCategory);
        json_builder_set_member_name(b, category);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filtered");
        json_builder_add_boolean_value(b, filtered);
        json_builder_set_member_name(b, "severity");
        json_builder_add_string_value(b, filtered ? "high" : "safe");
        json_builder_end_object(b);
    }
}

void addPromptFilterResults(JsonBuilder* b, const char* filteredCategory) {
    json_builder_begin_object(b);
    addFilterCategories(b, filteredCategory);
    for (const char* detector : {"profanity", "jailbreak"}) {
        json_builder_set_member_name(b, detector);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "filtered");
        json_builder_add_boolean_value(b, FALSE);
        json_builder_set_member_name(b, "detected");
        json_builder_add_boolean_value(b, FALSE);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "custom_blocklists");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "filtered");
    json_builder_add_boolean_value(b, FALSE);
    json_builder_set_member_name(b, "details");
    json_builder_begin_array(b);
    json_builder_end_array(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
}

std::string errorBody(const ApiError& e, Flavour flavour) {
    auto b = adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    if (flavour != Flavour::OpenAI && !e.filterStage.empty()) {
        json_builder_set_member_name(b.get(), "created");
        json_builder_add_int_value(b.get(), g_get_real_time() / 1000000);
    }
    json_builder_set_member_name(b.get(), "error");
    json_builder_begin_object(b.get());
    if (flavour == Flavour::OpenAI) {
        addOpenAIError(b.get(), e);
    } else {
        addAzureError(b.get(), e, flavour);
    }
    json_builder_end_object(b.get());
    json_builder_end_object(b.get());
    return imagegen::json::builderText(b.get());
}

ApiError contentFilterError(Flavour flavour, const std::string& stage, const std::string& shape) {
    const bool azure = shape == "azure" || (shape.empty() && flavour != Flavour::OpenAI);
    ApiError e;
    e.status = 400;
    e.filterStage = stage;
    if (azure) {
        e.code = "contentFilter";
        e.type = "invalid_request_error";
        e.param = "prompt";
        e.message = stage == "output"
                        ? "Generated image was filtered as a result of our safety system."
                        : "Your task failed as a result of our safety system.";
    } else {
        e.code = "moderation_blocked";
        e.type = "image_generation_user_error";
        e.message =
            "Your request was rejected by the safety system. If you believe this is an error, "
            "contact us at help.openai.com and include the request ID. "
            "safety_violations=[violence].";
    }
    return e;
}

} // namespace emulator
