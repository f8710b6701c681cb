#include "dialog/connections_editor.h"

#include "core/service/secret_store.h"
#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

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

} // namespace

struct ConnectionsEditor::Fields {
    GtkWidget* name = nullptr;
    GtkWidget* kind = nullptr;
    GtkWidget* endpoint = nullptr;
    GtkWidget* key = nullptr;
    GtkWidget* entra = nullptr;
    GtkWidget* apiVersion = nullptr;
    GtkWidget* deployments = nullptr;
    GtkWidget* defaultModel = nullptr;
    GtkWidget* caFile = nullptr;
    GtkWidget* isDefault = nullptr;
};

ConnectionsEditor::ConnectionsEditor(GtkWindow* parent, RunSetup* setup, std::string path,
                                     std::function<void()> onClosed)
    : setup_(setup), path_(std::move(path)), onClosed_(std::move(onClosed)),
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
        {"key_storage", N_("Key storage")},
    };
    for (const auto& [id, name] : kNames) {
        setAccessibleName(part(builder_, id), _(name));
    }
    buildFields();
    connectSignals();
    fillList("");
    showConnection(setup_->connections.connections().empty()
                       ? nullptr
                       : &setup_->connections.connections().front());
    checkKeyStorage();
    gtk_widget_show(dialog_);
}

ConnectionsEditor::~ConnectionsEditor() {
    http_.reset(); // a test in flight ends here, and its callback never runs
    if (dialog_ != nullptr) {
        gtk_widget_destroy(dialog_);
    }
    g_object_unref(builder_);
}

void ConnectionsEditor::present() {
    gtk_window_present(GTK_WINDOW(dialog_));
}

void ConnectionsEditor::buildFields() {
    GtkGrid* grid = part<GtkGrid>(builder_, "fields_grid");
    int row = 0;
    auto add = [&](const char* label, const char* name, GtkWidget* widget) {
        gtk_widget_show(attachRow(grid, row++, label, name, widget));
        gtk_widget_show(widget);
        return widget;
    };
    Fields& f = *fields_;
    f.name = add(_("_Name:"), _("Name"), gtk_entry_new());
    f.kind = add(_("_Kind:"), _("Kind"), gtk_combo_box_text_new());
    Choices kinds;
    for (const auto& [kind, label] : kKinds) {
        kinds.emplace_back(connectionKindName(kind), _(label));
    }
    fillCombo(GTK_COMBO_BOX_TEXT(f.kind), kinds, "openai");
    f.endpoint = add(_("_Endpoint:"), _("Endpoint"), gtk_entry_new());
    f.key = add(_("API ke_y:"), _("API key"), gtk_entry_new());
    gtk_entry_set_visibility(GTK_ENTRY(f.key), FALSE);
    gtk_entry_set_input_purpose(GTK_ENTRY(f.key), GTK_INPUT_PURPOSE_PASSWORD);
    f.entra = add("", _("Use Entra ID"),
                  gtk_check_button_new_with_mnemonic(_("Sign in with Entra _ID (Azure CLI) "
                                                       "instead of a key")));
    f.apiVersion = add(_("API versi_on:"), _("API version"), gtk_entry_new());
    f.deployments = add(_("De_ployments:"), _("Deployments"), gtk_entry_new());
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.deployments),
                                   _("name=model, … (e.g. my-image=gpt-image-1)"));
    f.defaultModel = add(_("Default _model:"), _("Default model"), gtk_entry_new());
    f.caFile = add(_("C_A file:"), _("CA file"), gtk_entry_new());
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.caFile),
                                   _("optional: a PEM file for a private certificate authority"));
    f.isDefault = add("", _("Use by default"),
                      gtk_check_button_new_with_mnemonic(_("_Use this connection by default")));
}

void ConnectionsEditor::connectSignals() {
    using E = ConnectionsEditor;
    connectTo<&E::addNew, &E::reportError>(part(builder_, "add_button"), "clicked", this);
    connectTo<&E::remove, &E::reportError>(part(builder_, "remove_button"), "clicked", this);
    connectTo<&E::save, &E::reportError>(part(builder_, "save_button"), "clicked", this);
    connectTo<&E::test, &E::reportError>(part(builder_, "test_button"), "clicked", this);
    connectTo<&E::followKind, &E::reportError>(fields_->kind, "changed", this);
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
                         guarded([self] { self->onClosed_(); }, [](const std::string&) {});
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
// shown: the key field stays empty, and an empty key field keeps the saved key.
void ConnectionsEditor::showConnection(const Connection* c) {
    const Connection blank;
    const Connection& shown = c != nullptr ? *c : blank;
    editing_ = c != nullptr ? c->name : "";
    const Fields& f = *fields_;
    gtk_entry_set_text(GTK_ENTRY(f.name), shown.name.c_str());
    gtk_combo_box_set_active_id(GTK_COMBO_BOX(f.kind), connectionKindName(shown.kind));
    gtk_entry_set_text(GTK_ENTRY(f.endpoint), shown.endpoint.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.key), "");
    gtk_entry_set_placeholder_text(GTK_ENTRY(f.key),
                                   c != nullptr ? _("saved in the keyring: leave empty to keep it")
                                                : _("the service's API key"));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(f.entra),
                                 shown.auth == AuthMethod::EntraId ? TRUE : FALSE);
    gtk_entry_set_text(GTK_ENTRY(f.apiVersion), shown.apiVersion.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.deployments), formatDeploymentList(shown.deployments).c_str());
    gtk_entry_set_text(GTK_ENTRY(f.defaultModel), shown.defaultModel.c_str());
    gtk_entry_set_text(GTK_ENTRY(f.caFile), shown.caFile.c_str());
    const Connection* d = setup_->connections.defaultConnection();
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(f.isDefault),
                                 c != nullptr && d != nullptr && d->name == c->name ? TRUE : FALSE);
    say("test_result", "");
    if (c == nullptr) {
        gtk_list_box_unselect_all(part<GtkListBox>(builder_, "connection_list"));
        gtk_widget_grab_focus(f.name);
    }
}

Connection ConnectionsEditor::fromFields() const {
    const Fields& f = *fields_;
    Connection c;
    c.name = entryText(f.name);
    const std::string kind = comboValue(GTK_COMBO_BOX_TEXT(f.kind));
    c.kind = parseConnectionKind(kind).value_or(ConnectionKind::OpenAI);
    c.endpoint = entryText(f.endpoint);
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
    return c;
}

std::string ConnectionsEditor::typedKey() const {
    return entryText(fields_->key);
}

void ConnectionsEditor::save() {
    const Connection c = fromFields();
    if (c.name.empty()) {
        say("test_result", _("Give the connection a name."));
        return;
    }
    if (auto valid = checkServiceEndpoint(c.endpoint); !valid) {
        say("test_result", valid.error().message);
        return;
    }
    if (c.name != editing_ && setup_->connections.find(c.name) != nullptr) {
        say("test_result", std::string(_("A connection with this name exists already: choose "
                                         "another name, or pick it in the list to edit it.")));
        return;
    }
    const std::string key = typedKey();
    std::string keyNote;
    if (!key.empty() && c.auth != AuthMethod::EntraId) {
        if (auto stored = storeSecret(c.name, key); !stored) {
            keyNote = std::string(" ") + _("The key was NOT saved: no keyring (Secret Service) is "
                                           "running. Set OPENAI_API_KEY or AZURE_OPENAI_API_KEY "
                                           "in GIMP's environment instead.");
        }
        gtk_entry_set_text(GTK_ENTRY(fields_->key), "");
    }
    if (!editing_.empty() && editing_ != c.name) {
        // Renamed: the key moves with it unless a new one was typed.
        if (auto old = lookupSecret(editing_); key.empty() && old && !old->empty()) {
            (void)storeSecret(c.name, *old);
        }
        (void)clearSecret(editing_);
        setup_->connections.remove(editing_);
    }
    setup_->connections.put(c);
    if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(fields_->isDefault)) != FALSE) {
        setup_->connections.setDefault(c.name);
    } else if (setup_->connections.defaultName() == c.name) {
        setup_->connections.setDefault("");
    }
    editing_ = c.name;
    if (auto written = setup_->connections.save(path_); !written) {
        say("test_result", written.error().message);
        return;
    }
    fillList(c.name);
    say("test_result", std::string(_("Saved.")) + keyNote);
}

void ConnectionsEditor::remove() {
    if (editing_.empty()) {
        return;
    }
    (void)clearSecret(editing_);
    setup_->connections.remove(editing_);
    if (auto written = setup_->connections.save(path_); !written) {
        say("test_result", written.error().message);
        return;
    }
    fillList("");
    showConnection(nullptr);
}

// Proves routing and credentials with a request the service refuses without making an image:
// the key typed in the field, else the saved one (or the environment's).
// The credential a test uses, and where it came from, so that "it works" is never about a key
// other than the one the user thinks of: the key typed, else an Entra ID token, else the saved
// key, else the environment's.
Result<std::pair<Credential, std::string>>
ConnectionsEditor::testCredential(const Connection& c) const {
    if (const std::string typed = typedKey(); !typed.empty()) {
        return std::make_pair(Credential{c.auth, typed}, std::string(_("the key typed above")));
    }
    Connection saved = c;
    saved.name = editing_.empty() ? c.name : editing_;
    auto found = credentialFor(saved, setup_->env, setup_->tokens, setup_->nowUnix());
    if (!found) {
        return found.error();
    }
    std::string source;
    if (c.auth == AuthMethod::EntraId) {
        source = _("an Entra ID token");
    } else if (auto kept = lookupSecret(saved.name); kept && *kept == found->secret) {
        source = _("the key saved in the keyring");
    } else {
        source = isAzure(c.kind) ? _("AZURE_OPENAI_API_KEY from the environment")
                                 : _("OPENAI_API_KEY from the environment");
    }
    return std::make_pair(*found, source);
}

void ConnectionsEditor::test() {
    const Connection c = fromFields();
    auto credential = testCredential(c);
    if (!credential) {
        say("test_result", credential.error().message);
        return;
    }
    std::string model = c.defaultModel;
    if (model.empty() && !c.deployments.empty()) {
        model = c.deployments.front().name;
    }
    if (model.empty() && !isAzure(c.kind)) {
        model = "gpt-image-1";
    }
    say("test_result", _("Testing…"));
    // A test answers at once: no retries of a 429 or 5xx, and a short wait for the connection.
    HttpOptions options = setup_->http;
    options.maxRetries = 0;
    options.connectTimeoutMs = 5'000;
    options.totalTimeoutMs = 30'000;
    http_ = std::make_unique<HttpClient>(options); // drops an earlier test still in flight
    testConnection(*http_, c, credential->first, model, nullptr,
                   [this, source = credential->second](const ConnectionTestResult& result) {
                       say("test_result",
                           textf(_("%s Tested with %s."), result.message.c_str(), source.c_str()));
                   });
}

void ConnectionsEditor::checkKeyStorage() {
    auto probe = lookupSecret("imagegen-probe");
    keyStorageWorks_ = probe.ok();
    say("key_storage",
        keyStorageWorks_
            ? _("Keys are kept in your keyring (Secret Service), never in a file.")
            : _("No keyring (Secret Service) is running, so a key cannot be saved here. Set "
                "OPENAI_API_KEY, or AZURE_OPENAI_API_KEY for Azure, in GIMP's environment, or "
                "start a keyring such as GNOME Keyring and open this dialog again."));
}

// Entra ID, the API version and deployments belong to Azure's kinds only.
void ConnectionsEditor::followKind() {
    const auto kind = parseConnectionKind(comboValue(GTK_COMBO_BOX_TEXT(fields_->kind)));
    const gboolean azure = kind && isAzure(*kind) ? TRUE : FALSE;
    gtk_widget_set_sensitive(fields_->entra, azure);
    gtk_widget_set_sensitive(fields_->apiVersion, azure);
    gtk_widget_set_sensitive(fields_->deployments, azure);
    if (azure == FALSE) {
        gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(fields_->entra), FALSE);
    }
}

void ConnectionsEditor::addNew() {
    showConnection(nullptr);
}

void ConnectionsEditor::reportError(const std::string& message) {
    say("test_result", message);
}

void ConnectionsEditor::say(const char* label, const std::string& text) {
    gtk_label_set_text(part<GtkLabel>(builder_, label), text.c_str());
}

} // namespace imagegen::dialog
