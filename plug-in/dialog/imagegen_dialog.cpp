#include "dialog/imagegen_dialog.h"

#include "core/estimate.h"
#include "core/i18n.h"
#include "core/json_util.h"
#include "core/number_format.h"
#include "core/prompt_history.h"
#include "dialog/connections_editor.h"
#include "dialog/expand_rows.h"
#include "dialog/gtk_util.h"
#include "dialog/option_rows.h"

#include <gdk/gdkkeysyms.h>
#include <glib/gi18n-lib.h>
#include <gtk/gtk.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/gdkx.h>
#endif

#include <cmath>
#include <cstdio>
#include <memory>

namespace imagegen::dialog {

namespace {

constexpr int kThumbnailSide = 360;
constexpr int kResultThumbnailHeight = 96;
constexpr int kPreviewSide = 1024; // a result shown in the preview, at most
constexpr guint kTickMs = 100;
constexpr guint kPlanDelayMs = 120;
enum Response { kCancel = 1, kInsertAll = 2, kInsert = 3, kGenerate = 4 };

// "_Edit Selection…" → "Edit Selection"; translated, "Auswahl _bearbeiten …" → "Auswahl
// bearbeiten" and "選択範囲を編集(_E)…" → "選択範囲を編集" (a mnemonic in brackets goes whole).
std::string plainLabel(const char* menuLabel) {
    std::string text = _(menuLabel);
    if (const auto at = text.find("(_");
        at != std::string::npos && at + 3 < text.size() && text[at + 3] == ')') {
        text.erase(at, 4);
    }
    std::erase(text, '_');
    if (const auto dots = text.rfind("…"); dots != std::string::npos) {
        text.erase(dots);
    }
    while (!text.empty() && text.back() == ' ') {
        text.pop_back();
    }
    return text;
}

std::string usageText(const Usage& usage) {
    if (!usage.present) {
        return _("the service reported no token usage");
    }
    return textf(_("%s tokens (input %s, output %s)"), withThousands(usage.totalTokens).c_str(),
                 withThousands(usage.inputTokens).c_str(),
                 withThousands(usage.outputTokens).c_str());
}

// The results of one Generate: the run they came from and its layers, kept until the dialog
// closes so that any of them can be inserted.
struct Batch {
    PreparedRun run;
    std::vector<NewLayer> layers;
    // Expand: the picture as it was, shown under each result (whose layer is transparent there).
    GRef<GdkPixbuf> underlay;
};

// A result as the user will see it once inserted, at most `width` x `height`: an expand's
// border with the picture it surrounds.
GRef<GdkPixbuf> resultPicture(const Batch& batch, size_t index, int width, int height) {
    const GRef<GdkPixbuf> full = pixbufOf(batch.layers.at(index).pixels);
    GRef<GdkPixbuf> shown = fitted(full.get(), width, height, false);
    if (!shown || !batch.underlay || batch.run.procedure != Procedure::Expand) {
        return shown;
    }
    const double scale = static_cast<double>(gdk_pixbuf_get_width(shown.get())) /
                         std::max(1, batch.run.expand.canvas.width);
    const Rect o = batch.run.expand.original;
    const int x = static_cast<int>(std::lround(o.x * scale));
    const int y = static_cast<int>(std::lround(o.y * scale));
    const int w = std::min(static_cast<int>(std::lround(o.width * scale)),
                           gdk_pixbuf_get_width(shown.get()) - x);
    const int h = std::min(static_cast<int>(std::lround(o.height * scale)),
                           gdk_pixbuf_get_height(shown.get()) - y);
    if (w > 0 && h > 0) {
        gdk_pixbuf_composite(batch.underlay.get(), shown.get(), x, y, w, h, x, y,
                             static_cast<double>(w) / gdk_pixbuf_get_width(batch.underlay.get()),
                             static_cast<double>(h) / gdk_pixbuf_get_height(batch.underlay.get()),
                             GDK_INTERP_BILINEAR, 255);
    }
    return shown;
}

struct ResultItem {
    std::shared_ptr<const Batch> batch;
    size_t index = 0;
    GtkWidget* child = nullptr;
};

} // namespace

class ImagegenDialog {
  public:
    explicit ImagegenDialog(const DialogContext& context);
    ~ImagegenDialog();
    ImagegenDialog(const ImagegenDialog&) = delete;
    ImagegenDialog& operator=(const ImagegenDialog&) = delete;
    ImagegenDialog(ImagegenDialog&&) = delete;
    ImagegenDialog& operator=(ImagegenDialog&&) = delete;

    DialogOutcome run();

  private:
    void build();
    void nameControls();
    void connectSignals();
    void connectWindowSignals();
    void onActivated();
    void makeTransient();
    void fillConnections(const std::string& keep);
    void fillModels(const std::string& keep);
    void fillPresets();
    void fillHistory();
    void showParameters(const RunParameters& p);
    [[nodiscard]] RunParameters collect() const;
    [[nodiscard]] const ModelCaps& currentCaps() const;
    [[nodiscard]] const Connection* currentConnection() const;

    void onConnectionChanged();
    void onModelChanged();
    void onPresetChosen();
    void selectPlaceholder();
    void schedulePlan();
    void updatePlan();
    void refreshThumbnail();
    gboolean drawRegion(cairo_t* cr);
    void drawExpand(cairo_t* cr);
    gboolean drawPreview(cairo_t* cr);
    gboolean onPromptKey(const GdkEventKey* event);
    void onResponse(int response);

    void generate();
    void startExpand(Host& host, const PreparedRun& prepared, ImagesCallbacks callbacks);
    void onPartial(size_t request, int index, const std::string& bytes);
    void onDone(Result<ImagesResult> result);
    void onExpandDone(Result<std::vector<NewLayer>> result);
    void onFailed(const Error& error);
    void cancelRun();
    [[nodiscard]] bool runInFlight() const;
    void describePlan(const GeometryPlan& plan, const RunParameters& p, const ModelCaps& caps);
    void setRunning(bool running);
    void tick();
    void addResults(const std::shared_ptr<const Batch>& batch, const Usage& usage);
    void onResultsChosen();
    void showResult(size_t item);
    static std::string colorMatchNote(const Batch& batch);
    void insert(bool all);
    bool insertGroup(const std::vector<const ResultItem*>& group);
    void openConnections();

    void showError(const std::string& message);
    void clearError();
    void setStatus(const std::string& text);
    void close();

    const DialogContext& ctx_;
    const Procedure procedure_;
    GRef<GtkBuilder> builder_;
    GtkWidget* dialog_ = nullptr;
    GtkComboBoxText* connectionCombo_ = nullptr;
    GtkComboBoxText* modelCombo_ = nullptr;
    GtkTextView* prompt_ = nullptr;
    GtkComboBoxText* presetsCombo_ = nullptr;
    GtkWidget* regionView_ = nullptr;
    GtkWidget* preview_ = nullptr;
    GtkFlowBox* results_ = nullptr;
    std::unique_ptr<OptionRows> options_;
    std::unique_ptr<ExpandRows> expandRows_; // Expand only
    Options baseOptions_; // the options given at open, kept for the keys the dialog has no row for

    PromptHistory history_;
    GRef<GdkPixbuf> thumbnail_;
    Size canvas_;
    std::optional<GeometryPlan> plan_;
    GRef<GdkPixbuf> previewPixbuf_;
    std::vector<ResultItem> items_;
    DialogOutcome outcome_;
    GMainLoopPtr loop_;

    std::shared_ptr<PreparedRun> running_;
    gint64 startedUs_ = 0;
    int partialsShown_ = 0;
    int partialsExpected_ = 0;
    bool knownProgress_ = false;
    SourceId tick_;
    SourceId planUpdate_;
    std::unique_ptr<ConnectionsEditor> editor_;
    SourceId editorClosed_;
    GRef<GdkPixbuf> expandUnderlay_; // the picture an expand in flight grows
    // The expand whose insert last grew the canvas: more of its results go into that canvas.
    const Batch* grownBy_ = nullptr;
    // Last, so that they go first: their callbacks point at everything above.
    std::unique_ptr<PendingSend> pending_;
    std::unique_ptr<PendingExpand> pendingExpand_;
};

ImagegenDialog::ImagegenDialog(const DialogContext& context)
    : ctx_(context), procedure_(context.spec->procedure), loop_(g_main_loop_new(nullptr, FALSE)) {
    std::optional<Error> historyRefused;
    history_ = PromptHistory::load(context.historyPath, &historyRefused);
    build();
    if (historyRefused) {
        showError(historyRefused->message); // the dialog works without it; the user may fix it
    }
}

ImagegenDialog::~ImagegenDialog() {
    pendingExpand_.reset();
    pending_.reset();
    editor_.reset();
    tick_.reset();
    planUpdate_.reset();
    if (dialog_ != nullptr) {
        gtk_widget_destroy(dialog_);
    }
}

void ImagegenDialog::build() {
    builder_ = adoptRef(gtk_builder_new());
    gtk_builder_set_translation_domain(builder_.get(), GETTEXT_PACKAGE);
    GErrorPtr error;
    if (gtk_builder_add_from_resource(builder_.get(), "/org/gimp/imagegen/imagegen-dialog.ui",
                                      outPtr(error)) == 0) {
        g_error("the dialog's layout cannot be read: %s", error->message);
    }
    GtkBuilder* b = builder_.get();
    dialog_ = part(b, "dialog");
    connectionCombo_ = part<GtkComboBoxText>(b, "connection_combo");
    modelCombo_ = part<GtkComboBoxText>(b, "model_combo");
    prompt_ = part<GtkTextView>(b, "prompt_view");
    presetsCombo_ = part<GtkComboBoxText>(b, "presets_combo");
    regionView_ = part(b, "region_view");
    preview_ = part(b, "preview");
    results_ = part<GtkFlowBox>(b, "results");
    // TRANSLATORS: the dialog's title, e.g. "Edit Selection — Imagegen".
    const std::string title = textf(_("%s — Imagegen"), plainLabel(ctx_.spec->menuLabel).c_str());
    gtk_window_set_title(GTK_WINDOW(dialog_), title.c_str());
    options_ = std::make_unique<OptionRows>(part<GtkGrid>(b, "options_grid"), procedure_,
                                            [this] { schedulePlan(); });
    if (procedure_ == Procedure::Expand) {
        gtk_widget_set_visible(part(b, "expand_frame"), TRUE);
        expandRows_ = std::make_unique<ExpandRows>(part<GtkGrid>(b, "expand_grid"),
                                                   [this] { schedulePlan(); });
    }
    auto options = parseOptions(ctx_.initial.options);
    baseOptions_ = options ? *options : Options{};
    // Reference layers are named by ID, which means nothing in another image or session, and
    // the dialog has no control to show or change them: it never sends any.
    baseOptions_.references.clear();
    nameControls();
    fillConnections(ctx_.initial.connection);
    fillModels(ctx_.initial.model);
    fillPresets();
    fillHistory();
    showParameters(ctx_.initial);
    if (procedure_ == Procedure::NewImage) {
        gtk_widget_set_visible(regionView_, FALSE);
    }
    connectSignals();
    setAccessibleDescription(preview_, _("No result yet"));
    setStatus(_("Write a prompt, then Generate (Ctrl+Enter)."));
}

// The names a screen reader speaks; the GUI tests find the controls by them.
void ImagegenDialog::nameControls() {
    static const std::pair<const char*, const char*> kNames[] = {
        {"connection_combo", N_("Connection")},
        {"connections_button", N_("Connections…")},
        {"model_combo", N_("Model")},
        {"prompt_view", N_("Prompt")},
        {"presets_combo", N_("Presets")},
        {"history_button", N_("Prompt history")},
        {"history_search", N_("Search history")},
        {"history_list", N_("History")},
        {"region_view", N_("Region sent")},
        {"scale_note", N_("Scale note")},
        {"usage_estimate", N_("Estimated usage")},
        {"preview", N_("Preview")},
        {"progress", N_("Progress")},
        {"status", N_("Status")},
        {"results", N_("Results")},
        {"generate_button", N_("Generate")},
        {"cancel_button", N_("Cancel")},
        {"insert_button", N_("Insert")},
        {"insert_all_button", N_("Insert all")},
        {"close_button", N_("Close")},
    };
    for (const auto& [id, name] : kNames) {
        setAccessibleName(part(builder_.get(), id), _(name));
    }
    // Pictures: a screen reader says what they show through their description.
    atk_object_set_role(gtk_widget_get_accessible(preview_), ATK_ROLE_IMAGE);
    atk_object_set_role(gtk_widget_get_accessible(regionView_), ATK_ROLE_IMAGE);
    atk_object_set_role(gtk_widget_get_accessible(GTK_WIDGET(results_)), ATK_ROLE_LIST_BOX);
    gtk_widget_set_can_focus(preview_, TRUE);
}

void ImagegenDialog::connectSignals() {
    GtkBuilder* b = builder_.get();
    using D = ImagegenDialog;
    connectTo<&D::onConnectionChanged, &D::showError>(connectionCombo_, "changed", this);
    connectTo<&D::onModelChanged, &D::showError>(modelCombo_, "changed", this);
    connectTo<&D::onPresetChosen, &D::showError>(presetsCombo_, "changed", this);
    connectTo<&D::openConnections, &D::showError>(part(b, "connections_button"), "clicked", this);
    connectTo<&D::fillHistory, &D::showError>(part(b, "history_search"), "search-changed", this);
    connectTo<&D::onResultsChosen, &D::showError>(results_, "selected-children-changed", this);
    connectTo<&D::clearError, &D::showError>(part(b, "info_bar"), "response", this);
    g_signal_connect(
        part(b, "history_list"), "row-activated",
        G_CALLBACK(+[](GtkListBox*, GtkListBoxRow* row, ImagegenDialog* self) {
            const char* text =
                static_cast<const char*>(g_object_get_data(G_OBJECT(row), "imagegen-prompt"));
            setText(self->prompt_, text != nullptr ? text : "");
            gtk_popover_popdown(part<GtkPopover>(self->builder_.get(), "history_popover"));
        }),
        this);
    connectTo<&D::onActivated, &D::showError>(dialog_, "notify::is-active", this);
    connectWindowSignals();
    g_signal_connect(prompt_, "key-press-event",
                     G_CALLBACK(+[](GtkWidget*, GdkEventKey* e, ImagegenDialog* self) {
                         return self->onPromptKey(e);
                     }),
                     this);
    g_signal_connect(regionView_, "draw", G_CALLBACK(+[](GtkWidget*, cairo_t* cr, gpointer s) {
                         return static_cast<ImagegenDialog*>(s)->drawRegion(cr);
                     }),
                     this);
    g_signal_connect(preview_, "draw", G_CALLBACK(+[](GtkWidget*, cairo_t* cr, gpointer s) {
                         return static_cast<ImagegenDialog*>(s)->drawPreview(cr);
                     }),
                     this);
}

// The window's own signals: its buttons' responses, Escape, and the close button.
void ImagegenDialog::connectWindowSignals() {
    g_signal_connect(dialog_, "response", G_CALLBACK(+[](GtkDialog*, int r, ImagegenDialog* self) {
                         guarded([self, r] { self->onResponse(r); },
                                 [self](const std::string& m) { self->showError(m); });
                     }),
                     this);
    // Escape stops a run in flight rather than closing the dialog and its results.
    g_signal_connect(dialog_, "close", G_CALLBACK(+[](GtkDialog* dialog, ImagegenDialog* self) {
                         if (self->runInFlight()) {
                             self->cancelRun();
                             g_signal_stop_emission_by_name(dialog, "close");
                         }
                     }),
                     this);
    // The window's close button ends the dialog through its response; the owner alone destroys
    // the window.
    g_signal_connect(dialog_, "delete-event", G_CALLBACK(gtk_widget_hide_on_delete), nullptr);
}

// Back from the image window: the selection or the active layer may have changed.
void ImagegenDialog::onActivated() {
    if (gtk_window_is_active(GTK_WINDOW(dialog_)) != FALSE) {
        refreshThumbnail();
        schedulePlan();
    }
}

DialogOutcome ImagegenDialog::run() {
    if (ctx_.darkTheme) {
        g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", TRUE,
                     nullptr);
    }
    gtk_widget_realize(dialog_);
    makeTransient();
    refreshThumbnail();
    updatePlan();
    gtk_widget_show(dialog_);
    gtk_widget_grab_focus(GTK_WIDGET(prompt_));
    if (ctx_.onShown) {
        ctx_.onShown();
    }
    g_main_loop_run(loop_.get());
    return outcome_;
}

// The dialog stays above the image window it was opened from, as GIMP's own dialogs do.
void ImagegenDialog::makeTransient() {
#ifdef GDK_WINDOWING_X11
    GdkDisplay* display = gdk_display_get_default();
    if (ctx_.transientFor == 0 || !GDK_IS_X11_DISPLAY(display)) {
        return;
    }
    GdkWindow* parent = gdk_x11_window_foreign_new_for_display(display, ctx_.transientFor);
    if (parent != nullptr) {
        gdk_window_set_transient_for(gtk_widget_get_window(dialog_), parent);
        // GDK keeps a plain pointer to the parent: the dialog holds the reference.
        g_object_set_data_full(G_OBJECT(dialog_), "imagegen-parent-window", parent, g_object_unref);
    }
#endif
}

// ------------------------------------------------------------------ what the controls offer

const Connection* ImagegenDialog::currentConnection() const {
    const std::string name = comboValue(connectionCombo_);
    const ConnectionStore& store = ctx_.setup->connections;
    return name.empty() ? store.defaultConnection() : store.find(name);
}

// The model's capabilities as the run will resolve them (resolveService's rules), without
// fetching a credential: what the options offer.
const ModelCaps& ImagegenDialog::currentCaps() const {
    const ModelCatalog& catalog = *ctx_.setup->catalog;
    const GCharPtr typed(gtk_combo_box_text_get_active_text(modelCombo_));
    std::string model = typed ? g_strstrip(typed.get()) : "";
    const Connection* saved = currentConnection();
    if (model.empty() && saved != nullptr) {
        model = saved->defaultModel;
    }
    if (model.empty() && saved == nullptr) {
        if (auto env = connectionFromEnvironment(ctx_.setup->env)) {
            model = env->connection.defaultModel;
        }
    }
    const std::string recorded = saved != nullptr ? saved->recordedModel(model) : "";
    if (const ModelCaps* caps = catalog.find(recorded.empty() ? model : recorded)) {
        return *caps;
    }
    return catalog.familyOf(model.empty() ? "gpt-image-1" : model);
}

// "Automatic" names where a run without a connection goes: the saved default, else the
// environment's connection, so the user sees which one is in use.
void ImagegenDialog::fillConnections(const std::string& keep) {
    const ConnectionStore& store = ctx_.setup->connections;
    std::string automatic;
    if (const Connection* d = store.defaultConnection()) {
        automatic = textf(_("Automatic: %s"), d->name.c_str());
    } else if (auto env = connectionFromEnvironment(ctx_.setup->env)) {
        const GUriPtr uri(g_uri_parse(env->connection.endpoint.c_str(), G_URI_FLAGS_NONE, nullptr));
        const char* host = uri ? g_uri_get_host(uri.get()) : nullptr;
        automatic = host != nullptr ? textf(_("Automatic: the environment's connection (%s)"), host)
                                    : std::string(_("Automatic: the environment's connection"));
    } else {
        automatic = _("Automatic: none is set up yet (add one with Connections…)");
    }
    Choices choices{{"", automatic}};
    for (const auto& c : store.connections()) {
        choices.emplace_back(c.name, c.name);
    }
    fillCombo(connectionCombo_, choices, keep);
}

// The models the connection offers: its deployments where it records them, else every model of
// the table that can do this procedure. The entry also takes a name typed by hand (an Azure
// deployment not recorded yet).
void ImagegenDialog::fillModels(const std::string& keep) {
    gtk_combo_box_text_remove_all(modelCombo_);
    const Connection* saved = currentConnection();
    if (saved != nullptr && !saved->deployments.empty()) {
        for (const auto& d : saved->deployments) {
            gtk_combo_box_text_append(modelCombo_, d.name.c_str(), d.name.c_str());
        }
    } else {
        for (const auto& caps : ctx_.setup->catalog->models()) {
            if (procedure_ != Procedure::Edit || caps.edits) {
                gtk_combo_box_text_append(modelCombo_, caps.name.c_str(), caps.name.c_str());
            }
        }
    }
    GtkEntry* entry = GTK_ENTRY(gtk_bin_get_child(GTK_BIN(modelCombo_)));
    gtk_entry_set_text(entry, keep.c_str());
    std::string fallback = saved != nullptr ? saved->defaultModel : "";
    // TRANSLATORS: the model entry's placeholder: the model used when none is typed.
    fallback = textf(_("default: %s"), fallback.empty() ? "gpt-image-1" : fallback.c_str());
    gtk_entry_set_placeholder_text(entry, fallback.c_str());
}

void ImagegenDialog::fillPresets() {
    Choices choices{{"", _("Choose a preset…")}};
    for (const auto& preset : ctx_.presets) {
        if (preset.appliesTo(procedure_)) {
            choices.emplace_back(preset.id, _(preset.title.c_str()));
        }
    }
    fillCombo(presetsCombo_, choices, "");
}

void ImagegenDialog::fillHistory() {
    GtkListBox* list = part<GtkListBox>(builder_.get(), "history_list");
    GListPtr rows(gtk_container_get_children(GTK_CONTAINER(list)));
    for (GList* r = rows.get(); r != nullptr; r = r->next) {
        gtk_widget_destroy(GTK_WIDGET(r->data));
    }
    const char* query = gtk_entry_get_text(part<GtkEntry>(builder_.get(), "history_search"));
    for (const auto& prompt : history_.search(query)) {
        GtkWidget* label = gtk_label_new(prompt.c_str());
        gtk_label_set_xalign(GTK_LABEL(label), 0.0F);
        gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
        gtk_label_set_max_width_chars(GTK_LABEL(label), 60);
        GtkWidget* row = gtk_list_box_row_new();
        gtk_container_add(GTK_CONTAINER(row), label);
        g_object_set_data_full(G_OBJECT(row), "imagegen-prompt", g_strdup(prompt.c_str()), g_free);
        setAccessibleName(row, prompt.c_str());
        gtk_widget_show_all(row);
        gtk_list_box_insert(list, row, -1);
    }
}

void ImagegenDialog::showParameters(const RunParameters& p) {
    setText(prompt_, p.prompt);
    options_->followModel(currentCaps());
    options_->show(p, baseOptions_, false);
    if (expandRows_) {
        expandRows_->show(p);
    }
}

RunParameters ImagegenDialog::collect() const {
    RunParameters p;
    p.prompt = textOf(prompt_);
    p.connection = comboValue(connectionCombo_);
    const GCharPtr model(gtk_combo_box_text_get_active_text(modelCombo_));
    p.model = model ? g_strstrip(model.get()) : "";
    Options o = baseOptions_;
    options_->collect(p, o);
    if (expandRows_) {
        expandRows_->collect(p);
    }
    p.options = optionsToJson(o);
    return p;
}

void ImagegenDialog::onConnectionChanged() {
    const GCharPtr model(gtk_combo_box_text_get_active_text(modelCombo_));
    fillModels(model ? model.get() : "");
    onModelChanged();
}

void ImagegenDialog::onModelChanged() {
    options_->followModel(currentCaps());
    schedulePlan();
}

void ImagegenDialog::onPresetChosen() {
    const std::string id = comboValue(presetsCombo_);
    for (const auto& preset : ctx_.presets) {
        if (preset.id != id) {
            continue;
        }
        RunParameters p;
        p.size = preset.size;
        p.quality = preset.quality;
        p.background = preset.background;
        p.inputFidelity = preset.inputFidelity;
        p.n = preset.n;
        p.context = preset.context;
        p.feather = preset.feather;
        setText(prompt_, preset.prompt);
        selectPlaceholder();
        options_->show(p, Options{}, true);
        schedulePlan();
        // Back to "Choose a preset…", so the same preset can be chosen again (that choice
        // matches no preset and changes nothing).
        gtk_combo_box_set_active(GTK_COMBO_BOX(presetsCombo_), 0);
        return;
    }
}

// A preset's "[the product]" is for the user to replace: it is selected, so typing replaces it.
void ImagegenDialog::selectPlaceholder() {
    GtkTextBuffer* buffer = gtk_text_view_get_buffer(prompt_);
    GtkTextIter start;
    gtk_text_buffer_get_start_iter(buffer, &start);
    GtkTextIter open;
    GtkTextIter afterOpen;
    if (gtk_text_iter_forward_search(&start, "[", GTK_TEXT_SEARCH_TEXT_ONLY, &open, &afterOpen,
                                     nullptr) == FALSE) {
        return;
    }
    GtkTextIter close;
    GtkTextIter afterClose;
    if (gtk_text_iter_forward_search(&afterOpen, "]", GTK_TEXT_SEARCH_TEXT_ONLY, &close,
                                     &afterClose, nullptr) != FALSE) {
        gtk_text_buffer_select_range(buffer, &open, &afterClose);
        gtk_widget_grab_focus(GTK_WIDGET(prompt_));
    }
}

// ------------------------------------------------------------------ the plan before a run

void ImagegenDialog::schedulePlan() {
    planUpdate_.reset(g_timeout_add(
        kPlanDelayMs,
        +[](gpointer s) -> gboolean {
            auto* self = static_cast<ImagegenDialog*>(s);
            self->planUpdate_.forget();
            guarded([self] { self->updatePlan(); },
                    [self](const std::string& m) { self->showError(m); });
            return G_SOURCE_REMOVE;
        },
        this));
}

void ImagegenDialog::refreshThumbnail() {
    if (procedure_ == Procedure::NewImage) {
        return;
    }
    const std::unique_ptr<Host> host = ctx_.makeHost();
    auto geometry = host->inspect();
    if (geometry) {
        canvas_ = geometry->canvas;
        thumbnail_ = pixbufOf(host->thumbnail(kThumbnailSide));
        if (expandRows_) {
            expandRows_->setCanvas(canvas_);
        }
    }
    gtk_widget_queue_draw(regionView_);
}

// What the next Generate will send, from the model and the image's geometry: the region on the
// thumbnail, how much the result will be enlarged, and the estimated tokens.
void ImagegenDialog::updatePlan() {
    const RunParameters p = collect();
    const ModelCaps& caps = currentCaps();
    GtkLabel* scale = part<GtkLabel>(builder_.get(), "scale_note");
    GtkLabel* usage = part<GtkLabel>(builder_.get(), "usage_estimate");
    plan_.reset();
    GeometryPlan sizeOnly;
    sizeOnly.size = p.size;
    Result<GeometryPlan> plan = sizeOnly;
    if (procedure_ != Procedure::NewImage) {
        const std::unique_ptr<Host> host = ctx_.makeHost();
        auto geometry = host->inspect();
        plan = geometry ? planGeometry(procedure_, caps, p, *geometry)
                        : Result<GeometryPlan>(geometry.error());
    }
    if (!plan) {
        gtk_label_set_text(scale, plan.error().message.c_str());
        gtk_label_set_text(usage, "");
        gtk_widget_queue_draw(regionView_);
        return;
    }
    plan_ = *plan;
    describePlan(*plan, p, caps);
    gtk_widget_queue_draw(regionView_);
}

// The plan in words: where the results go, whether they are enlarged, and the estimated tokens.
void ImagegenDialog::describePlan(const GeometryPlan& plan, const RunParameters& p,
                                  const ModelCaps& caps) {
    GtkLabel* scale = part<GtkLabel>(builder_.get(), "scale_note");
    GtkLabel* usage = part<GtkLabel>(builder_.get(), "usage_estimate");
    const bool expand = procedure_ == Procedure::Expand;
    const int tiles = static_cast<int>(plan.expand.tiles.size());
    if (expand) {
        const Size c = plan.expand.canvas;
        const GCharPtr where(g_strdup_printf(
            _("The new canvas: %d × %d pixels, the picture at %d, %d; the border goes in %d tiles"),
            c.width, c.height, plan.expand.original.x, plan.expand.original.y, tiles));
        setAccessibleDescription(regionView_, where.get());
    } else if (procedure_ != Procedure::NewImage) {
        // What the thumbnail shows, in words.
        const Rect r = procedure_ == Procedure::Edit ? plan.edit.region : plan.target;
        const GCharPtr where(g_strdup_printf(_("The region sent: %d × %d pixels at %d, %d"),
                                             r.width, r.height, r.x, r.y));
        setAccessibleDescription(regionView_, where.get());
    }
    const double factor = upscaleFactor(procedure_, plan);
    GCharPtr note;
    if (expand) {
        note.reset(g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE,
                        "The border goes to the model as %d tile of %s, at full resolution.",
                        "The border goes to the model as %d tiles of %s, one after another, "
                        "each at full resolution.",
                        static_cast<unsigned long>(tiles)),
            tiles, plan.size.c_str()));
    } else if (!parseSize(plan.size)) { // "auto" or unset: the model decides
        note.reset(g_strdup(_("The model chooses the size it draws at; the result is scaled to "
                              "cover the region.")));
    } else if (factor > 1.01) {
        note.reset(g_strdup_printf(_("The model draws %s; the result will be enlarged %.1f× to "
                                     "cover the region, so fine detail may be soft."),
                                   plan.size.c_str(), factor));
    } else {
        note.reset(g_strdup_printf(_("The model draws %s: no enlargement."), plan.size.c_str()));
    }
    gtk_label_set_text(scale, note.get());
    const auto drawn = parseSize(plan.size);
    const bool streaming = p.options.find("\"stream\":true") != std::string::npos;
    // An expand sends one request per tile for each image asked for.
    const int images = std::max(1, p.n) * (expand ? std::max(1, tiles) : 1);
    const auto estimate =
        drawn ? estimateOutputTokens(caps, *drawn, p.quality, images, streaming ? 2 : 0)
              : std::nullopt;
    std::string text;
    if (estimate) {
        const std::string total = withThousands(estimate->total);
        const std::string each = withThousands(estimate->perImage);
        text = images <= 1 ? textf(_("Estimated cost: about %s output tokens"), total.c_str())
               : expand    ? textf(_("Estimated cost: about %s output tokens (%s per tile)"),
                                   total.c_str(), each.c_str())
                           : textf(_("Estimated cost: about %s output tokens (%s per image)"),
                                   total.c_str(), each.c_str());
    } else if (p.quality.empty() || p.quality == "auto") {
        text = _("Choose a quality (low, medium or high) to see the estimated tokens: with "
                 "automatic quality the service decides the cost.");
    } else {
        text = _("The model's table gives no token estimate for this size and quality.");
    }
    gtk_label_set_text(usage, text.c_str());
}

// The image's thumbnail with the region an edit sends (or the area a generation covers) outlined,
// and the selection's bounds inside it.
gboolean ImagegenDialog::drawRegion(cairo_t* cr) {
    if (!thumbnail_ || canvas_.width <= 0) {
        return FALSE;
    }
    if (procedure_ == Procedure::Expand && plan_) {
        drawExpand(cr);
        return FALSE;
    }
    const int width = gtk_widget_get_allocated_width(regionView_);
    const int height = gtk_widget_get_allocated_height(regionView_);
    const GRef<GdkPixbuf> shown = fitted(thumbnail_.get(), width, height, true);
    const int w = gdk_pixbuf_get_width(shown.get());
    const int h = gdk_pixbuf_get_height(shown.get());
    const double x0 = (width - w) / 2.0;
    const double y0 = (height - h) / 2.0;
    gdk_cairo_set_source_pixbuf(cr, shown.get(), x0, y0);
    cairo_paint(cr);
    if (!plan_) {
        return FALSE;
    }
    const double scale = static_cast<double>(w) / canvas_.width;
    const Rect r = procedure_ == Procedure::Edit ? plan_->edit.region : plan_->target;
    cairo_rectangle(cr, x0 + r.x * scale, y0 + r.y * scale, r.width * scale, r.height * scale);
    cairo_set_source_rgba(cr, 1.0, 0.75, 0.1, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_stroke(cr);
    if (procedure_ == Procedure::Edit) {
        const Rect a = plan_->edit.area;
        cairo_rectangle(cr, x0 + a.x * scale, y0 + a.y * scale, a.width * scale, a.height * scale);
        const double dashes[] = {4.0, 3.0};
        cairo_set_dash(cr, dashes, 2, 0);
        cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.9);
        cairo_set_line_width(cr, 1.0);
        cairo_stroke(cr);
    }
    return FALSE;
}

// Expand: the new canvas, its border shaded, the picture where it will stay, and the tiles the
// border goes in.
void ImagegenDialog::drawExpand(cairo_t* cr) {
    const ExpandPlan& e = plan_->expand;
    const int width = gtk_widget_get_allocated_width(regionView_);
    const int height = gtk_widget_get_allocated_height(regionView_);
    if (e.canvas.width <= 0 || e.canvas.height <= 0) {
        return;
    }
    const double scale = std::min(static_cast<double>(width) / e.canvas.width,
                                  static_cast<double>(height) / e.canvas.height);
    const double x0 = (width - e.canvas.width * scale) / 2.0;
    const double y0 = (height - e.canvas.height * scale) / 2.0;
    cairo_rectangle(cr, x0, y0, e.canvas.width * scale, e.canvas.height * scale);
    cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.35);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 1.0, 0.75, 0.1, 1.0);
    cairo_set_line_width(cr, 2.0);
    cairo_stroke(cr);
    const int w = std::max(1, static_cast<int>(std::lround(e.original.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(e.original.height * scale)));
    const GRef<GdkPixbuf> picture =
        adoptRef(gdk_pixbuf_scale_simple(thumbnail_.get(), w, h, GDK_INTERP_BILINEAR));
    gdk_cairo_set_source_pixbuf(cr, picture.get(), std::round(x0 + e.original.x * scale),
                                std::round(y0 + e.original.y * scale));
    cairo_paint(cr);
    const double dashes[] = {4.0, 3.0};
    cairo_set_dash(cr, dashes, 2, 0);
    cairo_set_source_rgba(cr, 1.0, 1.0, 1.0, 0.8);
    cairo_set_line_width(cr, 1.0);
    for (const Rect& t : e.tiles) {
        // Tiles may reach past the canvas; only the part on it is drawn.
        const int left = std::max(0, t.x);
        const int top = std::max(0, t.y);
        const int right = std::min(e.canvas.width, t.x + t.width);
        const int bottom = std::min(e.canvas.height, t.y + t.height);
        cairo_rectangle(cr, x0 + left * scale, y0 + top * scale, (right - left) * scale,
                        (bottom - top) * scale);
    }
    cairo_stroke(cr);
}

gboolean ImagegenDialog::drawPreview(cairo_t* cr) {
    if (!previewPixbuf_) {
        return FALSE;
    }
    const int width = gtk_widget_get_allocated_width(preview_);
    const int height = gtk_widget_get_allocated_height(preview_);
    const GRef<GdkPixbuf> shown = fitted(previewPixbuf_.get(), width, height, false);
    gdk_cairo_set_source_pixbuf(cr, shown.get(), (width - gdk_pixbuf_get_width(shown.get())) / 2.0,
                                (height - gdk_pixbuf_get_height(shown.get())) / 2.0);
    cairo_paint(cr);
    return FALSE;
}

gboolean ImagegenDialog::onPromptKey(const GdkEventKey* event) {
    const bool enter = event->keyval == GDK_KEY_Return || event->keyval == GDK_KEY_KP_Enter;
    if (enter && (event->state & GDK_CONTROL_MASK) != 0) {
        guarded([this] { generate(); }, [this](const std::string& m) { showError(m); });
        return TRUE;
    }
    return FALSE;
}

void ImagegenDialog::onResponse(int response) {
    switch (response) {
    case kGenerate:
        generate();
        break;
    case kCancel:
        cancelRun();
        break;
    case kInsert:
        insert(false);
        break;
    case kInsertAll:
        insert(true);
        break;
    default: // Close, Escape, the window's close button
        close();
        break;
    }
}

// ------------------------------------------------------------------ running

void ImagegenDialog::generate() {
    if (running_) {
        return;
    }
    clearError();
    const RunParameters p = collect();
    const std::unique_ptr<Host> host = ctx_.makeHost();
    auto prepared = prepareRun(procedure_, p, *ctx_.setup, *host);
    refreshThumbnail();
    schedulePlan();
    if (!prepared) {
        showError(prepared.error().message);
        return;
    }
    history_.add(p.prompt);
    (void)history_.save(ctx_.historyPath); // losing the history is never worth an error
    fillHistory();
    outcome_.lastRun = p;
    running_ = std::make_shared<PreparedRun>(std::move(*prepared));
    partialsShown_ = 0;
    partialsExpected_ = running_->partialsPerImage * std::max(1, running_->request.n);
    knownProgress_ = false;
    ImagesCallbacks callbacks;
    callbacks.onPartial = [this](size_t request, int index, const std::string& bytes) {
        guarded([&] { onPartial(request, index, bytes); },
                [this](const std::string& m) { showError(m); });
    };
    callbacks.onProgress = [this](size_t finished, size_t total) {
        knownProgress_ = true;
        gtk_progress_bar_set_fraction(part<GtkProgressBar>(builder_.get(), "progress"),
                                      static_cast<double>(finished) / static_cast<double>(total));
    };
    pending_.reset(); // the last run's, long finished
    pendingExpand_.reset();
    setRunning(true);
    // Starting allocates (an expand holds the picture and a canvas per result): if it throws,
    // the dialog must not stay "running" with nothing in flight.
    try {
        if (procedure_ == Procedure::Expand) {
            startExpand(*host, *running_, std::move(callbacks));
            return;
        }
        pending_ = std::make_unique<PendingSend>(
            *running_, *ctx_.setup, std::move(callbacks), [this](Result<ImagesResult> r) {
                guarded([&] { onDone(std::move(r)); },
                        [this](const std::string& m) { showError(m); });
            });
    } catch (...) {
        running_.reset();
        expandUnderlay_.reset();
        setRunning(false);
        throw;
    }
}

// The tiles go one after another; the picture they grow is read now, as it is at Generate.
void ImagegenDialog::startExpand(Host& host, const PreparedRun& prepared,
                                 ImagesCallbacks callbacks) {
    // Sharper than the thumbnail: the results are previewed with it under them.
    expandUnderlay_ = pixbufOf(host.thumbnail(kPreviewSide));
    partialsExpected_ = 0; // a tile's partial images are not the result's
    pendingExpand_ = std::make_unique<PendingExpand>(
        prepared, readExpandOriginal(prepared, host), *ctx_.setup, std::move(callbacks),
        [this](Result<std::vector<NewLayer>> r) {
            guarded([&] { onExpandDone(std::move(r)); },
                    [this](const std::string& m) { showError(m); });
        });
}

bool ImagegenDialog::runInFlight() const {
    return running_ && (pending_ || pendingExpand_);
}

void ImagegenDialog::cancelRun() {
    if (pending_) {
        pending_->cancel();
    }
    if (pendingExpand_) {
        pendingExpand_->cancel();
    }
}

void ImagegenDialog::onPartial(size_t /*request*/, int /*index*/, const std::string& bytes) {
    auto image =
        decodeResult(bytes, resultPixelLimit(*running_->service.caps, running_->request.size));
    if (!image) {
        return; // a broken partial image is only a preview: the final image decides
    }
    previewPixbuf_ = pixbufOf(*image);
    gtk_widget_queue_draw(preview_);
    ++partialsShown_;
    const GCharPtr description(g_strdup_printf(_("Partial image %d of %d"), partialsShown_,
                                               std::max(partialsShown_, partialsExpected_)));
    setAccessibleDescription(preview_, description.get());
    knownProgress_ = true;
    if (partialsExpected_ > 0) {
        gtk_progress_bar_set_fraction(
            part<GtkProgressBar>(builder_.get(), "progress"),
            std::min(1.0, static_cast<double>(partialsShown_) / (partialsExpected_ + 1)));
    }
    if (g_strcmp0(g_getenv("IMAGEGEN_TIMINGS"), "1") == 0) {
        std::fprintf(stderr, "imagegen: partial image %d shown at %.6f\n", partialsShown_,
                     static_cast<double>(g_get_real_time()) / 1e6);
    }
}

// A run that ended without results: cancelled, or failed.
void ImagegenDialog::onFailed(const Error& error) {
    if (error.kind == ErrorKind::Cancelled) {
        setStatus(_("Cancelled: nothing was added to the image."));
        setAccessibleDescription(preview_, _("No result yet"));
        return;
    }
    setStatus(_("Failed."));
    showError(error.message);
}

void ImagegenDialog::onExpandDone(Result<std::vector<NewLayer>> result) {
    const std::shared_ptr<PreparedRun> run = std::move(running_);
    setRunning(false);
    if (!result) {
        onFailed(result.error());
        return;
    }
    auto batch = std::make_shared<Batch>(Batch{*run, std::move(*result), expandUnderlay_});
    expandUnderlay_.reset();
    const Usage usage = pendingExpand_ ? pendingExpand_->usage() : Usage{};
    // Its canvases are copies of the results now held by the batch (done may destroy it).
    pendingExpand_.reset();
    addResults(batch, usage);
}

void ImagegenDialog::onDone(Result<ImagesResult> result) {
    const std::shared_ptr<PreparedRun> run = std::move(running_);
    setRunning(false);
    if (!result) {
        onFailed(result.error());
        return;
    }
    auto layers = layersFromAnswers(*run, *result, ctx_.setup->nowUnix());
    if (!layers) {
        setStatus(_("Failed."));
        showError(layers.error().message);
        return;
    }
    auto batch = std::make_shared<Batch>(Batch{*run, std::move(*layers), {}});
    // Inserting needs only the parameters and the layers: the encoded upload goes now, so the
    // dialog does not grow by an upload at every Generate.
    batch->run.request.images.clear();
    batch->run.request.mask.reset();
    batch->run.requests.clear();
    batch->run.coverage.clear();
    batch->run.kept = {};
    addResults(batch, result->usage);
}

void ImagegenDialog::setRunning(bool running) {
    GtkBuilder* b = builder_.get();
    gtk_widget_set_sensitive(part(b, "generate_button"), running ? FALSE : TRUE);
    gtk_widget_set_sensitive(part(b, "cancel_button"), running ? TRUE : FALSE);
    GtkProgressBar* progress = part<GtkProgressBar>(b, "progress");
    gtk_progress_bar_set_fraction(progress, 0.0);
    if (running) {
        startedUs_ = g_get_monotonic_time();
        tick();
        tick_.reset(g_timeout_add(
            kTickMs,
            +[](gpointer s) -> gboolean {
                static_cast<ImagegenDialog*>(s)->tick();
                return G_SOURCE_CONTINUE;
            },
            this));
    } else {
        tick_.reset();
    }
}

// Elapsed time, and a pulsing bar until something is known of the progress.
void ImagegenDialog::tick() {
    if (!knownProgress_) {
        gtk_progress_bar_pulse(part<GtkProgressBar>(builder_.get(), "progress"));
    }
    const auto seconds = static_cast<int>((g_get_monotonic_time() - startedUs_) / 1'000'000);
    const char* model = running_ ? running_->service.model.c_str() : "";
    const GCharPtr text(
        pendingExpand_
            ? g_strdup_printf(_("Painting tile %d of %d with %s… %d s"),
                              static_cast<int>(std::min(pendingExpand_->tilesDone() + 1,
                                                        pendingExpand_->tileCount())),
                              static_cast<int>(pendingExpand_->tileCount()), model, seconds)
            : g_strdup_printf(_("Waiting for %s… %d s"), model, seconds));
    setStatus(text.get());
}

void ImagegenDialog::addResults(const std::shared_ptr<const Batch>& batch, const Usage& usage) {
    const size_t first = items_.size();
    for (size_t i = 0; i < batch->layers.size(); ++i) {
        ResultItem item{batch, i, nullptr};
        const GRef<GdkPixbuf> small =
            resultPicture(*batch, i, kResultThumbnailHeight * 3, kResultThumbnailHeight);
        GtkWidget* image = gtk_image_new_from_pixbuf(small.get());
        item.child = gtk_flow_box_child_new();
        gtk_container_add(GTK_CONTAINER(item.child), image);
        const std::string name = textf(_("Result %zu"), items_.size() + 1);
        setAccessibleName(item.child, name.c_str());
        gtk_widget_set_tooltip_text(item.child, batch->run.parameters.prompt.c_str());
        gtk_widget_show_all(item.child);
        gtk_flow_box_insert(results_, item.child, -1);
        items_.push_back(std::move(item));
    }
    gtk_widget_set_sensitive(part(builder_.get(), "insert_all_button"),
                             items_.empty() ? FALSE : TRUE);
    if (first < items_.size()) {
        gtk_flow_box_unselect_all(results_);
        gtk_flow_box_select_child(results_, GTK_FLOW_BOX_CHILD(items_[first].child));
    }
    const auto seconds = static_cast<double>(g_get_monotonic_time() - startedUs_) / 1e6;
    const GCharPtr text(
        g_strdup_printf(_("Done in %.1f s · %s"), seconds, usageText(usage).c_str()));
    setStatus(text.get() + colorMatchNote(*batch));
}

// The Insert button follows the choice, and the preview shows the result chosen first.
void ImagegenDialog::onResultsChosen() {
    const GListPtr chosen(gtk_flow_box_get_selected_children(results_));
    gtk_widget_set_sensitive(part(builder_.get(), "insert_button"), chosen ? TRUE : FALSE);
    if (chosen) {
        showResult(
            static_cast<size_t>(gtk_flow_box_child_get_index(GTK_FLOW_BOX_CHILD(chosen->data))));
    }
}

// What colour matching did to the first result, from its parasite: the user sees why an edge
// may still show a step.
std::string ImagegenDialog::colorMatchNote(const Batch& batch) {
    if (batch.layers.empty()) {
        return {};
    }
    auto parasite = json::parseObject(batch.layers.front().parasite);
    JsonObject* match = parasite ? json::object(parasite->root(), "color_match") : nullptr;
    const std::string outcome = json::string(match, "outcome").value_or("");
    if (outcome == "applied") {
        return std::string(" · ") + _("colours matched to the surroundings");
    }
    if (outcome == "declined") {
        return std::string(" · ") + textf(_("colours left as drawn: %s"),
                                          json::string(match, "reason").value_or("").c_str());
    }
    return {};
}

void ImagegenDialog::showResult(size_t item) {
    if (item >= items_.size()) {
        return;
    }
    // Made when shown, not kept: a result's pixels are already held once, in its layer.
    const ResultItem& shown = items_[item];
    previewPixbuf_ = resultPicture(*shown.batch, shown.index, kPreviewSide, kPreviewSide);
    gtk_widget_queue_draw(preview_);
    const std::string description = textf(_("Result %zu"), item + 1);
    setAccessibleDescription(preview_, description);
}

// The chosen results (or all) go into the image as one undo step, through the run's own insert.
void ImagegenDialog::insert(bool all) {
    clearError();
    std::vector<const ResultItem*> chosen;
    if (all) {
        for (const auto& item : items_) {
            chosen.push_back(&item);
        }
    } else {
        GListPtr selected(gtk_flow_box_get_selected_children(results_));
        for (GList* c = selected.get(); c != nullptr; c = c->next) {
            const int index = gtk_flow_box_child_get_index(GTK_FLOW_BOX_CHILD(c->data));
            chosen.push_back(&items_.at(static_cast<size_t>(index)));
        }
    }
    if (chosen.empty()) {
        return;
    }
    // An expand's results go in with their own run, which knows the canvas they were made for:
    // the chosen ones of each Generate together. Other results carry their own place.
    std::vector<std::vector<const ResultItem*>> groups;
    for (const ResultItem* item : chosen) {
        if (groups.empty() ||
            (procedure_ == Procedure::Expand && groups.back().front()->batch != item->batch)) {
            groups.emplace_back();
        }
        groups.back().push_back(item);
    }
    size_t count = 0;
    for (const auto& group : groups) {
        if (!insertGroup(group)) {
            break;
        }
        count += group.size();
    }
    if (count > 0) {
        const GCharPtr text(g_strdup_printf(
            g_dngettext(GETTEXT_PACKAGE, "Inserted %d layer (one undo step).",
                        "Inserted %d layers (one undo step).", static_cast<unsigned long>(count)),
            static_cast<int>(count)));
        const GCharPtr steps(g_strdup_printf(_("Inserted %d layers in %d undo steps."),
                                             static_cast<int>(count),
                                             static_cast<int>(groups.size())));
        setStatus(groups.size() > 1 ? steps.get() : text.get());
    }
    refreshThumbnail();
    schedulePlan();
}

// One Generate's chosen results, as one undo step; false (the error shown) when refused.
bool ImagegenDialog::insertGroup(const std::vector<const ResultItem*>& group) {
    const Batch* batch = group.front()->batch.get();
    std::vector<NewLayer> layers;
    for (const ResultItem* item : group) {
        layers.push_back(item->batch->layers[item->index]);
        layers.back().visible = layers.size() == 1;
    }
    PreparedRun run = batch->run;
    run.expandCanvasGrown = grownBy_ == batch;
    const std::unique_ptr<Host> host = ctx_.makeHost();
    auto inserted = insertResults(run, layers, *host);
    if (!inserted) {
        showError(inserted.error().message);
        return false;
    }
    if (procedure_ == Procedure::Expand) {
        grownBy_ = batch;
    }
    outcome_.insertedAny = true;
    outcome_.inserted.layers.insert(outcome_.inserted.layers.end(), inserted->layers.begin(),
                                    inserted->layers.end());
    if (inserted->image >= 0) {
        outcome_.inserted.image = inserted->image;
    }
    return true;
}

void ImagegenDialog::openConnections() {
    if (editor_) {
        editorClosed_.reset(); // reopened before its closing went through
        editor_->present();
        return;
    }
    editor_ = std::make_unique<ConnectionsEditor>(
        GTK_WINDOW(dialog_), ctx_.setup, ctx_.connectionsPath, [this] {
            // Closed: the editor goes once its own callback has returned.
            editorClosed_.reset(g_idle_add(
                +[](gpointer s) -> gboolean {
                    auto* self = static_cast<ImagegenDialog*>(s);
                    self->editorClosed_.forget();
                    self->editor_.reset();
                    guarded([self] { self->fillConnections(comboValue(self->connectionCombo_)); },
                            [self](const std::string& m) { self->showError(m); });
                    return G_SOURCE_REMOVE;
                },
                this));
        });
}

// ------------------------------------------------------------------ messages

// One message at a time, in the info bar: the newest replaces the last, so nothing is said twice.
void ImagegenDialog::showError(const std::string& message) {
    GtkWidget* bar = part(builder_.get(), "info_bar");
    gtk_label_set_text(part<GtkLabel>(builder_.get(), "info_label"), message.c_str());
    gtk_info_bar_set_message_type(GTK_INFO_BAR(bar), GTK_MESSAGE_ERROR);
    gtk_widget_show(bar);
}

void ImagegenDialog::clearError() {
    GtkWidget* bar = part(builder_.get(), "info_bar");
    gtk_label_set_text(part<GtkLabel>(builder_.get(), "info_label"), "");
    gtk_widget_hide(bar);
}

void ImagegenDialog::setStatus(const std::string& text) {
    gtk_label_set_text(part<GtkLabel>(builder_.get(), "status"), text.c_str());
}

// Closing cancels a run in flight: its connections close now, and no callback of it runs.
void ImagegenDialog::close() {
    pendingExpand_.reset();
    expandUnderlay_.reset();
    pending_.reset();
    running_.reset();
    tick_.reset();
    gtk_widget_hide(dialog_);
    g_main_loop_quit(loop_.get());
}

DialogOutcome runDialog(const DialogContext& context) {
    static bool initialised = false;
    if (!initialised) {
        // GIMP 2.10 draws through X11 (XWayland on a Wayland desktop): the dialog must too, to be
        // transient for its image window.
        gdk_set_allowed_backends("x11");
        gtk_init(nullptr, nullptr);
        initialised = true;
    }
    ImagegenDialog dialog(context);
    return dialog.run();
}

} // namespace imagegen::dialog
