// One piece of blocking work (a D-Bus call to the Secret Service, the Azure CLI) on one of GLib's
// worker threads, its end handed back on the main loop, so that the dialog never freezes while
// it waits. The owner may go at any time: its destructor cancels the call and drops `done`, and
// the worker finishes on what the call owns (its work, and whatever the work holds).
#pragma once

#include <gio/gio.h>

#include <functional>
#include <memory>

namespace imagegen {

class WorkerCall {
  public:
    // Runs on the worker, with the call's own cancellable; it must catch what it throws.
    using Work = std::function<void(GCancellable*)>;
    // Runs once, from the thread-default main context of the constructor's thread, never inside
    // the constructor: `cancelled` when a cancel ended the call before the work did (the work
    // may still be running then, and its answer must not be read).
    using Done = std::function<void(bool cancelled)>;

    // A cancel of `outer` (may be null) cancels the call, not the other way round.
    WorkerCall(Work work, GCancellable* outer, Done done);
    // Drops `done` (nothing of the owner runs afterwards) and cancels.
    ~WorkerCall();
    WorkerCall(const WorkerCall&) = delete;
    WorkerCall& operator=(const WorkerCall&) = delete;
    WorkerCall(WorkerCall&&) = delete;
    WorkerCall& operator=(WorkerCall&&) = delete;

    struct Pending;

  private:
    std::shared_ptr<Pending> pending_;
};

} // namespace imagegen
