#include "emulator/request_log.h"

#include "core/util/glib_ptr.h"
#include "core/util/json_util.h"

#include <initializer_list>
#include <utility>

namespace emulator {

namespace {

void addUploadJson(JsonBuilder* b, const Upload& u) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "part");
    json_builder_add_string_value(b, u.part.c_str());
    json_builder_set_member_name(b, "filename");
    json_builder_add_string_value(b, u.filename.c_str());
    json_builder_set_member_name(b, "content_type");
    json_builder_add_string_value(b, u.contentType.c_str());
    json_builder_set_member_name(b, "bytes");
    json_builder_add_int_value(b, static_cast<gint64>(u.bytes.size()));
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, u.info.width);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, u.info.height);
    json_builder_set_member_name(b, "has_alpha");
    json_builder_add_boolean_value(b, u.info.hasAlpha);
    json_builder_end_object(b);
}

void addRequestFacts(JsonBuilder* b, const LogEntry& e) {
    for (const auto& [k, v] :
         std::initializer_list<std::pair<const char*, std::string>>{{"method", e.method},
                                                                    {"path", e.path},
                                                                    {"query", e.query},
                                                                    {"flavour", e.flavour},
                                                                    {"deployment", e.deployment},
                                                                    {"fault", e.fault},
                                                                    {"ended", e.ended}}) {
        json_builder_set_member_name(b, k);
        json_builder_add_string_value(b, v.c_str());
    }
    json_builder_set_member_name(b, "status");
    json_builder_add_int_value(b, e.status);
    json_builder_set_member_name(b, "auth_present");
    json_builder_add_boolean_value(b, e.authPresent);
    json_builder_set_member_name(b, "received_at_us");
    json_builder_add_int_value(b, e.receivedAtUs);
    json_builder_set_member_name(b, "handled_at_us");
    json_builder_add_int_value(b, e.handledAtUs);
    json_builder_set_member_name(b, "answered_at_us");
    json_builder_add_int_value(b, e.answeredAtUs);
    json_builder_set_member_name(b, "chunks_written_at_us");
    json_builder_begin_array(b);
    for (const gint64 t : e.chunksWrittenAtUs) {
        json_builder_add_int_value(b, t);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "header_names");
    json_builder_begin_array(b);
    for (const auto& name : e.headerNames) {
        json_builder_add_string_value(b, name.c_str());
    }
    json_builder_end_array(b);
}

void addRequestContent(JsonBuilder* b, const LogEntry& e) {
    json_builder_set_member_name(b, "fields");
    json_builder_begin_object(b);
    for (const auto& [k, v] : e.fields) {
        json_builder_set_member_name(b, k.c_str());
        json_builder_add_string_value(b, v.c_str());
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "images");
    json_builder_begin_array(b);
    for (const auto& u : e.images) {
        addUploadJson(b, u);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "mask");
    if (e.mask) {
        addUploadJson(b, *e.mask);
    } else {
        json_builder_add_null_value(b);
    }
}

} // namespace

std::string logJson(const std::vector<LogEntry>& log) {
    auto b = imagegen::adoptRef(json_builder_new());
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "requests");
    json_builder_begin_array(b.get());
    for (const auto& e : log) {
        json_builder_begin_object(b.get());
        addRequestFacts(b.get(), e);
        addRequestContent(b.get(), e);
        json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());
    return imagegen::json::builderText(b.get());
}

} // namespace emulator
