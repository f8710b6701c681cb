// The Connections dialog: add, edit and remove saved connections of every kind, and test one.
// A key goes to the Secret Service (core/service/secret_store.h) and never into connections.ini;
// when no Secret Service runs, the dialog says so and points to the environment variables.
#pragma once

#include "core/run/run.h"
#include "core/service/connection_check.h"
#include "core/service/http_client.h"

#include <gtk/gtk.h>

#include <functional>
#include <memory>
#include <string>

namespace imagegen::dialog {

class ConnectionsEditor {
  public:
    // Shows the editor over `parent`. Saved changes go into `setup->connections` and the key
    // file at `path`; `onClosed` runs when the user closes it (the owner then destroys it, never
    // inside that callback).
    ConnectionsEditor(GtkWindow* parent, RunSetup* setup, std::string path,
                      std::function<void()> onClosed);
    ~ConnectionsEditor();
    ConnectionsEditor(const ConnectionsEditor&) = delete;
    ConnectionsEditor& operator=(const ConnectionsEditor&) = delete;
    ConnectionsEditor(ConnectionsEditor&&) = delete;
    ConnectionsEditor& operator=(ConnectionsEditor&&) = delete;

    void present();

  private:
    struct Fields;
    void buildFields();
    void connectSignals();
    void fillList(const std::string& select);
    void showConnection(const Connection* c);
    [[nodiscard]] Connection fromFields() const;
    [[nodiscard]] std::string typedKey() const;
    [[nodiscard]] Result<std::pair<Credential, std::string>>
    testCredential(const Connection& c) const;
    void addNew();
    void followKind();
    void reportError(const std::string& message);
    void save();
    void remove();
    void test();
    void checkKeyStorage();
    void say(const char* label, const std::string& text);

    RunSetup* setup_;
    std::string path_;
    std::function<void()> onClosed_;
    GtkBuilder* builder_ = nullptr;
    GtkWidget* dialog_ = nullptr;
    std::unique_ptr<Fields> fields_;
    std::string editing_; // the name of the saved connection shown, "" for a new one
    bool keyStorageWorks_ = true;
    // Last, so that it goes first: a test in flight points at the labels above.
    std::unique_ptr<HttpClient> http_;
};

} // namespace imagegen::dialog
