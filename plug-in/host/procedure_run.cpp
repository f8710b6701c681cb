#include "host/procedure_run.h"

#include "core/service/connection.h"
#include "core/service/models.h"
#include "core/user/presets.h"
#include "core/util/glib_ptr.h"
#include "core/util/timings.h"
#include "host/gimp_process.h"

#include <glib-unix.h>
#include <glib.h>

#include <csignal>

namespace imagegen {

namespace {

Result<ModelCatalog> loadCatalog() {
    // data_files.cpp finds the table: beside the plug-in, or where a system install put it.
    return ModelCatalog::loadDefault();
}

std::string imagegenFolder() {
    return host::userDirectory() + "/imagegen";
}

// What every run from GIMP's side starts from: the model table, the saved connections and the
// environment.
struct GimpSetup {
    std::unique_ptr<ModelCatalog> catalog; // held apart, so that `run` may point into it
    RunSetup run;
};

Result<GimpSetup> gimpSetup() {
    auto catalog = loadCatalog();
    if (!catalog) {
        return catalog.error();
    }
    auto connections = ConnectionStore::load(imagegenFolder() + "/connections.ini");
    if (!connections) {
        return connections.error();
    }
    GimpSetup setup;
    setup.catalog = std::make_unique<ModelCatalog>(std::move(*catalog));
    setup.run.catalog = setup.catalog.get();
    setup.run.connections = std::move(*connections);
    setup.run.env = processEnvironment();
    return setup;
}

// SIGINT or SIGTERM while waiting cancels every request, and the run ends as cancelled with the
// image untouched (GIMP's own handlers would end the process without a word).
class CancelOnSignals {
  public:
    explicit CancelOnSignals(GCancellable* cancellable)
        : onInterrupt_(g_unix_signal_add(SIGINT, cancel, cancellable)),
          onTerminate_(g_unix_signal_add(SIGTERM, cancel, cancellable)) {}

  private:
    static gboolean cancel(gpointer cancellable) {
        g_cancellable_cancel(G_CANCELLABLE(cancellable));
        return G_SOURCE_CONTINUE;
    }
    SourceId onInterrupt_;
    SourceId onTerminate_;
};

// The run's check between steps that do not wait on the main loop (decoding, making layers):
// a signal reaches the cancellable through a main-loop source, so pending sources are
// dispatched first. A plug-in process has no other sources that could run here.
CancelCheck signalledOrCancelled(GCancellable* cancellable) {
    return [cancellable] {
        while (g_main_context_pending(nullptr) != FALSE) {
            g_main_context_iteration(nullptr, FALSE);
        }
        return g_cancellable_is_cancelled(cancellable) != FALSE;
    };
}

} // namespace

Result<dialog::DialogOutcome> runDialogInGimp(const ProcedureSpec& spec,
                                              const RunParameters& initial, const RunContext& ctx,
                                              PhaseTimer* timings) {
    auto setup = gimpSetup();
    if (!setup) {
        return setup.error();
    }
    const std::string folder = imagegenFolder();
    dialog::DialogContext context;
    context.spec = &spec;
    context.initial = initial;
    context.setup = &setup->run;
    const int image = ctx.image;
    const int opened = ctx.drawable;
    context.makeHost = [image, opened] {
        // A new image has no image to read (and asking GIMP about image -1 would warn).
        const int drawable = image >= 0 ? host::runDrawable(image, opened) : -1;
        return host::makeHost(image, drawable, true);
    };
    context.connectionsPath = folder + "/connections.ini";
    context.historyPath = folder + "/prompt-history.json";
    context.resultsFolder = folder + "/results";
    context.resultsKey = host::resultsKey(image);
    // The presets are a help, not a need: without the file the dialog offers none.
    auto presets = loadDefaultPresets();
    if (presets) {
        context.presets = std::move(*presets);
    }
    context.parent = host::imageWindow();
    context.backends = host::dialogBackends(context.parent);
    context.darkTheme = host::themeIsDark();
    if (timings != nullptr) {
        context.onShown = [timings] {
            timings->phase("dialog-shown");
            timings->stamp("dialog-shown");
        };
    }
    return dialog::runDialog(context);
}

Result<Inserted> runInGimp(Procedure procedure, const RunParameters& parameters, Host& host) {
    auto setup = gimpSetup();
    if (!setup) {
        return setup.error();
    }
    const GRef<GCancellable> cancellable = adoptRef(g_cancellable_new());
    const CancelOnSignals signals(cancellable.get());
    return runProcedure(procedure, parameters, setup->run, host, cancellable.get(),
                        signalledOrCancelled(cancellable.get()));
}

} // namespace imagegen
