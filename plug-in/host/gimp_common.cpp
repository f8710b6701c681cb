// What GIMP 2.10 and GIMP 3 do with the same calls of the same names, written once and compiled
// against whichever libgimp the build is for: the progress bar, an expand's check of the canvas,
// GEGL's start, GIMP's user folder, the host.
#include "host/gimp_host.h"
#include "host/gimp_process.h"
#include "host/gimp_shared.h"
#include "host/host_errors.h"

#include <libgimp/gimp.h>

#include <algorithm>

namespace imagegen::host {

void GimpHost::progressStart(const std::string& text) {
    gimp_progress_init(text.c_str());
}
void GimpHost::progressPulse() {
    gimp_progress_pulse();
}
void GimpHost::progressSet(double fraction) {
    gimp_progress_update(std::clamp(fraction, 0.0, 1.0));
}
void GimpHost::progressEnd() {
    gimp_progress_end();
}

void ensureGegl() {
    static bool started = false;
    if (!started) {
        gegl_init(nullptr, nullptr);
        started = true;
    }
}

void initialise(const std::string& executableDir) {
    // The plug-in reads and writes buffers only: pointing GEGL_PATH at a folder without
    // operation modules saves loading all of them when GEGL starts. IMAGEGEN_LOAD_GEGL_MODULES=1
    // keeps GEGL's own path, for the benchmark's comparison.
    if (!executableDir.empty() && g_strcmp0(g_getenv("IMAGEGEN_LOAD_GEGL_MODULES"), "1") != 0) {
        g_setenv("GEGL_PATH", executableDir.c_str(), TRUE);
    }
}

Result<std::vector<int>> GimpHost::insertLayers(const std::vector<NewLayer>& layers,
                                                const std::string& groupName,
                                                const CancelCheck& isCancelled) {
    return insertAboveActive(layers, groupName, isCancelled, std::nullopt);
}

Result<std::vector<int>> GimpHost::insertLayersExpanding(Margins margins,
                                                         const std::vector<NewLayer>& layers,
                                                         const std::string& groupName,
                                                         const CancelCheck& isCancelled) {
    const std::optional<Size> canvas = canvasSize();
    if (!canvas) {
        return closedMeanwhile();
    }
    auto grown = grownCanvas(*canvas, margins, layers);
    if (!grown) {
        return grown.error();
    }
    return insertAboveActive(layers, groupName, isCancelled, *grown);
}

std::string userDirectory() {
    return gimp_directory();
}

std::unique_ptr<Host> makeHost(int image, int drawable, bool display) {
    return std::make_unique<GimpHost>(image, drawable, display);
}

} // namespace imagegen::host
