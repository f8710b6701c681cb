#include "dialog/parameter_form.h"

#include "core/service/service.h"
#include "core/util/i18n.h"
#include "dialog/gtk_util.h"
#include "dialog/imagegen_dialog.h"

#include <glib/gi18n-lib.h>

namespace imagegen::dialog {

ParameterForm::ParameterForm(ImagegenDialog* widgets, const DialogContext& context,
                             std::function<void()> onChange)
    : w_(widgets), ctx_(context), procedure_(context.spec->procedure),
      onChange_(std::move(onChange)),
      history_(PromptHistory::load(context.historyPath, &historyRefused_)) {
    options_ = std::make_unique<OptionRows>(w_->main_options_grid, w_->options_grid, procedure_,
                                            onChange_);
    if (procedure_ == Procedure::Expand) {
        gtk_widget_set_visible(w_->expand_frame, TRUE);
        expandRows_ = std::make_unique<ExpandRows>(w_->expand_grid, onChange_);
    }
    for (GtkComboBoxText* combo : {w_->connection_combo, w_->model_combo, w_->presets_combo}) {
        letShrink(GTK_COMBO_BOX(combo));
    }
    baseOptions_ = ctx_.initial.options;
    // Reference layers are named by ID, which means nothing in another image or session, and
    // the dialog has no control to show or change them: it never sends any.
    baseOptions_.references.clear();
    fillConnections(ctx_.initial.connection);
    fillModels(ctx_.initial.model);
    fillPresets();
    greyUnfitPresets();
    onHistorySearch();
    show(ctx_.initial);
}

// ------------------------------------------------------------------ what the controls offer

const Connection* ParameterForm::currentConnection() const {
    const std::string name = comboValue(w_->connection_combo);
    const ConnectionStore& store = ctx_.setup->connections;
    return name.empty() ? store.defaultConnection() : store.find(name);
}

const ModelCaps& ParameterForm::currentCaps() const {
    const GCharPtr typed(gtk_combo_box_text_get_active_text(w_->model_combo));
    const std::string model = typed ? g_strstrip(typed.get()) : "";
    // Where the run goes: the connection chosen or the saved default, else the environment's.
    Connection connection;
    if (const Connection* saved = currentConnection()) {
        connection = *saved;
    } else if (auto env = connectionFromEnvironment(ctx_.setup->env)) {
        connection = std::move(env->connection);
    }
    return capsFor(*ctx_.setup->catalog, connection, model);
}

// "Automatic" names where a run without a connection goes: the saved default, else the
// environment's connection, so the user sees which one is in use.
void ParameterForm::fillConnections(const std::string& keep) {
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
    fillCombo(w_->connection_combo, choices, keep);
}

void ParameterForm::refillConnections() {
    fillConnections(comboValue(w_->connection_combo));
}

// The models the connection offers: its deployments where it records them, else every model of
// the table that can do this procedure. The entry also takes a name typed by hand (an Azure
// deployment not recorded yet).
void ParameterForm::fillModels(const std::string& keep) {
    GtkComboBoxText* combo = w_->model_combo;
    gtk_combo_box_text_remove_all(combo);
    const Connection* saved = currentConnection();
    if (saved != nullptr && !saved->deployments.empty()) {
        for (const auto& d : saved->deployments) {
            gtk_combo_box_text_append(combo, d.name.c_str(), d.name.c_str());
        }
    } else {
        for (const auto& caps : ctx_.setup->catalog->models()) {
            if (procedure_ != Procedure::Edit || caps.edits) {
                gtk_combo_box_text_append(combo, caps.name.c_str(), caps.name.c_str());
            }
        }
    }
    GtkEntry* entry = GTK_ENTRY(gtk_bin_get_child(GTK_BIN(combo)));
    gtk_entry_set_text(entry, keep.c_str());
    std::string fallback = saved != nullptr ? saved->defaultModel : "";
    // TRANSLATORS: the model entry's placeholder: the model used when none is typed.
    fallback = textf(_("default: %s"), fallback.empty() ? "gpt-image-1" : fallback.c_str());
    gtk_entry_set_placeholder_text(entry, fallback.c_str());
}

// The presets of this procedure; one the model cannot honour is greyed, its reason after its
// title ("Product on a transparent background — dall-e-3 has no background choice").
void ParameterForm::fillPresets() {
    const ModelCaps& caps = currentCaps();
    Choices choices{{"", _("Choose a preset…")}};
    unfitPresets_.clear();
    for (const auto& preset : ctx_.presets) {
        if (!preset.appliesTo(procedure_)) {
            continue;
        }
        std::string label = _(preset.title.c_str());
        if (const auto unfit = presetUnfitFor(preset, caps)) {
            label += " — " + *unfit;
            unfitPresets_.insert(preset.id);
        }
        choices.emplace_back(preset.id, label);
    }
    fillCombo(w_->presets_combo, choices, "");
}

void ParameterForm::greyUnfitPresets() {
    GtkCellLayout* layout = GTK_CELL_LAYOUT(w_->presets_combo);
    const GListPtr cells(gtk_cell_layout_get_cells(layout));
    for (GList* c = cells.get(); c != nullptr; c = c->next) {
        gtk_cell_layout_set_cell_data_func(
            layout, GTK_CELL_RENDERER(c->data),
            +[](GtkCellLayout* /*layout*/, GtkCellRenderer* cell, GtkTreeModel* model,
                GtkTreeIter* iter, gpointer self) {
                gchar* id = nullptr;
                // GtkComboBoxText's columns: the text, then the ID.
                gtk_tree_model_get(model, iter, 1, &id, -1);
                const GCharPtr owned(id);
                const auto& unfit = static_cast<ParameterForm*>(self)->unfitPresets_;
                const bool greyed = id != nullptr && unfit.count(id) != 0;
                g_object_set(cell, "sensitive", greyed ? FALSE : TRUE, nullptr);
            },
            this, nullptr);
    }
}

// The history's list, filtered by the search entry.
void ParameterForm::onHistorySearch() {
    GtkListBox* list = w_->history_list;
    const GListPtr rows(gtk_container_get_children(GTK_CONTAINER(list)));
    for (GList* r = rows.get(); r != nullptr; r = r->next) {
        gtk_widget_destroy(GTK_WIDGET(r->data));
    }
    const char* query = gtk_entry_get_text(GTK_ENTRY(w_->history_search));
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

void ParameterForm::onHistoryRow(GtkListBoxRow* row) {
    const auto* text =
        static_cast<const char*>(g_object_get_data(G_OBJECT(row), "imagegen-prompt"));
    setText(w_->prompt_view, text != nullptr ? text : "");
    gtk_popover_popdown(w_->history_popover);
}

void ParameterForm::remember(const std::string& prompt) {
    history_.add(prompt);
    (void)history_.save(ctx_.historyPath); // losing the history is never worth an error
    onHistorySearch();
}

// ------------------------------------------------------------------ the parameters

void ParameterForm::show(const RunParameters& p) {
    setText(w_->prompt_view, p.prompt);
    options_->followModel(currentCaps());
    options_->show(p, false);
    if (expandRows_) {
        expandRows_->show(p);
    }
}

RunParameters ParameterForm::collect() const {
    RunParameters p;
    p.prompt = textOf(w_->prompt_view);
    p.connection = comboValue(w_->connection_combo);
    const GCharPtr model(gtk_combo_box_text_get_active_text(w_->model_combo));
    p.model = model ? g_strstrip(model.get()) : "";
    p.options = baseOptions_;
    options_->collect(p);
    if (expandRows_) {
        expandRows_->collect(p);
    }
    return p;
}

void ParameterForm::setCanvas(Size canvas) {
    if (expandRows_) {
        expandRows_->setCanvas(canvas);
    }
}

void ParameterForm::resetExpand() {
    if (expandRows_) {
        expandRows_->show(RunParameters{});
    }
}

void ParameterForm::focusPrompt() {
    gtk_widget_grab_focus(GTK_WIDGET(w_->prompt_view));
}

void ParameterForm::onConnectionChanged() {
    const GCharPtr model(gtk_combo_box_text_get_active_text(w_->model_combo));
    fillModels(model ? model.get() : "");
    onModelChanged();
}

void ParameterForm::onModelChanged() {
    options_->followModel(currentCaps());
    fillPresets(); // what the new model can honour
    onChange_();
}

std::string ParameterForm::onPresetChosen() {
    const std::string id = comboValue(w_->presets_combo);
    for (const auto& preset : ctx_.presets) {
        if (preset.id != id || unfitPresets_.count(id) != 0) {
            continue;
        }
        const RunParameters before = collect();
        RunParameters p;
        p.size = preset.size;
        p.quality = preset.quality;
        p.options.background = preset.background;
        p.options.inputFidelity = preset.inputFidelity;
        p.n = preset.n;
        p.context = preset.context;
        p.feather = preset.feather;
        promptBeforePreset_ = before.prompt;
        setText(w_->prompt_view, preset.prompt);
        selectPlaceholder();
        options_->show(p, true);
        onChange_();
        // Back to "Choose a preset…", so the same preset can be chosen again (that choice
        // matches no preset and changes nothing).
        gtk_combo_box_set_active(GTK_COMBO_BOX(w_->presets_combo), 0);
        return presetReport(before, collect());
    }
    return {};
}

// What a preset changed, for the status line, and how to take the prompt back.
std::string ParameterForm::presetReport(const RunParameters& before, const RunParameters& after) {
    std::string changed;
    const auto note = [&changed](bool differs, const char* what) {
        if (differs) {
            changed += std::string(changed.empty() ? "" : ", ") + what;
        }
    };
    note(before.size != after.size, _("size"));
    note(before.quality != after.quality, _("quality"));
    note(before.n != after.n, _("number of images"));
    note(before.options.background != after.options.background, _("background"));
    note(before.options.inputFidelity != after.options.inputFidelity, _("input fidelity"));
    note(before.context != after.context, _("context"));
    note(before.feather != after.feather, _("feather"));
    return changed.empty()
               ? std::string(_("The preset set the prompt; Ctrl+Z in the prompt brings back "
                               "yours."))
               : textf(_("The preset set the prompt and changed: %s. Ctrl+Z in the prompt "
                         "brings back your prompt."),
                       changed.c_str());
}

bool ParameterForm::undoPreset() {
    if (!promptBeforePreset_) {
        return false;
    }
    setText(w_->prompt_view, *promptBeforePreset_);
    promptBeforePreset_.reset();
    onChange_();
    return true;
}

// A preset's "[the product]" is for the user to replace: it is selected, so typing replaces it.
void ParameterForm::selectPlaceholder() {
    GtkTextBuffer* buffer = gtk_text_view_get_buffer(w_->prompt_view);
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
        gtk_widget_grab_focus(GTK_WIDGET(w_->prompt_view));
    }
}

} // namespace imagegen::dialog
