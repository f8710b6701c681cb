// DialogController, its part about connections: the Connections window, and the "no connection"
// bar with Generate following whether a run has somewhere to go; the rest is in
// dialog_controller.cpp.
#include "dialog/dialog_controller.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <string>
#include <vector>

namespace imagegen::dialog {

void DialogController::openConnections(bool firstSetup) {
    if (editor_) {
        editorClosed_.reset(); // reopened before its closing went through
        editor_->present();
        return;
    }
    ConnectionsEditor::Callbacks callbacks;
    // A saved or removed connection shows in this window at once, not only after Connections
    // closes: the "no connection" bar goes as soon as there is one.
    callbacks.onChanged = [this] {
        form_->refillConnections();
        followConnections();
    };
    callbacks.onClosed = [this] {
        // Closed: the editor goes once its own callback has returned.
        editorClosed_.reset(g_idle_add(
            +[](gpointer s) -> gboolean {
                auto* self = static_cast<DialogController*>(s);
                self->editorClosed_.forget();
                self->editor_.reset();
                guarded(
                    [self] {
                        self->form_->refillConnections();
                        self->followConnections();
                    },
                    [self](const std::string& m) { self->showError(m); });
                return G_SOURCE_REMOVE;
            },
            this));
    };
    editor_ = std::make_unique<ConnectionsEditor>(GTK_WINDOW(w_), ctx_.setup, ctx_.connectionsPath,
                                                  std::move(callbacks), firstSetup);
}

// Where a Generate would go, as the run resolves it (core/service/service.cpp): the connection
// chosen by name, else the saved default (or the only one saved), else the environment's.
bool DialogController::connectionAvailable() const {
    const ConnectionStore& store = ctx_.setup->connections;
    if (const std::string chosen = comboValue(w_->connection_combo); !chosen.empty()) {
        return store.find(chosen) != nullptr;
    }
    return store.defaultConnection() != nullptr || connectionFromEnvironment(ctx_.setup->env).ok();
}

void DialogController::followConnections() {
    hasConnection_ = connectionAvailable();
    gtk_widget_set_sensitive(w_->generate_button,
                             hasConnection_ && !session_.running() ? TRUE : FALSE);
    // Says why Generate is greyed; GTK also gives it to a screen reader as the description.
    gtk_widget_set_tooltip_text(w_->generate_button,
                                hasConnection_
                                    ? nullptr
                                    : _("Set up a connection first: use Connections… or the button "
                                        "in the message above."));
    if (!hasConnection_) {
        showNoConnection();
    } else if (showingNoConnection_) {
        clearError();
    }
}

void DialogController::showNoConnection() {
    showError(_("No connection is set up yet. Set one up with Connections…, or set "
                "OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY) in GIMP's "
                "environment."));
    gtk_info_bar_set_message_type(w_->info_bar, GTK_MESSAGE_WARNING);
    gtk_widget_show(setUpButton_);
    showingNoConnection_ = true;
}

void DialogController::onInfoBarResponse(int response) {
    if (response == kSetUpConnection) {
        openConnections(ctx_.setup->connections.connections().empty());
        return;
    }
    clearError();
}

} // namespace imagegen::dialog
