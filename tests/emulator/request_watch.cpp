// How each logged exchange ended, for tests of cancelling clients: "answered" once the whole
// answer was written, "client_closed" when the client closed its connection first. A client
// that goes away while its answer waits (latency, or between the events of a stream) is seen
// within kPollMs: the socket is peeked for end-of-file, which reads nothing libsoup would.
#include "emulator/state.h"

#include <gio/gio.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace emulator {

namespace {

constexpr guint kPollMs = 50;

struct Watch {
    Emulator::State* state;
    std::weak_ptr<bool> alive;
    imagegen::GRef<SoupServerMessage> msg;
    // Referenced from the start, so that it outlives the connection whatever libsoup does.
    imagegen::GRef<GSocket> socket;
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
        if (!socket) {
            return true;
        }
        if (g_socket_is_closed(socket.get()) != FALSE) {
            return false;
        }
        char byte = 0;
        return recv(g_socket_get_fd(socket.get()), &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
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
    delete w; // the watch owned itself until its message finished
}

} // namespace

LogEntry* Emulator::State::entryBySerial(int serial) {
    const auto it = std::find_if(log.rbegin(), log.rend(),
                                 [serial](const LogEntry& e) { return e.serial == serial; });
    return it == log.rend() ? nullptr : &*it;
}

void Emulator::State::watch(SoupServerMessage* msg, LogEntry& entry) {
    entry.serial = ++serialCounter;
    GSocket* socket = soup_server_message_get_socket(msg);
    auto* w = new Watch{this, alive, imagegen::addRef(msg),
                        socket != nullptr ? imagegen::addRef(socket) : imagegen::GRef<GSocket>(),
                        entry.serial};
    w->handlers[0] =
        g_signal_connect(msg, "wrote-chunk", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                             if (LogEntry* e = static_cast<Watch*>(p)->entry()) {
                                 e->chunksWrittenAtUs.push_back(g_get_monotonic_time());
                             }
                         }),
                         w);
    w->handlers[1] =
        g_signal_connect(msg, "wrote-body", G_CALLBACK(+[](SoupServerMessage*, gpointer p) {
                             auto* self = static_cast<Watch*>(p);
                             if (LogEntry* e = self->entry()) {
                                 e->answeredAtUs = g_get_monotonic_time();
                             }
                             self->end("answered");
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
