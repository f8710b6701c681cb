// How each logged exchange ended, for tests of cancelling clients: "answered" once the whole
// answer was written, "client_closed" when the client closed its connection first. A client
// that goes away while its answer waits (latency, or between the events of a stream) is seen
// within kPollMs: the socket is peeked for end-of-file, which reads nothing libsoup would.
#include "emulator/state.h"

#include <gio/gio.h>
#include <sys/socket.h>

#include <memory>

namespace emulator {

namespace {

constexpr guint kPollMs = 50;

struct Watch {
    Emulator::State* state;
    std::weak_ptr<bool> alive;
    imagegen::GRef<SoupServerMessage> msg;
    int serial;
    guint poll = 0;
    gulong handlers[3] = {0, 0, 0};

    // The entry, once it is in the log and the state still exists.
    [[nodiscard]] LogEntry* entry() const {
        return alive.expired() ? nullptr : state->entryBySerial(serial);
    }

    void end(const char* how) {
        if (LogEntry* e = entry(); e != nullptr && e->ended.empty()) {
            e->ended = how;
        }
    }

    // True while the client's side of the connection is open (or cannot be checked).
    [[nodiscard]] bool clientOpen() const {
        GSocket* socket = soup_server_message_get_socket(msg.get());
        if (socket == nullptr) {
            return true;
        }
        char byte = 0;
        const ssize_t got = recv(g_socket_get_fd(socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return got != 0;
    }
};

void stopWatch(Watch* w) {
    if (w->poll != 0) {
        g_source_remove(w->poll);
        w->poll = 0;
    }
    for (gulong& h : w->handlers) {
        if (h != 0) {
            g_signal_handler_disconnect(w->msg.get(), h);
            h = 0;
        }
    }
    delete w; // NOLINT(cppcoreguidelines-owning-memory): the watch owns itself until the end
}

} // namespace

LogEntry* Emulator::State::entryBySerial(int serial) {
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
        if (it->serial == serial) {
            return &*it;
        }
    }
    return nullptr;
}

void Emulator::State::watch(SoupServerMessage* msg, LogEntry& entry) {
    entry.serial = ++serialCounter;
    auto* w = new Watch{this, alive, imagegen::addRef(msg), entry.serial};
    w->handlers[0] =
        g_signal_connect(msg, "wrote-chunk", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                             if (LogEntry* e = static_cast<Watch*>(p)->entry()) {
                                 e->chunksWrittenAtUs.push_back(g_get_monotonic_time());
                             }
                         }),
                         w);
    w->handlers[1] =
        g_signal_connect(msg, "wrote-body", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                             static_cast<Watch*>(p)->end("answered");
                         }),
                         w);
    w->handlers[2] =
        g_signal_connect(msg, "finished", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                             auto* self = static_cast<Watch*>(p);
                             self->end("client_closed");
                             stopWatch(self);
                         }),
                         w);
    w->poll = g_timeout_add(
        kPollMs,
        [](gpointer p) -> gboolean {
            auto* self = static_cast<Watch*>(p);
            if (self->alive.expired()) {
                self->poll = 0;
                return G_SOURCE_REMOVE;
            }
            LogEntry* e = self->entry();
            if (e != nullptr && e->ended.empty() && !self->clientOpen()) {
                e->ended = "client_closed";
            }
            return G_SOURCE_CONTINUE;
        },
        w);
}

} // namespace emulator
