// RAII owners for GLib/GObject handles, so that no early return leaks a GError, a g_free'd
// string or a reference.
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <utility>

namespace imagegen {

template <auto FreeFn> struct GFreeWith {
    template <typename T> void operator()(T* p) const noexcept {
        if (p != nullptr) {
            FreeFn(p);
        }
    }
};

using GErrorPtr = std::unique_ptr<GError, GFreeWith<g_error_free>>;
using GCharPtr = std::unique_ptr<gchar, GFreeWith<g_free>>;
using GStrvPtr = std::unique_ptr<gchar*, GFreeWith<g_strfreev>>;
using GBytesPtr = std::unique_ptr<GBytes, GFreeWith<g_bytes_unref>>;
using GKeyFilePtr = std::unique_ptr<GKeyFile, GFreeWith<g_key_file_unref>>;
using GMainLoopPtr = std::unique_ptr<GMainLoop, GFreeWith<g_main_loop_unref>>;
using GUriPtr = std::unique_ptr<GUri, GFreeWith<g_uri_unref>>;
using GDateTimePtr = std::unique_ptr<GDateTime, GFreeWith<g_date_time_unref>>;
using GTimeZonePtr = std::unique_ptr<GTimeZone, GFreeWith<g_time_zone_unref>>;
using JsonNodePtr = std::unique_ptr<JsonNode, GFreeWith<json_node_unref>>;
using JsonObjectPtr = std::unique_ptr<JsonObject, GFreeWith<json_object_unref>>;
using GListPtr = std::unique_ptr<GList, GFreeWith<g_list_free>>; // the list, not its data
using GSourcePtr = std::unique_ptr<GSource, GFreeWith<g_source_unref>>;

// A main-context source that is removed when its owner goes: a timeout, an idle or a Unix signal
// handler whose callback points at something with a shorter life than the main context.
class SourceId {
  public:
    SourceId() = default;
    explicit SourceId(guint id) noexcept : id_(id) {}
    SourceId(const SourceId&) = delete;
    SourceId& operator=(const SourceId&) = delete;
    SourceId(SourceId&& other) noexcept : id_(std::exchange(other.id_, 0)) {}
    SourceId& operator=(SourceId&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.id_, 0));
        }
        return *this;
    }
    ~SourceId() { reset(); }

    // Removes the source (if any) and holds `id` instead.
    void reset(guint id = 0) noexcept {
        if (id_ != 0) {
            g_source_remove(id_);
        }
        id_ = id;
    }
    // For a source that has removed itself (its callback returned G_SOURCE_REMOVE).
    void forget() noexcept { id_ = 0; }
    explicit operator bool() const noexcept { return id_ != 0; }

  private:
    guint id_ = 0;
};

// Adapts a unique_ptr to a C out-parameter (GError**, gchar**): the value written by the
// callee is adopted when the adaptor goes out of scope at the end of the full expression.
template <typename Smart> class OutPtr {
  public:
    using Pointer = typename Smart::pointer;
    explicit OutPtr(Smart& owner) : owner_(owner) {}
    OutPtr(const OutPtr&) = delete;
    OutPtr& operator=(const OutPtr&) = delete;
    OutPtr(OutPtr&&) = delete;
    OutPtr& operator=(OutPtr&&) = delete;
    ~OutPtr() { owner_.reset(raw_); }
    operator Pointer*() noexcept { return &raw_; } // NOLINT(google-explicit-constructor)

  private:
    Smart& owner_;
    Pointer raw_ = nullptr;
};

template <typename Smart> OutPtr<Smart> outPtr(Smart& owner) {
    return OutPtr<Smart>(owner);
}

// A strong reference to a GObject. `adopt` takes over a reference the caller already owns
// (the result of a *_new()); `ref` adds one; `sink` takes the floating reference of a new
// GInitiallyUnowned (a GTK widget) or adds one to an object that is no longer floating.
template <typename T> class GRef {
  public:
    struct Adopt {};
    struct AddRef {};
    struct Sink {};
    static constexpr Adopt adopt{};
    static constexpr AddRef ref{};
    static constexpr Sink sink{};

    GRef() = default;
    GRef(T* p, Adopt /*unused*/) noexcept : p_(p) {}
    GRef(T* p, AddRef /*unused*/) noexcept
        : p_(p != nullptr ? static_cast<T*>(g_object_ref(p)) : nullptr) {}
    GRef(T* p, Sink /*unused*/) noexcept
        : p_(p != nullptr ? static_cast<T*>(g_object_ref_sink(p)) : nullptr) {}
    GRef(const GRef& other) noexcept : GRef(other.p_, ref) {}
    GRef(GRef&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    GRef& operator=(GRef other) noexcept {
        std::swap(p_, other.p_);
        return *this;
    }
    ~GRef() { reset(); }

    void reset() noexcept {
        if (T* old = std::exchange(p_, nullptr)) {
            g_object_unref(old);
        }
    }
    [[nodiscard]] T* get() const noexcept { return p_; }
    T* release() noexcept { return std::exchange(p_, nullptr); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

  private:
    T* p_ = nullptr;
};

template <typename T> GRef<T> adoptRef(T* p) {
    return GRef<T>(p, GRef<T>::adopt);
}
template <typename T> GRef<T> addRef(T* p) {
    return GRef<T>(p, GRef<T>::ref);
}
template <typename T> GRef<T> sinkRef(T* p) {
    return GRef<T>(p, GRef<T>::sink);
}

// Wraps a std::string's bytes as GBytes without copying: the string moves into the GBytes.
inline GBytesPtr bytesFromString(std::string&& s) {
    auto* owned = new std::string(std::move(s));
    return GBytesPtr(g_bytes_new_with_free_func(
        owned->data(), owned->size(), [](gpointer p) { delete static_cast<std::string*>(p); },
        owned));
}

} // namespace imagegen
