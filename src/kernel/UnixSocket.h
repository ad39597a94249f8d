// An AF_UNIX socket end made by socketpair (net/unix/af_unix.c): stream, datagram or
// seqpacket, connected to its peer from birth. Each end owns the queue of messages sent to it;
// a message carries its bytes and the open files passed with SCM_RIGHTS, which are in flight
// (held by the message) until the receiver installs them.
//
// Limits as Linux's defaults: a sender may have SNDBUF of memory in flight to its peer, counted
// in bytes for a stream and in each datagram's buffer size (its sk_buff and data, as skb truesize)
// otherwise, so that a 1-byte datagram costs 768 bytes; a datagram is under SNDBUF - 32 bytes.
// Named sockets (bind, connect, listen) are not modelled.
#pragma once

#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"
#include "kernel/PollEvents.h"

namespace kioku {

struct OpenFile;

class UnixSocket {
  public:
    enum class Type : u8 { Stream = 1, Dgram = 2, SeqPacket = 5 };
    static constexpr u64 SNDBUF = 212992;           // net.core.wmem_default
    static constexpr u64 MAX_FDS_PER_MESSAGE = 253; // SCM_MAX_FD

    struct Message {
        std::vector<u8> bytes;
        std::vector<std::shared_ptr<OpenFile>> files;
        u64 charge = 0; // what it counts against the sender's SNDBUF
    };
    struct Received {
        std::vector<u8> bytes;
        std::vector<std::shared_ptr<OpenFile>> files;
        u64 full_length = 0; // of the datagram, when it was cut short (MSG_TRUNC)
        bool truncated = false;
    };

    static std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> make_pair(Type type);
    ~UnixSocket();
    UnixSocket(const UnixSocket&) = delete;
    UnixSocket& operator=(const UnixSocket&) = delete;

    Type type() const { return m_type; }
    // EAGAIN when the peer's queue is full; EPIPE once the peer is gone or either side shut the
    // direction down (ECONNREFUSED for a datagram whose peer is gone); EMSGSIZE for a datagram
    // too large. A stream send may take only part of the bytes.
    Result<u64> send(std::span<const u8> bytes, std::vector<std::shared_ptr<OpenFile>> files);
    // Up to `max` bytes: EAGAIN when nothing is queued and more may come; an empty result at the
    // end of a stream. peek leaves the queue as it is.
    Result<Received> recv(u64 max, bool peek);
    // shutdown(2): SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2.
    void shutdown(int how);
    PollState poll() const;
    const WakeCounts& wakes() const { return m_wakes; }

  private:
    explicit UnixSocket(Type type)
        : m_type(type)
    {
    }
    bool peer_gone() const { return m_peer.expired(); }
    bool may_send() const;
    u64 queued_charge() const;
    // The memory a message of n bytes takes in flight.
    u64 charge_of(u64 n) const;

    Type m_type;
    std::weak_ptr<UnixSocket> m_peer;
    std::deque<Message> m_queue; // sent to this end, not yet read
    bool m_shut_read = false;    // this end will read no more
    bool m_shut_write = false;   // this end will send no more
    WakeCounts m_wakes;
};

} // namespace kioku
