// Sockets: AF_UNIX pairs (socketpair) with send, receive, SCM_RIGHTS, shutdown and the socket
// options programs ask about. There is no network: socket() of any family is EAFNOSUPPORT, as on
// a kernel built without it, and named AF_UNIX sockets are not modelled.
#include <cstring>

#include "kernel/Kernel.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/UnixSocket.h"

namespace kioku {

namespace {

constexpr u64 AF_UNIX_ = 1, SOCK_NONBLOCK_ = 04000, SOCK_CLOEXEC_ = 02000000;
constexpr int MSG_PEEK_ = 0x2, MSG_CTRUNC_ = 0x8, MSG_TRUNC_ = 0x20, MSG_DONTWAIT_ = 0x40,
              MSG_NOSIGNAL_ = 0x4000, MSG_CMSG_CLOEXEC_ = 0x40000000;
constexpr int SOL_SOCKET_ = 1, SCM_RIGHTS_ = 1;
constexpr int SO_TYPE_ = 3, SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_PROTOCOL_ = 38, SO_DOMAIN_ = 39,
              SO_ACCEPTCONN_ = 30;
constexpr u64 MAX_IOV_ = 1024;

// struct msghdr on riscv64.
struct GuestMsghdr {
    u64 name;
    u32 namelen;
    u32 pad0;
    u64 iov;
    u64 iovlen;
    u64 control;
    u64 controllen;
    i32 flags;
    u32 pad1;
};
static_assert(sizeof(GuestMsghdr) == 56);

constexpr u64 CMSG_HDR = 16; // cmsg_len (8), cmsg_level (4), cmsg_type (4)
u64 cmsg_align(u64 n)
{
    return (n + 7) & ~u64{7};
}

} // namespace

Result<SpecialFile*> Syscalls::socket_file(Task& t, int fd)
{
    auto f = open_file(t, fd);
    if (f.is_error())
        return Error::from_errno(EBADF, "bad descriptor");
    if (!f.value()->special || f.value()->special->kind != SpecialFile::Kind::Socket)
        return Error::from_errno(ENOTSOCK, "not a socket");
    return f.value()->special.get();
}

SyscallResult Syscalls::socket_failed(Task& t, const Error& error, bool nonblock)
{
    // Nothing to read or no room to send: a blocking socket waits and tries again.
    if (error.code == EAGAIN && !nonblock)
        return block_retry(t, std::nullopt);
    end_wait(t);
    return SyscallResult::err(error.code);
}

SyscallResult Syscalls::sys_socket(Task&, const SyscallArgs&)
{
    return SyscallResult::err(EAFNOSUPPORT);
}

SyscallResult Syscalls::sys_socketpair(Task& t, const SyscallArgs& a)
{
    // __sys_socketpair and __sock_create, in their order of checks.
    u32 type = static_cast<u32>(a[1]) & 0xf; // SOCK_TYPE_MASK
    u32 type_flags = static_cast<u32>(a[1]) & ~u32{0xf};
    if (type_flags & ~(SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return SyscallResult::err(EINVAL);
    if (static_cast<i32>(a[0]) < 0 || a[0] >= 46) // NPROTO
        return SyscallResult::err(EAFNOSUPPORT);
    if (type >= 11) // SOCK_MAX
        return SyscallResult::err(EINVAL);
    if (a[0] != AF_UNIX_)
        return SyscallResult::err(EOPNOTSUPP); // no network families here to pair
    if (a[2] != 0 && a[2] != AF_UNIX_)
        return SyscallResult::err(EPROTONOSUPPORT);
    if (type == 3) // SOCK_RAW is a datagram socket in AF_UNIX
        type = 2;
    if (type != 1 && type != 2 && type != 5)
        return SyscallResult::err(ESOCKTNOSUPPORT);
    auto [one, two] = UnixSocket::make_pair(static_cast<UnixSocket::Type>(type));
    bool nonblock = a[1] & SOCK_NONBLOCK_;
    bool cloexec = a[1] & SOCK_CLOEXEC_;
    auto make_file = [&](std::shared_ptr<UnixSocket> end) {
        auto file = std::make_shared<OpenFile>();
        file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Socket);
        file->special->socket = std::move(end);
        file->special->nonblock = nonblock;
        file->readable = file->writable = true;
        file->special->ino = next_ino();
        file->path = "socket:[" + std::to_string(file->special->ino) + "]";
        return file;
    };
    Process& p = process(t);
    auto fd0 = p.install(make_file(std::move(one)));
    if (fd0.is_error())
        return SyscallResult::err(fd0.error().code);
    auto fd1 = p.install(make_file(std::move(two)));
    if (fd1.is_error()) {
        kernel().drop_fd(p, fd0.value());
        return SyscallResult::err(fd1.error().code);
    }
    i32 fds[2] = {fd0.value(), fd1.value()};
    if (put_bytes(t, a[3], fds, sizeof fds).is_error()) {
        kernel().drop_fd(p, fds[0]);
        kernel().drop_fd(p, fds[1]);
        return SyscallResult::err(EFAULT);
    }
    if (cloexec) {
        group(t).cloexec.insert(fds[0]);
        group(t).cloexec.insert(fds[1]);
    }
    return SyscallResult::ret(0);
}

Result<u64> Syscalls::socket_send(Task& t, UnixSocket& s, std::span<const u8> data,
                                  std::vector<std::shared_ptr<OpenFile>> files, int flags)
{
    auto sent = s.send(data, std::move(files));
    if (sent.is_error() && sent.error().code == EPIPE && !(flags & MSG_NOSIGNAL_))
        raise_sigpipe(t);
    return sent;
}

// Gathers the bytes of an iovec array (sendmsg), or sizes it; EINVAL past UIO_MAXIOV.
Result<std::vector<u8>> Syscalls::gather_iov(Task& t, u64 iov, u64 count)
{
    if (count > MAX_IOV_)
        return Error::from_errno(EMSGSIZE, "too many iovecs");
    std::vector<u8> out;
    for (auto [base, len] : TRY(read_iovec(t, iov, count))) {
        if (static_cast<i64>(len) < 0)
            return Error::from_errno(EINVAL, "negative iovec length");
        u64 n = std::min<u64>(len, MAX_IO_CHUNK - std::min<u64>(out.size(), MAX_IO_CHUNK));
        size_t at = out.size();
        out.resize(at + n);
        if (n)
            TRY(get_bytes(t, base, out.data() + at, n));
    }
    return out;
}

SyscallResult Syscalls::sys_sendto(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    bool nonblock = (a.i(3) & MSG_DONTWAIT_) || s.value()->nonblock;
    if (a[4])
        return SyscallResult::err(EISCONN); // a socketpair end is connected
    std::vector<u8> data(std::min(a[2], MAX_IO_CHUNK));
    if (!data.empty() && get_bytes(t, a[1], data.data(), data.size()).is_error())
        return SyscallResult::err(EFAULT);
    auto r = socket_send(t, *s.value()->socket, data, {}, static_cast<int>(a[3]));
    if (r.is_error())
        return socket_failed(t, r.error(), nonblock);
    end_wait(t);
    return SyscallResult::ret(static_cast<i64>(r.value()));
}

SyscallResult Syscalls::sys_sendmsg(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    int flags = static_cast<int>(a[2]);
    bool nonblock = (flags & MSG_DONTWAIT_) || s.value()->nonblock;
    GuestMsghdr h{};
    if (get_bytes(t, a[1], &h, sizeof h).is_error())
        return SyscallResult::err(EFAULT);
    if (h.name && h.namelen)
        return SyscallResult::err(EISCONN);
    auto bytes = gather_iov(t, h.iov, h.iovlen);
    if (bytes.is_error())
        return SyscallResult::err(bytes.error().code);
    // Control messages: SCM_RIGHTS only (a list of descriptors to pass).
    std::vector<std::shared_ptr<OpenFile>> files;
    if (h.controllen) {
        if (h.controllen > 65536)
            return SyscallResult::err(ENOBUFS);
        std::vector<u8> control(h.controllen);
        if (get_bytes(t, h.control, control.data(), control.size()).is_error())
            return SyscallResult::err(EFAULT);
        for (u64 off = 0; off + CMSG_HDR <= control.size();) {
            u64 len;
            i32 level, type;
            std::memcpy(&len, control.data() + off, 8);
            std::memcpy(&level, control.data() + off + 8, 4);
            std::memcpy(&type, control.data() + off + 12, 4);
            if (len < CMSG_HDR || off + len > control.size())
                return SyscallResult::err(EINVAL);
            if (level != SOL_SOCKET_ || type != SCM_RIGHTS_)
                return SyscallResult::err(EINVAL);
            u64 n = (len - CMSG_HDR) / 4;
            if (files.size() + n > UnixSocket::MAX_FDS_PER_MESSAGE)
                return SyscallResult::err(EINVAL);
            for (u64 i = 0; i < n; ++i) {
                i32 fd;
                std::memcpy(&fd, control.data() + off + CMSG_HDR + i * 4, 4);
                auto& table = process(t).files();
                auto found = table.find(fd);
                if (found == table.end())
                    return SyscallResult::err(EBADF);
                files.push_back(found->second);
            }
            off += cmsg_align(len);
        }
    }
    auto r = socket_send(t, *s.value()->socket, bytes.value(), std::move(files), flags);
    if (r.is_error())
        return socket_failed(t, r.error(), nonblock);
    end_wait(t);
    return SyscallResult::ret(static_cast<i64>(r.value()));
}

SyscallResult Syscalls::sys_recvfrom(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    int flags = static_cast<int>(a[3]);
    bool nonblock = (flags & MSG_DONTWAIT_) || s.value()->nonblock;
    auto r = s.value()->socket->recv(std::min(a[2], MAX_IO_CHUNK), flags & MSG_PEEK_);
    if (r.is_error())
        return socket_failed(t, r.error(), nonblock);
    end_wait(t);
    const auto& got = r.value();
    if (!got.bytes.empty() && put_bytes(t, a[1], got.bytes.data(), got.bytes.size()).is_error())
        return SyscallResult::err(EFAULT);
    if (a[4] && a[5]) {
        u32 zero = 0; // the peer of a socketpair has no address
        if (put_bytes(t, a[5], &zero, 4).is_error())
            return SyscallResult::err(EFAULT);
    }
    u64 n = (flags & MSG_TRUNC_) && got.truncated ? got.full_length : got.bytes.size();
    return SyscallResult::ret(static_cast<i64>(n));
}

SyscallResult Syscalls::sys_recvmsg(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    int flags = static_cast<int>(a[2]);
    bool nonblock = (flags & MSG_DONTWAIT_) || s.value()->nonblock;
    GuestMsghdr h{};
    if (get_bytes(t, a[1], &h, sizeof h).is_error())
        return SyscallResult::err(EFAULT);
    if (h.iovlen > MAX_IOV_)
        return SyscallResult::err(EMSGSIZE);
    auto vec = read_iovec(t, h.iov, h.iovlen);
    if (vec.is_error())
        return SyscallResult::err(vec.error().code);
    const std::vector<IoVec>& iov = vec.value();
    u64 room = 0;
    for (const IoVec& v : iov) {
        if (static_cast<i64>(v.len) < 0)
            return SyscallResult::err(EINVAL);
        room += std::min<u64>(v.len, MAX_IO_CHUNK);
    }
    auto r = s.value()->socket->recv(std::min(room, MAX_IO_CHUNK), flags & MSG_PEEK_);
    if (r.is_error())
        return socket_failed(t, r.error(), nonblock);
    end_wait(t);
    auto& got = r.value();
    u64 done = 0;
    for (auto [base, len] : iov) {
        if (done == got.bytes.size())
            break;
        u64 n = std::min(len, got.bytes.size() - done);
        if (put_bytes(t, base, got.bytes.data() + done, n).is_error())
            return SyscallResult::err(EFAULT);
        done += n;
    }
    // The passed files become descriptors of the receiver, as many as the control buffer has
    // room for; the rest are closed and MSG_CTRUNC says so.
    i32 out_flags = got.truncated ? MSG_TRUNC_ : 0;
    u64 control_used = 0;
    if (!got.files.empty()) {
        u64 fit = h.controllen >= CMSG_HDR ? (h.controllen - CMSG_HDR) / 4 : 0;
        u64 n = std::min<u64>(fit, got.files.size());
        if (n < got.files.size())
            out_flags |= MSG_CTRUNC_;
        std::vector<i32> fds;
        Process& p = process(t);
        for (u64 i = 0; i < n; ++i) {
            auto fd = p.install(got.files[i]);
            if (fd.is_error()) {
                out_flags |= MSG_CTRUNC_;
                break;
            }
            fds.push_back(fd.value());
            if (flags & MSG_CMSG_CLOEXEC_)
                group(t).cloexec.insert(fd.value());
        }
        if (!fds.empty()) {
            std::vector<u8> cmsg(CMSG_HDR + fds.size() * 4);
            u64 len = cmsg.size();
            i32 level = SOL_SOCKET_, type = SCM_RIGHTS_;
            std::memcpy(cmsg.data(), &len, 8);
            std::memcpy(cmsg.data() + 8, &level, 4);
            std::memcpy(cmsg.data() + 12, &type, 4);
            std::memcpy(cmsg.data() + CMSG_HDR, fds.data(), fds.size() * 4);
            if (put_bytes(t, h.control, cmsg.data(), cmsg.size()).is_error())
                return SyscallResult::err(EFAULT);
            control_used = cmsg_align(len);
        }
    }
    u64 control_len = std::min(control_used, h.controllen);
    u32 namelen = 0;
    if ((h.name && put_bytes(t, a[1] + 8, &namelen, 4).is_error()) ||
        put_bytes(t, a[1] + 40, &control_len, 8).is_error() ||
        put_bytes(t, a[1] + 48, &out_flags, 4).is_error())
        return SyscallResult::err(EFAULT);
    u64 n = (flags & MSG_TRUNC_) && got.truncated ? got.full_length : got.bytes.size();
    return SyscallResult::ret(static_cast<i64>(n));
}

SyscallResult Syscalls::sys_shutdown(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    if (a[1] > 2)
        return SyscallResult::err(EINVAL);
    s.value()->socket->shutdown(static_cast<int>(a[1]));
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_getsockopt(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    if (static_cast<int>(a[1]) != SOL_SOCKET_)
        return SyscallResult::err(EOPNOTSUPP);
    i32 value = 0;
    switch (static_cast<int>(a[2])) {
    case SO_TYPE_: value = static_cast<i32>(s.value()->socket->type()); break;
    case SO_ERROR_: value = 0; break;
    case SO_SNDBUF_:
    case SO_RCVBUF_: value = static_cast<i32>(UnixSocket::SNDBUF); break;
    case SO_DOMAIN_: value = AF_UNIX_; break;
    case SO_PROTOCOL_: value = 0; break;
    case SO_ACCEPTCONN_: value = 0; break;
    default: return SyscallResult::err(ENOPROTOOPT);
    }
    i32 len = 0;
    if (get_bytes(t, a[4], &len, 4).is_error())
        return SyscallResult::err(EFAULT);
    if (len < 0)
        return SyscallResult::err(EINVAL);
    u32 n = std::min<u32>(static_cast<u32>(len), 4);
    if (put_bytes(t, a[3], &value, n).is_error() || put_bytes(t, a[4], &n, 4).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_setsockopt(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    if (static_cast<int>(a[1]) != SOL_SOCKET_)
        return SyscallResult::err(EOPNOTSUPP);
    int opt = static_cast<int>(a[2]);
    if (opt != SO_SNDBUF_ && opt != SO_RCVBUF_)
        return SyscallResult::err(ENOPROTOOPT);
    if (static_cast<i32>(a[4]) < 4)
        return SyscallResult::err(EINVAL);
    return SyscallResult::ret(0); // accepted; the buffers keep Linux's default size here
}

SyscallResult Syscalls::sys_getsockname(Task& t, const SyscallArgs& a)
{
    // An unnamed AF_UNIX socket: its address is the family alone.
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    i32 len = 0;
    if (get_bytes(t, a[2], &len, 4).is_error())
        return SyscallResult::err(EFAULT);
    if (len < 0)
        return SyscallResult::err(EINVAL);
    u16 family = AF_UNIX_;
    u32 n = std::min<u32>(static_cast<u32>(len), 2);
    u32 full = 2;
    if ((n && put_bytes(t, a[1], &family, n).is_error()) || put_bytes(t, a[2], &full, 4).is_error())
        return SyscallResult::err(EFAULT);
    return SyscallResult::ret(0);
}

} // namespace kioku
