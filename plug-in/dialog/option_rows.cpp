#include "dialog/option_rows.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <algorithm>
#include <cmath>

namespace imagegen::dialog {

namespace {

constexpr const char* kCustomSize = "custom";
constexpr int kPartialImages = 2; // streamed previews asked for when streaming is on

std::string sizeLabel(const std::string& size) {
    if (size == "auto") {
        return _("Let the model choose");
    }
    const auto parsed = parseSize(size);
    if (!parsed) {
        return size;
    }
    const char* shape = parsed->width == parsed->height  ? _("square")
                        : parsed->width > parsed->height ? _("landscape")
                                                         : _("portrait");
    // TRANSLATORS: a size and its shape, e.g. "1536 × 1024 (landscape)".
    return textf(_("%d × %d (%s)"), parsed->width, parsed->height, shape);
}

std::string valueLabel(const std::string& value) {
    static const std::pair<const char*, const char*> kLabels[] = {
        {"auto", N_("Automatic")},
        {"low", N_("Low")},
        {"medium", N_("Medium")},
        {"high", N_("High")},
        {"standard", N_("Standard")},
        {"hd", N_("HD")},
        {"vivid", N_("Vivid")},
        {"natural", N_("Natural")},
        {"transparent", N_("Transparent")},
        {"opaque", N_("Opaque")},
        {"png", N_("PNG (lossless)")},
        {"jpeg", N_("JPEG")},
        {"webp", N_("WebP")},
    };
    for (const auto& [v, label] : kLabels) {
        if (value == v) {
            return _(label);
        }
    }
    return value;
}

// One default a choice, named by what it is ("Automatic (default)", "Standard (default)"), where
// the row once offered both "Default" and the value the default stands for. Unset ("") is what
// goes for it: the request leaves the field out, and the service takes `standsFor`.
Choices withDefault(const std::vector<std::string>& values, const std::string& standsFor) {
    // TRANSLATORS: a choice that is the default, e.g. "Automatic (default)".
    Choices choices{{"", textf(_("%s (default)"), valueLabel(standsFor).c_str())}};
    for (const auto& v : values) {
        if (v != standsFor) {
            choices.emplace_back(v, valueLabel(v));
        }
    }
    return choices;
}

// The API's default quality: "auto" where the model has it, else its first (dall-e-3: standard).
std::string defaultQuality(const std::vector<std::string>& qualities) {
    if (std::find(qualities.begin(), qualities.end(), "auto") != qualities.end() ||
        qualities.empty()) {
        return "auto";
    }
    return qualities.front();
}

void setSpin(GtkWidget* spin, double value) {
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), value);
}
int spinInt(GtkWidget* spin) {
    return gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(spin));
}
double spinValue(GtkWidget* spin) {
    return gtk_spin_button_get_value(GTK_SPIN_BUTTON(spin));
}
GtkComboBoxText* combo(GtkWidget* w) {
    return GTK_COMBO_BOX_TEXT(w);
}
// A value the row has no entry of its own for (the default's own name, "auto", from a script's
// last values) is the default.
void choose(GtkWidget* w, const std::string& value, bool onlySet) {
    if (!value.empty() || !onlySet) {
        if (gtk_combo_box_set_active_id(GTK_COMBO_BOX(w), value.c_str()) == FALSE) {
            gtk_combo_box_set_active_id(GTK_COMBO_BOX(w), "");
        }
    }
}

} // namespace

void OptionRows::Row::setShown(bool shown) const {
    gtk_widget_set_visible(label, shown ? TRUE : FALSE);
    gtk_widget_set_visible(widget, shown ? TRUE : FALSE);
}

bool OptionRows::Row::shown() const {
    return gtk_widget_get_visible(widget) != FALSE;
}

OptionRows::OptionRows(GtkGrid* main, GtkGrid* advanced, Procedure procedure,
                       std::function<void()> onChange)
    : grid_(main), procedure_(procedure), onChange_(std::move(onChange)) {
    size_ = addCombo(_("_Size:"), _("Size"));
    customSize_ = addCustomSize();
    images_ = addSpin(_("Num_ber of images:"), _("Images"), 1, 10, 1);
    grid_ = advanced;
    rows_ = 0;
    quality_ = addCombo(_("_Quality:"), _("Quality"));
    style_ = addCombo(_("St_yle:"), _("Style"));
    background_ = addCombo(_("Bac_kground:"), _("Background"));
    format_ = addCombo(_("Output _format:"), _("Output format"));
    compression_ = addSpin(_("Compression level (%):"), _("Compression"), 0, 100, 1);
    fidelity_ = addCombo(_("Inpu_t fidelity:"), _("Input fidelity"));
    moderation_ = addCombo(_("Mo_deration:"), _("Moderation"));
    user_ = add(_("_User:"), _("User"), gtk_entry_new());
    gtk_entry_set_placeholder_text(GTK_ENTRY(user_.widget),
                                   _("an ID for your end user (optional)"));
    context_ = addSpin(_("Conte_xt around the selection (%):"), _("Context"), 0, 200, 1);
    feather_ = addSpin(_("Feat_her the edge (px):"), _("Feather"), 0, 256, 1);
    sampleMerged_ =
        addCheck(_("Send the picture as you see it (sample merged)"), _("Sample merged"));
    gtk_widget_set_tooltip_text(sampleMerged_.widget,
                                _("On: every visible layer, merged, is sent, as GIMP's tools do "
                                  "with Sample merged. Off: only the layer that was active when "
                                  "the dialog opened."));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(sampleMerged_.widget), TRUE);
    matchColors_ = addCheck(_("Ad_just colours to match the surroundings"), _("Match colours"));
    stream_ = addCheck(_("Stream previe_ws while it draws"), _("Stream previews"));
    setSpin(images_.widget, 1);
    setSpin(compression_.widget, 100);
    setSpin(context_.widget, kDefaultContext * 100);
    setSpin(width_, 1024);
    setSpin(height_, 1024);
}

OptionRows::Row OptionRows::add(const char* label, const char* accessibleName, GtkWidget* widget) {
    GtkWidget* caption = attachRow(grid_, rows_++, label, accessibleName, widget);
    const char* signal = GTK_IS_SPIN_BUTTON(widget) ? "value-changed" : "changed";
    connectTo<&OptionRows::changed, &OptionRows::ignoreError>(widget, signal, this);
    return {caption, widget};
}

// A free size: width × height in one row, its caption's mnemonic on the width.
OptionRows::Row OptionRows::addCustomSize() {
    auto spin = [this](const char* name) {
        GtkWidget* s = gtk_spin_button_new_with_range(16, 3840, 16);
        gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(s), TRUE);
        gtk_spin_button_set_snap_to_ticks(GTK_SPIN_BUTTON(s), TRUE);
        gtk_widget_set_hexpand(s, TRUE);
        setAccessibleName(s, name);
        connectTo<&OptionRows::changed, &OptionRows::ignoreError>(s, "value-changed", this);
        return s;
    };
    width_ = spin(_("Width"));
    height_ = spin(_("Height"));
    GtkWidget* box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    gtk_container_add(GTK_CONTAINER(box), width_);
    gtk_container_add(GTK_CONTAINER(box), gtk_label_new("×"));
    gtk_container_add(GTK_CONTAINER(box), height_);
    gtk_widget_show_all(box);
    GtkWidget* caption = attachRow(grid_, rows_++, _("Custom si_ze:"), _("Custom size"), box);
    gtk_label_set_mnemonic_widget(GTK_LABEL(caption), width_);
    return {caption, box};
}

// A check box in the value column; its label is its own.
OptionRows::Row OptionRows::addCheck(const char* label, const char* accessibleName) {
    GtkWidget* check = gtk_check_button_new_with_mnemonic(label);
    setAccessibleName(check, accessibleName);
    Row row{gtk_label_new(""), check};
    gtk_grid_attach(grid_, row.label, 0, rows_, 1, 1);
    gtk_grid_attach(grid_, check, 1, rows_++, 1, 1);
    connectTo<&OptionRows::changed, &OptionRows::ignoreError>(check, "toggled", this);
    return row;
}

OptionRows::Row OptionRows::addCombo(const char* label, const char* accessibleName) {
    GtkWidget* widget = gtk_combo_box_text_new();
    letShrink(GTK_COMBO_BOX(widget));
    return add(label, accessibleName, widget);
}

OptionRows::Row OptionRows::addSpin(const char* label, const char* accessibleName, double lower,
                                    double upper, double step) {
    GtkWidget* spin = gtk_spin_button_new_with_range(lower, upper, step);
    gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(spin), TRUE);
    return add(label, accessibleName, spin);
}

void OptionRows::changed() {
    if (quiet_) {
        return;
    }
    showDependentRows();
    onChange_();
}

// Nothing a row's change runs can fail in a way the user could act on.
void OptionRows::ignoreError(const std::string& /*message*/) {}

void OptionRows::followModel(const ModelCaps& caps) {
    quiet_ = true;
    caps_ = &caps;
    const bool edit = procedure_ == Procedure::Edit;
    // Edit and Expand go to the edits endpoint, with its fields.
    const bool edits = edit || procedure_ == Procedure::Expand;
    Choices sizes{{"", edit ? _("Automatic: fits the region") : _("Automatic")}};
    for (const auto& s : caps.sizes) {
        sizes.emplace_back(s, sizeLabel(s));
    }
    if (caps.freeSizes) {
        sizes.emplace_back(kCustomSize, _("Custom size…"));
    }
    fillCombo(combo(size_.widget), sizes, comboValue(combo(size_.widget)));
    fillCombo(combo(quality_.widget), withDefault(caps.qualities, defaultQuality(caps.qualities)),
              comboValue(combo(quality_.widget)));
    fillCombo(combo(style_.widget), withDefault({"vivid", "natural"}, "vivid"),
              comboValue(combo(style_.widget)));
    fillCombo(combo(background_.widget), withDefault({"auto", "transparent", "opaque"}, "auto"),
              comboValue(combo(background_.widget)));
    fillCombo(combo(format_.widget), withDefault(caps.outputFormats, "png"),
              comboValue(combo(format_.widget)));
    fillCombo(combo(fidelity_.widget), withDefault({"low", "high"}, "low"),
              comboValue(combo(fidelity_.widget)));
    fillCombo(combo(moderation_.widget), withDefault({"auto", "low"}, "auto"),
              comboValue(combo(moderation_.widget)));
    gtk_spin_button_set_range(GTK_SPIN_BUTTON(images_.widget), 1, std::max(1, caps.maxN));
    if (caps.freeSizes) {
        for (GtkWidget* edge : {width_, height_}) {
            gtk_spin_button_set_increments(GTK_SPIN_BUTTON(edge), caps.freeSizes->multiple,
                                           caps.freeSizes->multiple * 16.0);
            gtk_spin_button_set_range(GTK_SPIN_BUTTON(edge), caps.freeSizes->multiple,
                                      caps.freeSizes->maxEdge);
        }
    }
    size_.setShown(true);
    images_.setShown(caps.maxN > 1);
    quality_.setShown(!caps.qualities.empty());
    style_.setShown(caps.style && !edits);
    background_.setShown(caps.background);
    format_.setShown(!caps.outputFormats.empty());
    fidelity_.setShown(caps.inputFidelity && edits);
    moderation_.setShown(caps.moderation && !edits);
    user_.setShown(true);
    context_.setShown(edit);
    feather_.setShown(edit);
    stream_.setShown(caps.streaming);
    matchColors_.setShown(edits); // an expand matches each tile
    sampleMerged_.setShown(edits);
    showDependentRows();
    quiet_ = false;
}

// Rows that depend on another row's value: the free size's width and height, and the
// compression of a lossy output format.
void OptionRows::showDependentRows() {
    const bool custom = comboValue(combo(size_.widget)) == kCustomSize;
    customSize_.setShown(custom);
    const std::string format = comboValue(combo(format_.widget));
    compression_.setShown(format_.shown() && (format == "jpeg" || format == "webp"));
}

void OptionRows::show(const RunParameters& p, bool onlySet) {
    const Options& o = p.options;
    quiet_ = true;
    const auto free = parseSize(p.size);
    const bool offered = caps_ != nullptr && (p.size.empty() || caps_->offersSize(p.size));
    if (free && caps_ != nullptr && caps_->freeSizes &&
        std::find(caps_->sizes.begin(), caps_->sizes.end(), p.size) == caps_->sizes.end()) {
        choose(size_.widget, kCustomSize, onlySet);
        setSpin(width_, free->width);
        setSpin(height_, free->height);
    } else if (offered) {
        choose(size_.widget, p.size, onlySet);
    }
    choose(quality_.widget, p.quality, onlySet);
    if (p.n > 0 || !onlySet) {
        setSpin(images_.widget, std::max(1, p.n));
    }
    choose(style_.widget, p.style, onlySet);
    choose(background_.widget, o.background, onlySet);
    choose(format_.widget, o.outputFormat, onlySet);
    if (o.outputCompression >= 0 || !onlySet) {
        setSpin(compression_.widget, o.outputCompression >= 0 ? o.outputCompression : 100);
    }
    choose(fidelity_.widget, o.inputFidelity, onlySet);
    choose(moderation_.widget, o.moderation, onlySet);
    if (!o.user.empty() || !onlySet) {
        gtk_entry_set_text(GTK_ENTRY(user_.widget), o.user.c_str());
    }
    if (p.context >= 0 || !onlySet) {
        setSpin(context_.widget, (p.context >= 0 ? p.context : kDefaultContext) * 100);
    }
    if (p.feather >= 0 || !onlySet) {
        setSpin(feather_.widget, p.feather >= 0 ? p.feather : kDefaultFeather);
    }
    if (!onlySet) {
        // The dialog sends the picture unless the user said otherwise (scripts, the layer).
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(sampleMerged_.widget),
                                     o.source != Options::kSourceLayer ? TRUE : FALSE);
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(stream_.widget), o.stream ? TRUE : FALSE);
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(matchColors_.widget),
                                     o.matchColors ? TRUE : FALSE);
    }
    showDependentRows();
    quiet_ = false;
}

std::string OptionRows::size() const {
    std::string chosen = comboValue(combo(size_.widget));
    if (chosen != kCustomSize) {
        return chosen;
    }
    return formatSize({spinInt(width_), spinInt(height_)});
}

void OptionRows::collect(RunParameters& p) const {
    const bool edit = procedure_ == Procedure::Edit;
    Options& o = p.options;
    p.size = size();
    p.quality = quality_.shown() ? comboValue(combo(quality_.widget)) : "";
    p.n = spinInt(images_.widget);
    p.style = style_.shown() ? comboValue(combo(style_.widget)) : "";
    o.background = background_.shown() ? comboValue(combo(background_.widget)) : "";
    o.outputFormat = format_.shown() ? comboValue(combo(format_.widget)) : "";
    o.outputCompression = compression_.shown() ? spinInt(compression_.widget) : -1;
    o.inputFidelity = fidelity_.shown() ? comboValue(combo(fidelity_.widget)) : "";
    o.moderation = moderation_.shown() ? comboValue(combo(moderation_.widget)) : "";
    o.user = gtk_entry_get_text(GTK_ENTRY(user_.widget));
    if (edit) {
        p.context = std::round(spinValue(context_.widget)) / 100.0;
        p.feather = spinValue(feather_.widget);
    }
    const bool stream =
        stream_.shown() && gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(stream_.widget)) != FALSE;
    o.stream = stream;
    if (sampleMerged_.shown()) {
        o.source = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(sampleMerged_.widget)) != FALSE
                       ? Options::kSourceVisible
                       : Options::kSourceLayer;
    }
    o.matchColors = !matchColors_.shown() ||
                    gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(matchColors_.widget)) != FALSE;
    o.partialImages = stream ? kPartialImages : -1;
}

} // namespace imagegen::dialog
