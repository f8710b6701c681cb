// ConnectionsEditor, what it says of keys: whether a keyring answers, whether the connection
// shown has a saved key. Both are asked off the main loop (KeyringCall), the window saying that
// it is looking meanwhile; the rest is in connections_editor.cpp. The fields are taken from the
// layout by id (ui/connections-dialog.ui).
#include "dialog/connections_editor.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <string>

namespace imagegen::dialog {

void ConnectionsEditor::checkKeyStorage() {
    say("key_storage", _("Looking for a keyring (Secret Service)…"));
    probe_ = lookupSecretAsync("imagegen-probe", [this](const Result<std::string>& probe) {
        keyStorageWorks_ = probe.ok();
        say("key_storage",
            keyStorageWorks_
                ? _("Keys are kept in your keyring (Secret Service), never in a file.")
                : _("No keyring (Secret Service) is running, so a key cannot be saved here. Set "
                    "OPENAI_API_KEY, or AZURE_OPENAI_API_KEY for Azure, in GIMP's environment, or "
                    "start a keyring such as GNOME Keyring and open this dialog again."));
    });
}

// Whether a key is kept for the connection shown, in words, and in the key field's placeholder:
// an empty field after Save must not look as if the key was lost. The key itself is never shown.
// Until the keyring answers, the line says that it is looking. `justSaved`: Save has just stored
// a key for it.
void ConnectionsEditor::showKeyState(bool justSaved) {
    const bool entra =
        gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(part(builder_, "entra"))) != FALSE;
    gtk_widget_set_sensitive(part(builder_, "key"), entra ? FALSE : TRUE);
    keyLookup_.reset(); // the answer about a connection shown before is not wanted
    if (entra || editing_.empty()) {
        sayKeyState(entra ? KeyState::EntraId : KeyState::None);
        return;
    }
    if (justSaved) {
        sayKeyState(KeyState::JustSaved); // the keyring has just said so
        return;
    }
    sayKeyState(KeyState::Looking);
    keyLookup_ = lookupSecretAsync(editing_, [this](const Result<std::string>& kept) {
        sayKeyState(kept && !kept->empty() ? KeyState::Stored : KeyState::Missing);
    });
}

void ConnectionsEditor::sayKeyState(KeyState state) {
    const bool stored = state == KeyState::Stored || state == KeyState::JustSaved;
    gtk_entry_set_placeholder_text(GTK_ENTRY(part(builder_, "key")),
                                   stored ? _("•••• stored in the keyring")
                                          : _("the service's API key"));
    const char* text = "";
    switch (state) {
    case KeyState::None:
        break;
    case KeyState::Looking:
        text = _("Looking in the keyring for a saved key…");
        break;
    case KeyState::EntraId:
        text = _("Entra ID signs in through the Azure CLI: no key is needed.");
        break;
    case KeyState::Stored:
        text = _("A key is stored in the keyring (••••). Type a new one here to replace it.");
        break;
    case KeyState::JustSaved:
        text = _("Saved: the key is stored in the keyring (••••). Type a new one here to replace "
                 "it.");
        break;
    case KeyState::Missing:
        text = _("No key is stored for this connection: type it here, then Save.");
        break;
    }
    gtk_label_set_text(GTK_LABEL(part(builder_, "key_state")), text);
    gtk_widget_set_visible(part(builder_, "key_state"), *text != '\0' ? TRUE : FALSE);
}

// While Save or Remove changes the keyring: what would start another change, or show another
// connection, waits. The fields, Close and the window itself stay alive.
void ConnectionsEditor::setBusy(bool busy) {
    for (const char* id :
         {"save_button", "remove_button", "add_button", "test_button", "connection_list"}) {
        gtk_widget_set_sensitive(part(builder_, id), busy ? FALSE : TRUE);
    }
}

} // namespace imagegen::dialog
