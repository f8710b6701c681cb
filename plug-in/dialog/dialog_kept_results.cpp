// DialogController, its part that keeps the results on disk for the image, so that Close never
// loses one that was paid for; the rest is in dialog_controller.cpp.
#include "dialog/dialog_controller.h"

#include "core/util/i18n.h"
#include "dialog/gtk_util.h"

#include <glib/gi18n-lib.h>

#include <string>
#include <vector>

namespace imagegen::dialog {

void DialogController::followInsertAll() {
    gtk_widget_set_sensitive(w_->insert_all_button, session_.notInserted().empty() ? FALSE : TRUE);
}

void DialogController::restoreKept() {
    if (ctx_.resultsFolder.empty() || ctx_.resultsKey.empty()) {
        return;
    }
    const auto kept = kept_.load(ctx_.resultsKey);
    if (kept.empty()) {
        return;
    }
    const RunSession::Generated restored = session_.restore(kept);
    strip_.add(restored.first, {}); // an expand's picture as it was is not kept
    followInsertAll();
    setStatusCount("%d result from before is kept below.", "%d results from before are kept below.",
                   restored.count);
}

void DialogController::keep(size_t first, size_t count) {
    if (ctx_.resultsFolder.empty() || ctx_.resultsKey.empty() || count == 0) {
        return;
    }
    std::vector<KeptResult> results;
    results.reserve(count);
    for (size_t i = first; i < first + count; ++i) {
        results.push_back(session_.kept(i));
    }
    if (auto added = kept_.add(ctx_.resultsKey, results); !added) {
        showError(added.error().message + " " +
                  _("Insert the results you want before you close this dialog."));
    }
}

void DialogController::keepInserted(const std::vector<size_t>& results) {
    strip_.markInserted(results);
    followInsertAll();
    if (ctx_.resultsFolder.empty() || ctx_.resultsKey.empty() || results.empty()) {
        return;
    }
    std::vector<std::string> ids;
    ids.reserve(results.size());
    for (const size_t r : results) {
        ids.push_back(session_.idOf(r));
    }
    // Not worth an error in the user's way: at worst "Insert all" offers it again next time.
    (void)kept_.markInserted(ctx_.resultsKey, ids);
}

} // namespace imagegen::dialog
