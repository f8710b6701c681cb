// The Connections dialog: add, edit and remove saved connections of every kind, and test one.
// A key goes to the Secret Service (core/service/secret_store.h) and never into connections.ini;
// when no Secret Service runs, the dialog says so and points to the environment variables. Every
// question to the keyring and every change of it runs off the main loop (KeyringCall): the
// window stays alive while the keyring answers.
#pragma once

#include "core/run/run.h"
#include "core/service/connection_check.h"
#include "core/service/credential_lookup.h"
#include "core/service/http_client.h"
#include "core/service/keyring_call.h"

#include <gtk/gtk.h>

#include <functional>
#include <memory>
#include <string>

namespace imagegen::dialog {

class ConnectionsEditor {
  public:
    // What the owner hears of: each saved change (a connection saved or removed), so that its
    // own view of the connections follows at once, and the user closing the editor (the owner
    // then destroys it, never inside that callback).
    struct Callbacks {
        std::function<void()> onChanged;
        std::function<void()> onClosed;
    };
    // Shows the editor over `parent`. Saved changes go into `setup->connections` and the key
    // file at `path`. `firstSetup`: no connection exists at all, and the editor opens on a new
    // connection with the kind chosen first.
    ConnectionsEditor(GtkWindow* parent, RunSetup* setup, std::string path, Callbacks callbacks,
                      bool firstSetup = false);
    ~ConnectionsEditor();
    ConnectionsEditor(const ConnectionsEditor&) = delete;
    ConnectionsEditor& operator=(const ConnectionsEditor&) = delete;
    ConnectionsEditor(ConnectionsEditor&&) = delete;
    ConnectionsEditor& operator=(ConnectionsEditor&&) = delete;

    void present();

  private:
    struct Fields;
    // How a message in the result line reads: a plain note, a success, a failure.
    enum class Tone { Plain, Good, Bad };
    // What the key status line says of the connection shown.
    enum class KeyState { None, Looking, Stored, JustSaved, Missing, EntraId };
    void buildFields();
    void connectSignals();
    void fillList(const std::string& select);
    void showConnection(const Connection* c);
    [[nodiscard]] Connection fromFields() const;
    [[nodiscard]] std::string typedKey() const;
    void addNew();
    void followKind();
    void reportError(const std::string& message);
    void save();
    void saved(const Connection& c, const std::string& key, const Status& stored);
    void remove();
    void removeConfirmed(const std::string& name);
    void removed(const std::string& name, const Status& cleared);
    void setBusy(bool busy);
    void closeConfirmation();
    void test();
    void sendTest(const Connection& c, const Credential& credential, const std::string& source);
    void checkKeyStorage();
    void showKeyState(bool justSaved);
    void sayKeyState(KeyState state);
    void say(const char* label, const std::string& text);
    void sayResult(const std::string& text, Tone tone);

    RunSetup* setup_;
    std::string path_;
    Callbacks callbacks_;
    GtkBuilder* builder_ = nullptr;
    GtkWidget* dialog_ = nullptr;
    GtkWidget* confirm_ = nullptr; // the "Remove …?" question while it is asked
    std::unique_ptr<Fields> fields_;
    std::string editing_; // the name of the saved connection shown, "" for a new one
    bool keyStorageWorks_ = true;
    // Last, so that they go first: a test or a keyring call in flight points at the labels above.
    std::unique_ptr<HttpClient> http_;
    std::unique_ptr<CredentialLookup> lookup_; // the saved key or token of a test, off the loop
    std::unique_ptr<KeyringCall> probe_;       // whether a keyring answers, as the window opens
    std::unique_ptr<KeyringCall> keyLookup_;   // whether the connection shown has a saved key
    std::unique_ptr<KeyringCall> write_;       // Save's or Remove's change of the keyring
};

} // namespace imagegen::dialog
