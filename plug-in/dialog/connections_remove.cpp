// ConnectionsEditor, its Remove: a question first, then the connection and its key go (the key
// off the main loop); the rest is in connections_editor.cpp.
#include "dialog/connections_editor.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <string>

namespace imagegen::dialog {

// Remove asks first: it deletes the connection and its key in the keyring, which no Cancel
// brings back. The question is a window of its own, answered through the main loop (never a
// nested one); the name goes with it, so that a choice made in the list meanwhile changes nothing.
void ConnectionsEditor::remove() {
    if (editing_.empty()) {
        return;
    }
    closeConfirmation();
    confirm_ = gtk_message_dialog_new(
        GTK_WINDOW(dialog_), GTK_DIALOG_MODAL, GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s",
        textf(_("Remove the connection %s?"), textf(_("“%s”"), editing_.c_str()).c_str()).c_str());
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(confirm_), "%s",
        _("Its key is removed from the keyring too. This cannot be undone."));
    gtk_window_set_title(GTK_WINDOW(confirm_), _("Remove Connection — Imagegen"));
    // ATK names a message dialog after its type ("Question"): a screen reader says the title.
    setAccessibleName(confirm_, _("Remove Connection — Imagegen"));
    gtk_dialog_add_button(GTK_DIALOG(confirm_), _("_Cancel"), GTK_RESPONSE_CANCEL);
    GtkWidget* yes = gtk_dialog_add_button(GTK_DIALOG(confirm_), _("_Remove"), GTK_RESPONSE_ACCEPT);
    gtk_style_context_add_class(gtk_widget_get_style_context(yes), "destructive-action");
    gtk_dialog_set_default_response(GTK_DIALOG(confirm_), GTK_RESPONSE_CANCEL);
    g_object_set_data_full(G_OBJECT(confirm_), "imagegen-connection", g_strdup(editing_.c_str()),
                           g_free);
    g_signal_connect(confirm_, "response",
                     G_CALLBACK(+[](GtkDialog* question, int response, ConnectionsEditor* self) {
                         const std::string name = static_cast<const char*>(
                             g_object_get_data(G_OBJECT(question), "imagegen-connection"));
                         self->closeConfirmation();
                         if (response == GTK_RESPONSE_ACCEPT) {
                             guarded([&] { self->removeConfirmed(name); },
                                     [self](const std::string& m) { self->reportError(m); });
                         }
                     }),
                     this);
    gtk_widget_show(confirm_);
}

void ConnectionsEditor::closeConfirmation() {
    if (confirm_ != nullptr) {
        gtk_widget_destroy(std::exchange(confirm_, nullptr));
    }
}

// The connection leaves connections.ini at once; its key leaves the keyring off the main loop,
// with Save, Remove, Add, Test and the list insensitive until it is done.
void ConnectionsEditor::removeConfirmed(const std::string& name) {
    if (setup_->connections.find(name) == nullptr) {
        return;
    }
    setup_->credentials.forget(name); // a run after this one must not find the key in memory
    setup_->connections.remove(name);
    if (auto written = setup_->connections.save(path_); !written) {
        sayResult(written.error().message, Tone::Bad);
        return;
    }
    setBusy(true);
    sayResult(_("Removing the key from the keyring…"), Tone::Plain);
    write_ = clearSecretAsync(name, [this, name](const Status& cleared) {
        guarded([&] { removed(name, cleared); }, [this](const std::string& m) { reportError(m); });
    });
}

void ConnectionsEditor::removed(const std::string& name, const Status& cleared) {
    setBusy(false);
    setup_->credentials.forget(name); // a run meanwhile may have found the key being removed
    fillList("");
    showConnection(nullptr);
    const std::string quoted = textf(_("“%s”"), name.c_str());
    if (cleared) {
        sayResult(textf(_("Removed the connection %s and its key."), quoted.c_str()), Tone::Plain);
    } else {
        sayResult(textf(_("Removed the connection %s, but not its key: %s"), quoted.c_str(),
                        cleared.error().message.c_str()),
                  Tone::Bad);
    }
    callbacks_.onChanged();
}

} // namespace imagegen::dialog
