// One run of a procedure, from its parameters to the layers it made: connection and model, the
// edit pipeline, the requests, and the results back into the image. GIMP is reached only through
// host/gimp_host.h.
#pragma once

#include "core/error.h"
#include "core/run_parameters.h"

#include <string>
#include <vector>

namespace imagegen {

struct RunContext {
    int image = -1;
    int drawable = -1;
    bool interactive = false;
    std::string executableDir; // where models.json may sit beside the plug-in
};

struct RunOutcome {
    Status status = Ok{};
    std::vector<int> layers; // edit, generate
    int image = -1;          // new image
};

RunOutcome runProcedure(Procedure procedure, const RunParameters& parameters,
                        const RunContext& context);

} // namespace imagegen
