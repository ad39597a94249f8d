// An AF_UNIX socket (net/unix/af_unix.c): stream, datagram or seqpacket; made connected in pairs
// by socketpair, or alone by socket() and then named (bind), listened on, connected and accepted.
// Each socket owns the queue of messages sent to it; a message carries its bytes, the sender's
// address and the open files passed with SCM_RIGHTS, which are in flight (held by the message)
// until the receiver installs them. A listening socket's queue holds, instead, the server ends
// of connections not yet accepted: a stream connect completes at once, before accept, and the
// client may send to the server end while it waits there.
//
// Limits as Linux's defaults: a sender may have SNDBUF of memory in flight (sk_wmem_alloc),
// counted in bytes for a stream and in each datagram's buffer size (its sk_buff and data, as skb
// truesize) otherwise, so that a 1-byte datagram costs 768 bytes; a datagram is under SNDBUF - 32
// bytes. A listener holds backlog + 1 pending connections; a datagram socket that is not its
// sender's peer holds MAX_DGRAM_QLEN + 1 datagrams (net.unix.max_dgram_qlen).
//
// Names: an address is the bytes of sockaddr_un after sun_family, as getsockname returns them
// (a path with its terminating NUL, or an abstract name starting with NUL). UnixNames finds the
// socket bound to an abstract name or to a socket inode of the filesystem (by the host's device
// and inode numbers of the node bind made in the guest root).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/Result.h"
#include "base/Types.h"
#include "kernel/PollEvents.h"

namespace kioku {

struct OpenFile;

class UnixSocket : public std::enable_shared_from_this<UnixSocket> {
  public:
    enum class Type : u8 { Stream = 1, Dgram = 2, SeqPacket = 5 };
    enum class State : u8 { Unconnected, Listening, Connected };
    using Address = std::string;
    // SO_PEERCRED's struct ucred; nobody's ids (overflowuid) until a peer is known.
    struct Cred {
        i32 pid = 0;
        u32 uid = 65534;
        u32 gid = 65534;
    };
    static constexpr u64 SNDBUF = 212992;           // net.core.wmem_default
    static constexpr u64 MAX_FDS_PER_MESSAGE = 253; // SCM_MAX_FD
    static constexpr u64 MAX_DGRAM_QLEN = 10;       // net.unix.max_dgram_qlen
    static constexpr u32 SOMAXCONN = 4096;          // net.core.somaxconn

    struct Received {
        std::vector<u8> bytes;
        std::vector<std::shared_ptr<OpenFile>> files;
        Address from;        // the sender's address (empty: it had none)
        u64 full_length = 0; // of the datagram, when it was cut short (MSG_TRUNC)
        bool truncated = false;
    };

    static std::shared_ptr<UnixSocket> make(Type type);
    // Two connected sockets, each with `creator` as its peer's credentials.
    static std::pair<std::shared_ptr<UnixSocket>, std::shared_ptr<UnixSocket>> make_pair(Type type,
                                                                                         Cred creator);
    ~UnixSocket();
    UnixSocket(const UnixSocket&) = delete;
    UnixSocket& operator=(const UnixSocket&) = delete;

    Type type() const { return m_type; }
    State state() const { return m_state; }
    bool connection_based() const { return m_type != Type::Dgram; }
    const Address& name() const { return m_name; }
    void set_name(Address name) { m_name = std::move(name); }
    // The connected peer's address (getpeername): ENOTCONN when there is no peer.
    Result<Address> peer_name() const;
    const Cred& peer_cred() const { return m_peer_cred; }

    // listen(2): EOPNOTSUPP for a datagram socket, EINVAL unbound or connected. Listening again
    // only changes the backlog. `me`: the listener's credentials, the peer's of every client.
    Result<void> listen(i32 backlog, Cred me);
    // A stream or seqpacket connect to `listener` (checked in unix_stream_connect's order):
    // ECONNREFUSED when it does not listen, EAGAIN when its backlog is full, EISCONN or EINVAL
    // for a socket already connected or listening.
    Result<void> connect(const std::shared_ptr<UnixSocket>& listener, Cred me);
    // The oldest pending connection: EINVAL when not listening, EAGAIN when there is none.
    Result<std::shared_ptr<UnixSocket>> accept();
    // A datagram connect: only `peer` may be sent to without an address, and only it may send
    // here (EPERM when `peer` is connected to another socket). Null disconnects (AF_UNSPEC).
    Result<void> connect_dgram(const std::shared_ptr<UnixSocket>& peer);

    // To the connected peer. EAGAIN when the send buffer is full; EPIPE once the peer is gone or
    // either side shut the direction down (a datagram socket whose peer is gone: ECONNREFUSED
    // once, ENOTCONN after); ENOTCONN unconnected; EMSGSIZE for a datagram too large, checked
    // before all else but a seqpacket socket's connection (Linux 6.18's order). A stream send
    // may take only part of the bytes.
    Result<u64> send(std::span<const u8> bytes, std::vector<std::shared_ptr<OpenFile>> files);
    // A datagram to `target` (sendto with an address): EPERM when `target` is connected to
    // another socket, EAGAIN when its queue or our send buffer is full.
    Result<u64> send_to(const std::shared_ptr<UnixSocket>& target, std::span<const u8> bytes,
                        std::vector<std::shared_ptr<OpenFile>> files);
    // Up to `max` bytes: EAGAIN when nothing is queued and more may come; an empty result at the
    // end of a stream; a pending error (ECONNRESET: the peer closed with data unread) once;
    // EINVAL for an unconnected stream socket, ENOTCONN for seqpacket. peek leaves the queue.
    Result<Received> recv(u64 max, bool peek);
    // shutdown(2): SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2.
    void shutdown(int how);
    PollState poll() const;
    const WakeCounts& wakes() const { return m_wakes; }
    // SO_ERROR: the pending error, cleared by reading it.
    int take_error();

  private:
    struct Message {
        std::vector<u8> bytes;
        std::vector<std::shared_ptr<OpenFile>> files;
        u64 charge = 0; // what it counts against the sender's SNDBUF
        std::weak_ptr<UnixSocket> sender;
        Address from;
    };

    explicit UnixSocket(Type type)
        : m_type(type)
    {
    }
    Result<u64> enqueue(UnixSocket& target, std::span<const u8> bytes,
                        std::vector<std::shared_ptr<OpenFile>> files);
    // The sender's side of a datagram send (EMSGSIZE, EPIPE, EAGAIN), then the target's.
    Result<void> may_send_datagram(u64 size) const;
    Result<u64> deliver(UnixSocket& target, std::span<const u8> bytes,
                        std::vector<std::shared_ptr<OpenFile>> files);
    // Gives a message's charge (or `bytes` of it) back to its sender.
    static void uncharge(Message& m, u64 bytes);
    bool writable() const;
    // unix_recvq_full: a datagram target that is not our peer, or a listener, past its limit.
    bool queue_full_for(const UnixSocket& sender) const;

    Type m_type;
    State m_state = State::Unconnected;
    Address m_name;
    std::weak_ptr<UnixSocket> m_peer;
    Address m_peer_name;     // the peer's address when it connected, for after it is gone
    bool m_had_peer = false; // a datagram socket's connect target, alive or not
    Cred m_peer_cred;
    std::deque<Message> m_queue;                       // sent to this socket, not yet read
    std::deque<std::shared_ptr<UnixSocket>> m_pending; // a listener's connections, not accepted
    u32 m_backlog = 0;
    u64 m_in_flight = 0;       // our messages not yet read (sk_wmem_alloc)
    int m_error = 0;           // sk_err
    bool m_shut_read = false;  // this end will read no more
    bool m_shut_write = false; // this end will send no more
    bool m_embryo = false;     // a server end in its listener's queue
    WakeCounts m_wakes;
};

// The bound names of a run (one network namespace).
class UnixNames {
  public:
    using Key = std::pair<u64, u64>; // a socket inode's host device and inode number

    std::shared_ptr<UnixSocket> find_abstract(const UnixSocket::Address& name);
    std::shared_ptr<UnixSocket> find_inode(Key key);
    // EADDRINUSE when a live socket has the name.
    Result<void> bind_abstract(const UnixSocket::Address& name, const std::shared_ptr<UnixSocket>& s);
    void bind_inode(Key key, const std::shared_ptr<UnixSocket>& s);
    // An unused abstract name of five hex digits (unix_autobind), taken in order from 0 so
    // that runs repeat; ENOSPC when all are in use.
    Result<UnixSocket::Address> autobind_name();

  private:
    std::map<UnixSocket::Address, std::weak_ptr<UnixSocket>> m_abstract;
    std::map<Key, std::weak_ptr<UnixSocket>> m_inodes;
    u32 m_next_auto = 0;
};

} // namespace kioku
