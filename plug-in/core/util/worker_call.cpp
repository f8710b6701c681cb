#include "core/util/worker_call.h"

#include "core/util/glib_ptr.h"

#include <exception>
#include <utility>

namespace imagegen {

// What the call shares with its GTask: `done` is cleared when the owner goes.
struct WorkerCall::Pending {
    Done done;
    GRef<GCancellable> cancellable = adoptRef(g_cancellable_new()); // the call's own
    GRef<GCancellable> outer;
    gulong outerHandler = 0;
};

namespace {

// On the worker: the work is the task's own, freed with the task.
void work(GTask* task, gpointer /*source*/, gpointer data, GCancellable* cancellable) {
    try {
        (*static_cast<WorkerCall::Work*>(data))(cancellable);
    } catch (...) { // nothing may throw into GLib's thread pool
        g_warning("imagegen: a worker's call threw");
    }
    g_task_return_boolean(task, TRUE);
}

// On the main loop, once: the work's end, or a cancel at once (return-on-cancel).
void ready(GObject* /*source*/, GAsyncResult* result, gpointer data) {
    const std::unique_ptr<std::shared_ptr<WorkerCall::Pending>> holder(
        static_cast<std::shared_ptr<WorkerCall::Pending>*>(data));
    const std::shared_ptr<WorkerCall::Pending> pending = *holder;
    GErrorPtr error;
    const bool finished = g_task_propagate_boolean(G_TASK(result), outPtr(error)) != FALSE;
    if (!pending->done) {
        return; // the owner has gone
    }
    const WorkerCall::Done done = std::move(pending->done);
    pending->done = nullptr;
    try {
        done(!finished);
    } catch (...) {
        g_warning("imagegen: a worker call's completion handler threw");
    }
}

} // namespace

WorkerCall::WorkerCall(Work work_, GCancellable* outer, Done done)
    : pending_(std::make_shared<Pending>()) {
    pending_->done = std::move(done);
    if (outer != nullptr) {
        // Its own cancellable, which the outer one cancels: the call's end must not cancel the
        // caller's.
        pending_->outer = addRef(outer);
        pending_->outerHandler =
            g_cancellable_connect(outer, G_CALLBACK(+[](GCancellable* /*c*/, gpointer own) {
                                      g_cancellable_cancel(G_CANCELLABLE(own));
                                  }),
                                  pending_->cancellable.get(), nullptr);
    }
    GTask* task = g_task_new(nullptr, pending_->cancellable.get(), ready,
                             new std::shared_ptr<Pending>(pending_));
    g_task_set_task_data(task, new Work(std::move(work_)),
                         [](gpointer p) { delete static_cast<Work*>(p); });
    // A cancel ends the task at once; the worker finishes on the task's data, which the task
    // owns, and its end is not heard.
    g_task_set_return_on_cancel(task, TRUE);
    g_task_run_in_thread(task, work);
    g_object_unref(task);
}

WorkerCall::~WorkerCall() {
    pending_->done = nullptr;
    if (pending_->outer && pending_->outerHandler != 0) {
        g_cancellable_disconnect(pending_->outer.get(), pending_->outerHandler);
    }
    g_cancellable_cancel(pending_->cancellable.get());
}

} // namespace imagegen
