#include "dialog/connections_editor.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <utility>
#include <vector>

namespace imagegen::dialog {

namespace {

const std::pair<ConnectionKind, const char*> kKinds[] = {
    {ConnectionKind::Azure, N_("Azure OpenAI (deployments)")},
    {ConnectionKind::AzureV1, N_("Azure OpenAI (v1)")},
    {ConnectionKind::OpenAI, N_("OpenAI")},
    {ConnectionKind::Compatible, N_("Compatible server")},
};

std::string entryText(GtkWidget* entry) {
    std::string text = gtk_entry_get_text(GTK_ENTRY(entry));
    const GCharPtr stripped(g_strstrip(g_strdup(text.c_str())));
    return stripped.get();
}

// What each kind's endpoint looks like: the field's placeholder, and the line under it, which
// stays when the field is filled (and which a screen reader reads).
struct EndpointExample {
    const char* placeholder;
    const char* hint;
};

EndpointExample endpointExample(ConnectionKind kind) {
    switch (kind) {
    case ConnectionKind::Azure:
        return {"https://my-resource.openai.azure.com",
                N_("The resource's endpoint from the Azure portal, for example "
                   "https://my-resource.openai.azure.com.")};
    case ConnectionKind::AzureV1:
        return {"https://my-resource.openai.azure.com/openai/v1",
                N_("The resource's endpoint with /openai/v1, for example "
                   "https://my-resource.openai.azure.com/openai/v1.")};
    case ConnectionKind::OpenAI:
        return {kOpenAIBaseUrl, N_("OpenAI's own endpoint is https://api.openai.com/v1; left "
                                   "empty, that one is used.")};
    case ConnectionKind::Compatible:
        break;
    }
    return {"http://127.0.0.1:8080/v1",
            N_("The server's OpenAI-style base URL, for example https://images.example.com/v1, "
               "or http://127.0.0.1:8080/v1 for a server on this computer (plain http:// only "
               "there).")};
}

// The colours of the test's outcome: readable on GIMP's dark theme and on a light one.
constexpr const char* kOutcomeCss = ".imagegen-good { color: #26a269; }\n"
                                    ".imagegen-bad { color: #e01b24; }\n";

} // namespace

// The fields, from the layout (ui/connections-dialog.ui); `azureRows` are the captions and
// controls that only Azure's kinds use, hidden for the others.
struct ConnectionsEditor::Fields {
    GtkWidget* name = nullptr;
    GtkWidget* kind = nullptr;
    GtkWidget* endpoint = nullptr;
    GtkWidget* endpointHint = nullptr;
    GtkWidget* key = nullptr;
    GtkWidget* keyState = nullptr;
    GtkWidget* entra = nullptr;
    GtkWidget* apiVersion = nullptr;
    GtkWidget* deployments = nullptr;
    GtkWidget* defaultModel = nullptr;
    GtkWidget* caFile = nullptr;
    GtkWidget* isDefault = nullptr;
    std::vector<GtkWidget*> azureRows;
};

ConnectionsEditor::ConnectionsEditor(GtkWindow* parent, RunSetup* setup, std::string path,
                                     Callbacks callbacks, bool firstSetup)
    : setup_(setup), path_(std::move(path)), callbacks_(std::move(callbacks)),
      fields_(std::make_unique<Fields>()), http_(std::make_unique<HttpClient>(setup->http)) {
    builder_ = gtk_builder_new();
    gtk_builder_set_translation_domain(builder_, GETTEXT_PACKAGE);
    GErrorPtr error;
    if (gtk_builder_add_from_resource(builder_, "/org/gimp/imagegen/connections-dialog.ui",
                                      outPtr(error)) == 0) {
        g_error("the connections dialog's layout cannot be read: %s", error->message);
    }
    dialog_ = part(builder_, "dialog");
    gtk_window_set_transient_for(GTK_WINDOW(dialog_), parent);
    static const std::pair<const char*, const char*> kNames[] = {
        {"connection_list", N_("Saved connections")},
        {"add_button", N_("Add")},
        {"remove_button", N_("Remove")},
        {"save_button", N_("Save")},
        {"test_button", N_("Test connection")},
        {"close_button", N_("Close")},
        {"test_result", N_("Test result")},
        {"test_icon", N_("Test outcome")},
        {"key_storage", N_("Key storage")},
        {"name", N_("Name")},
        {"kind", N_("Kind")},
        {"endpoint", N_("Endpoint")},
        {"endpoint_hint", N_("Endpoint example")},
        {"key", N_("API key")},
        {"key_state", N_("Key status")},
        {"entra", N_("Use Entra ID")},
        {"api_version", N_("API version")},
        {"deployments", N_("Deployments")},
        {"default_model", N_("Default model")},
        {"ca_file", N_("CA file")},
        {"is_default", N_("Use by default")},
    };
    for (const auto& [id, name] : kNames) {
        setAccessibleName(part(builder_, id), _(name));
    }
    buildFields();
    connectSignals();
    fillList("");
    const auto& saved = setup_->connections.connections();
    showConnection(firstSetup || saved.empty() ? nullptr : &saved.front());
    checkKeyStorage();
    gtk_widget_show(dialog_);
    if (firstSetup) {
        // The short way through: kind, endpoint, key, then Test connection.
        sayResult(_("No connection is set up yet. Choose the kind of service, give its endpoint "
                    "and key, then Test connection and Save."),
                  Tone::Plain);
        gtk_widget_grab_focus(fields_->kind);
    }
}

ConnectionsEditor::~ConnectionsEditor() {
    // Calls still waiting drop their callbacks; their workers end by themselves, a write to the
    // keyring done whole.
    write_.reset();
    keyLookup_.reset();
    probe_.reset();
    lookup_.reset();
    http_.reset(); // a test in flight ends here, and its callback never runs
    closeConfirmation();
    if (dialog_ != nullptr) {
        gtk_widget_destroy(dialog_);
    }
    g_object_unref(builder_);
}

void ConnectionsEditor::present() {
    gtk_window_present(GTK_WINDOW(dialog_));
}

void ConnectionsEditor::buildFields() {
    Fields& f = *fields_;
    f.name = part(builder_, "name");
    f.kind = part(builder_, "kind");
    f.endpoint = part(builder_, "endpoint");
    f.endpointHint = part(builder_, "endpoint_hint");
    f.key = part(builder_, "key");
    f.keyState = part(builder_, "key_state");
    f.entra = part(builder_, "entra");
    f.apiVersion = part(builder_, "api_version");
    f.deployments = part(builder_, "deployments");
    f.defaultModel = part(builder_, "default_model");
    f.caFile = part(builder_, "ca_file");
    f.isDefault = part(builder_, "is_default");
    for (const char* id :
         {"entra", "api_version_label", "api_version", "deployments_label", "deployments"}) {
        f.azureRows.push_back(part(builder_, id));
    }
    Choices kinds;
    for (const auto& [kind, label] : kKinds) {
        kinds.emplace_back(connectionKindName(kind), _(label));
    }
    fillCombo(GTK_COMBO_BOX_TEXT(f.kind), kinds, "openai");
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.deployments),
                                   _("name=model, … (e.g. my-image=gpt-image-1)"));
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.name), _("optional: the endpoint's host"));
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.caFile),
                                   _("optional: a PEM file for a private certificate authority"));
    const GRef<GtkCssProvider> css = adoptRef(gtk_css_provider_new());
    gtk_css_provider_load_from_data(css.get(), kOutcomeCss, -1, nullptr);
    gtk_style_context_add_provider(gtk_widget_get_style_context(part(builder_, "test_result")),
                                   GTK_STYLE_PROVIDER(css.get()),
                                   GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

void ConnectionsEditor::connectSignals() {
    using E = ConnectionsEditor;
    connectTo<&E::addNew, &E::reportError>(part(builder_, "add_button"), "clicked", this);
    connectTo<&E::remove, &E::reportError>(part(builder_, "remove_button"), "clicked", this);
    connectTo<&E::save, &E::reportError>(part(builder_, "save_button"), "clicked", this);
    connectTo<&E::test, &E::reportError>(part(builder_, "test_button"), "clicked", this);
    connectTo<&E::followKind, &E::reportError>(fields_->kind, "changed", this);
    g_signal_connect_swapped(fields_->entra, "toggled", G_CALLBACK(+[](ConnectionsEditor* self) {
                                 guarded([self] { self->showKeyState(false); },
                                         [self](const std::string& m) { self->reportError(m); });
                             }),
                             this);
    // The window's close button hides it; the owner alone destroys it.
    g_signal_connect(dialog_, "delete-event", G_CALLBACK(gtk_widget_hide_on_delete), nullptr);
    g_signal_connect(part(builder_, "connection_list"), "row-selected",
                     G_CALLBACK(+[](GtkListBox*, GtkListBoxRow* row, ConnectionsEditor* self) {
                         if (row == nullptr) {
                             return;
                         }
                         const char* name = static_cast<const char*>(
                             g_object_get_data(G_OBJECT(row), "imagegen-connection"));
                         if (name != nullptr && self->editing_ != name) {
                             self->showConnection(self->setup_->connections.find(name));
                         }
                     }),
                     this);
    // Close, Escape and the window's close button all end here; the owner destroys the editor.
    g_signal_connect(dialog_, "response", G_CALLBACK(+[](GtkDialog*, int, ConnectionsEditor* self) {
                         gtk_widget_hide(self->dialog_);
                         guarded([self] { self->callbacks_.onClosed(); },
                                 [](const std::string&) {});
                     }),
                     this);
}

void ConnectionsEditor::fillList(const std::string& select) {
    GtkListBox* list = part<GtkListBox>(builder_, "connection_list");
    GListPtr rows(gtk_container_get_children(GTK_CONTAINER(list)));
    for (GList* r = rows.get(); r != nullptr; r = r->next) {
        gtk_widget_destroy(GTK_WIDGET(r->data));
    }
    for (const auto& c : setup_->connections.connections()) {
        GtkWidget* label = gtk_label_new(c.name.c_str());
        gtk_label_set_xalign(GTK_LABEL(label), 0.0F);
        GtkWidget* row = gtk_list_box_row_new();
        gtk_container_add(GTK_CONTAINER(row), label);
        g_object_set_data_full(G_OBJECT(row), "imagegen-connection", g_strdup(c.name.c_str()),
                               g_free);
        setAccessibleName(row, c.name.c_str());
        gtk_widget_show_all(row);
        gtk_list_box_insert(list, row, -1);
        if (c.name == select) {
            gtk_list_box_select_row(list, GTK_LIST_BOX_ROW(row));
        }
    }
}

// The fields of a saved connection, or empty ones for a new connection. A saved key is never
// shown: the key field stays empty, says that a key is stored, and an empty key field keeps the
// saved key.
void ConnectionsEditor::showConnection(const Connection* c) {
    const Connection blank;
    const Connection& shown = c != nullptr ? *c : blank;
    editing_ = c != nullptr ? c->name : "";
    const Fields& f = *fields_;
    gtk_entry_set_text(GTK_ENTRY(f.name), shown.name.c_str());
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(f.kind), connectionKindName(shown.kind));
    gtk_entry_set_text(GTK_ENTRY(f.endpoint), shown.endpoint.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.key), "");
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(f.entra),
                                 shown.auth == AuthMethod::EntraId ? TRUE : FALSE);
    gtk_entry_set_text(GTK_ENTRY(f.apiVersion), shown.apiVersion.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.deployments), formatDeploymentList(shown.deployments).c_str());
    gtk_entry_set_text(GTK_ENTRY(f.defaultModel), shown.defaultModel.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.caFile), shown.caFile.c_str());
    const Connection* d = setup_->connections.defaultConnection();
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(f.isDefault),
                                 c != nullptr && d != nullptr && d->name == c->name ? TRUE : FALSE);
    sayResult("", Tone::Plain);
    followKind(); // "changed" does not come when the kind shown stays the same
    showKeyState(false);
    if (c == nullptr) {
        gtk_list_box_unselect_all(part<GtkListBox>(builder_, "connection_list"));
        gtk_widget_grab_focus(f.kind);
    }
}

// Whether a key is kept for the connection shown: connections_keys.cpp.

Connection ConnectionsEditor::fromFields() const {
    const Fields& f = *fields_;
    Connection c;
    c.name = entryText(f.name);
    const std::string kind = comboValue(GTK_COMBO_BOX_TEXT(f.kind));
    c.kind = parseConnectionKind(kind).value_or(ConnectionKind::OpenAI);
    c.endpoint = entryText(f.endpoint);
    if (c.endpoint.empty() && c.kind == ConnectionKind::OpenAI) {
        c.endpoint = kOpenAIBaseUrl; // as the field's hint says
    }
    const bool entra = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(f.entra)) != FALSE;
    c.auth = entra             ? AuthMethod::EntraId
             : isAzure(c.kind) ? AuthMethod::ApiKeyHeader
                               : AuthMethod::BearerKey;
    c.apiVersion = entryText(f.apiVersion);
    if (c.kind == ConnectionKind::Azure && c.apiVersion.empty()) {
        c.apiVersion = kDefaultAzureApiVersion;
    }
    c.deployments = parseDeploymentList(entryText(f.deployments));
    c.defaultModel = entryText(f.defaultModel);
    c.caFile = entryText(f.caFile);
    if (c.name.empty()) {
        // A first setup need not think of a name: the endpoint's host says which one it is.
        const GUriPtr uri(g_uri_parse(c.endpoint.c_str(), G_URI_FLAGS_NONE, nullptr));
        const char* host = uri ? g_uri_get_host(uri.get()) : nullptr;
        const std::string base =
            host != nullptr && *host != '\0' ? host : connectionKindName(c.kind);
        c.name = base;
        for (int n = 2; c.name != editing_ && setup_->connections.find(c.name) != nullptr; ++n) {
            c.name = base + " (" + std::to_string(n) + ")";
        }
    }
    return c;
}

std::string ConnectionsEditor::typedKey() const {
    return entryText(fields_->key);
}

// The connection goes into connections.ini at once (a small local file: Close while the keyring
// works must not lose it); the key goes to the keyring off the main loop, with Save, Remove, Add,
// Test and the list insensitive until it is done.
void ConnectionsEditor::save() {
    const Connection c = fromFields();
    if (auto valid = checkServiceEndpoint(c.endpoint); !valid) {
        sayResult(valid.error().message, Tone::Bad);
        return;
    }
    if (c.name != editing_ && setup_->connections.find(c.name) != nullptr) {
        sayResult(_("A connection with this name exists already: choose another name, or pick "
                    "it in the list to edit it."),
                  Tone::Bad);
        return;
    }
    const std::string key = c.auth != AuthMethod::EntraId ? typedKey() : "";
    const std::string previous = editing_;
    const bool renamed = !previous.empty() && previous != c.name;
    if (renamed) {
        setup_->connections.remove(previous); // its key moves with it: saveConnectionKey
    }
    // The next run reads the key anew: it may have changed here.
    setup_->credentials.forget(c.name);
    setup_->credentials.forget(previous);
    setup_->connections.put(c);
    if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(fields_->isDefault)) != FALSE) {
        setup_->connections.setDefault(c.name);
    } else if (setup_->connections.defaultName() == c.name) {
        setup_->connections.setDefault("");
    }
    editing_ = c.name;
    if (auto written = setup_->connections.save(path_); !written) {
        sayResult(written.error().message, Tone::Bad);
        return;
    }
    if (key.empty() && !renamed) {
        saved(c, key, Ok{});
        return;
    }
    setBusy(true);
    sayResult(_("Saving the key in the keyring…"), Tone::Plain);
    write_ = saveConnectionKeyAsync(c.name, previous, key, [this, c, key](const Status& stored) {
        guarded([&] { saved(c, key, stored); }, [this](const std::string& m) { reportError(m); });
    });
}

// Save's end, once the keyring has the key.
void ConnectionsEditor::saved(const Connection& c, const std::string& key, const Status& stored) {
    setBusy(false);
    setup_->credentials.forget(c.name); // a run meanwhile may have found the key replaced here
    std::string keyNote;
    if (!stored) {
        keyNote = std::string(" ") + _("The key was NOT saved: no keyring (Secret Service) is "
                                       "running. Set OPENAI_API_KEY or AZURE_OPENAI_API_KEY in "
                                       "GIMP's environment instead.");
    }
    if (!key.empty() && typedKey() == key) { // not a key typed since
        gtk_entry_set_text(GTK_ENTRY(fields_->key), "");
    }
    fillList(c.name);
    gtk_entry_set_text(GTK_ENTRY(fields_->name), c.name.c_str());
    showKeyState(!key.empty() && stored.ok());
    sayResult(std::string(_("Saved.")) + keyNote, keyNote.empty() ? Tone::Good : Tone::Bad);
    callbacks_.onChanged();
}

// Remove, which asks first: connections_remove.cpp. Test connection: connections_test.cpp.

// Entra ID, the API version and deployments belong to Azure's kinds only: for the others their
// rows are hidden, not merely greyed, so that a new user sees only what the kind asks for. The
// endpoint's example follows the kind.
void ConnectionsEditor::followKind() {
    const Fields& f = *fields_;
    const ConnectionKind kind = parseConnectionKind(comboValue(GTK_COMBO_BOX_TEXT(f.kind)))
                                    .value_or(ConnectionKind::OpenAI);
    const gboolean azure = isAzure(kind) ? TRUE : FALSE;
    for (GtkWidget* w : f.azureRows) {
        gtk_widget_set_visible(w, azure);
    }
    if (azure == FALSE) {
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(f.entra), FALSE);
    }
    const EndpointExample example = endpointExample(kind);
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.endpoint), example.placeholder);
    gtk_label_set_text(GTK_LABEL(f.endpointHint), _(example.hint));
}

void ConnectionsEditor::addNew() {
    showConnection(nullptr);
}

void ConnectionsEditor::reportError(const std::string& message) {
    sayResult(message, Tone::Bad);
}

// Success and failure look different: a tick or a warning sign before the words, and the words
// in green or red; a screen reader hears the outcome in the icon's name.
void ConnectionsEditor::sayResult(const std::string& text, Tone tone) {
    say("test_result", text);
    GtkWidget* label = part(builder_, "test_result");
    GtkStyleContext* style = gtk_widget_get_style_context(label);
    gtk_style_context_remove_class(style, "imagegen-good");
    gtk_style_context_remove_class(style, "imagegen-bad");
    GtkImage* icon = part<GtkImage>(builder_, "test_icon");
    if (tone == Tone::Plain || text.empty()) {
        gtk_widget_hide(GTK_WIDGET(icon));
        return;
    }
    const bool good = tone == Tone::Good;
    gtk_style_context_add_class(style, good ? "imagegen-good" : "imagegen-bad");
    gtk_image_set_from_icon_name(icon, good ? "emblem-ok-symbolic" : "dialog-warning-symbolic",
                                 GTK_ICON_SIZE_BUTTON);
    setAccessibleDescription(GTK_WIDGET(icon), good ? _("Success") : _("Failure"));
    gtk_widget_show(GTK_WIDGET(icon));
}

void ConnectionsEditor::say(const char* label, const std::string& text) {
    gtk_label_set_text(part<GtkLabel>(builder_, label), text.c_str());
}

} // namespace imagegen::dialog
