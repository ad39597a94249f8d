// Sockets: AF_UNIX only (net/socket.c and net/unix/af_unix.c): socket and socketpair; bind to a
// path (a socket node in the guest root), an abstract name or an automatic one; listen, connect
// and accept; send and receive with addresses, SCM_RIGHTS, shutdown and the socket options
// programs ask about. There is no network: socket() of any other family is EAFNOSUPPORT, as on a
// kernel built without it. Binding inside a memory mount (/dev/shm) is refused with EPERM.
#include <cstring>
#include <sys/stat.h>

#include "kernel/Kernel.h"
#include "kernel/Mounts.h"
#include "kernel/Process.h"
#include "kernel/Runner.h"
#include "kernel/Signals.h"
#include "kernel/Syscalls.h"
#include "kernel/UnixSocket.h"
#include "kernel/Vfs.h"

namespace kioku {

namespace {

constexpr u64 AF_UNSPEC_ = 0, AF_UNIX_ = 1, SOCK_NONBLOCK_ = 04000, SOCK_CLOEXEC_ = 02000000;
constexpr int AT_FDCWD_ = -100;
constexpr int MSG_PEEK_ = 0x2, MSG_CTRUNC_ = 0x8, MSG_TRUNC_ = 0x20, MSG_DONTWAIT_ = 0x40,
              MSG_NOSIGNAL_ = 0x4000, MSG_CMSG_CLOEXEC_ = 0x40000000;
constexpr int SOL_SOCKET_ = 1, SCM_RIGHTS_ = 1;
constexpr int SO_TYPE_ = 3, SO_ERROR_ = 4, SO_SNDBUF_ = 7, SO_RCVBUF_ = 8, SO_PEERCRED_ = 17,
              SO_PROTOCOL_ = 38, SO_DOMAIN_ = 39, SO_ACCEPTCONN_ = 30;
constexpr i64 SOCKADDR_STORAGE_SIZE = 128, SOCKADDR_UN_SIZE = 110;
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

u16 family_of(std::span<const u8> raw)
{
    u16 family = 0;
    std::memcpy(&family, raw.data(), std::min<size_t>(raw.size(), 2));
    return family;
}

// unix_validate_addr and unix_mkname_bsd: a path ends at its first NUL (or the address's end)
// and is kept with one NUL; an abstract name is every byte after the family.
Result<UnixSocket::Address> unix_address(std::span<const u8> raw)
{
    if (raw.size() < 2 || family_of(raw) != AF_UNIX_)
        return Error::from_errno(EINVAL, "not an AF_UNIX address");
    if (static_cast<i64>(raw.size()) > SOCKADDR_UN_SIZE)
        return Error::from_errno(EINVAL, "address too long");
    auto name = raw.subspan(2);
    if (name.empty() || name[0] == 0)
        return UnixSocket::Address(name.begin(), name.end());
    auto end = std::find(name.begin(), name.end(), u8{0});
    return UnixSocket::Address(name.begin(), end) + '\0';
}

// A sockaddr_un as getsockname reports one: the family, then the name.
std::vector<u8> sockaddr_of(const UnixSocket::Address& name)
{
    std::vector<u8> out(2 + name.size());
    out[0] = static_cast<u8>(AF_UNIX_);
    std::copy(name.begin(), name.end(), out.begin() + 2);
    return out;
}

UnixSocket::Cred cred_of(Process& p)
{
    return {p.pid(), p.creds.euid, p.creds.egid};
}

std::shared_ptr<OpenFile> socket_open_file(std::shared_ptr<UnixSocket> s, bool nonblock, u64 ino)
{
    auto file = std::make_shared<OpenFile>();
    file->special = std::make_shared<SpecialFile>(SpecialFile::Kind::Socket);
    file->special->socket = std::move(s);
    file->special->nonblock = nonblock;
    file->readable = file->writable = true;
    file->special->ino = ino;
    file->path = "socket:[" + std::to_string(ino) + "]";
    return file;
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

Result<UnixSocket::Type> Syscalls::unix_socket_type(const SyscallArgs& a, int other_family)
{
    // __sock_create and unix_create, in their order of checks.
    u32 type = static_cast<u32>(a[1]) & 0xf; // SOCK_TYPE_MASK
    u32 type_flags = static_cast<u32>(a[1]) & ~u32{0xf};
    if (type_flags & ~(SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return Error::from_errno(EINVAL, "unknown socket flags");
    if (static_cast<i32>(a[0]) < 0 || a[0] >= 46) // NPROTO
        return Error::from_errno(EAFNOSUPPORT, "no such address family");
    if (type >= 11) // SOCK_MAX
        return Error::from_errno(EINVAL, "no such socket type");
    if (a[0] != AF_UNIX_)
        return Error::from_errno(other_family, "only AF_UNIX sockets here");
    if (a[2] != 0 && a[2] != AF_UNIX_)
        return Error::from_errno(EPROTONOSUPPORT, "no such protocol");
    if (type == 3) // SOCK_RAW is a datagram socket in AF_UNIX
        type = 2;
    if (type != 1 && type != 2 && type != 5)
        return Error::from_errno(ESOCKTNOSUPPORT, "no such AF_UNIX socket type");
    return static_cast<UnixSocket::Type>(type);
}

SyscallResult Syscalls::sys_socket(Task& t, const SyscallArgs& a)
{
    auto type = unix_socket_type(a, EAFNOSUPPORT);
    if (type.is_error())
        return SyscallResult::err(type.error().code);
    return install_fd(t, socket_open_file(UnixSocket::make(type.value()), a[1] & SOCK_NONBLOCK_, next_ino()),
                      a[1] & SOCK_CLOEXEC_);
}

SyscallResult Syscalls::sys_socketpair(Task& t, const SyscallArgs& a)
{
    auto type = unix_socket_type(a, EOPNOTSUPP); // no network families here to pair
    if (type.is_error())
        return SyscallResult::err(type.error().code);
    Process& p = process(t);
    auto [one, two] = UnixSocket::make_pair(type.value(), cred_of(p));
    bool nonblock = a[1] & SOCK_NONBLOCK_;
    bool cloexec = a[1] & SOCK_CLOEXEC_;
    auto fd0 = p.install(socket_open_file(std::move(one), nonblock, next_ino()));
    if (fd0.is_error())
        return SyscallResult::err(fd0.error().code);
    auto fd1 = p.install(socket_open_file(std::move(two), nonblock, next_ino()));
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

Result<std::vector<u8>> Syscalls::read_sockaddr(Task& t, u64 addr, i64 len)
{
    // move_addr_to_kernel
    if (len < 0 || len > SOCKADDR_STORAGE_SIZE)
        return Error::from_errno(EINVAL, "bad address length");
    std::vector<u8> raw(static_cast<size_t>(len));
    if (len)
        TRY(get_bytes(t, addr, raw.data(), raw.size()));
    return raw;
}

Result<void> Syscalls::put_sockaddr(Task& t, u64 addr, u64 len_addr, std::span<const u8> bytes)
{
    // move_addr_to_user: as much as the caller has room for, and the full length.
    i32 len = 0;
    TRY(get_bytes(t, len_addr, &len, 4));
    i32 full = static_cast<i32>(bytes.size());
    if (len > full)
        len = full;
    if (len < 0)
        return Error::from_errno(EINVAL, "negative address length");
    if (len)
        TRY(put_bytes(t, addr, bytes.data(), static_cast<u64>(len)));
    TRY(put_bytes(t, len_addr, &full, 4));
    return {};
}

Result<std::string> Syscalls::socket_path(Task& t, const UnixSocket::Address& name)
{
    Result<void> bad;
    std::string path = absolute_path(t, AT_FDCWD_, name.substr(0, name.size() - 1), &bad);
    if (bad.is_error())
        return bad.error();
    return path;
}

Result<std::shared_ptr<UnixSocket>> Syscalls::find_socket(Task& t, const UnixSocket::Address& name,
                                                          UnixSocket::Type type)
{
    // unix_find_other: an abstract name, or a socket node found by its path (following links).
    std::shared_ptr<UnixSocket> s;
    if (name.empty() || name[0] == 0) {
        s = m_unix_names.find_abstract(name);
    } else {
        std::string path = TRY(socket_path(t, name));
        std::string leaf;
        if (!kernel().mounts().holding(path, &leaf) && !is_proc_path(path)) {
            struct stat st = TRY(kernel().vfs().stat(path, Follow::Yes));
            if (S_ISSOCK(st.st_mode))
                s = m_unix_names.find_inode({st.st_dev, st.st_ino});
        }
    }
    if (!s)
        return Error::from_errno(ECONNREFUSED, "no socket is bound there");
    if (s->type() != type)
        return Error::from_errno(EPROTOTYPE, "the socket there is of another type");
    return s;
}

Result<std::pair<SpecialFile*, std::vector<u8>>> Syscalls::socket_and_address(Task& t, const SyscallArgs& a)
{
    // bind and connect: (fd, addr, addrlen).
    SpecialFile* file = TRY(socket_file(t, a.fd(0)));
    return std::pair{file, TRY(read_sockaddr(t, a[1], static_cast<i32>(a[2])))};
}

SyscallResult Syscalls::sys_bind(Task& t, const SyscallArgs& a)
{
    auto call = socket_and_address(t, a);
    if (call.is_error())
        return SyscallResult::err(call.error().code);
    auto& [file, raw] = call.value();
    const std::shared_ptr<UnixSocket>& sock = file->socket;
    if (raw.size() == 2 && family_of(raw) == AF_UNIX_) {
        // unix_autobind: a bound socket keeps its name.
        if (!sock->name().empty())
            return SyscallResult::ret(0);
        auto name = m_unix_names.autobind_name();
        if (name.is_error())
            return SyscallResult::err(name.error().code);
        return SyscallResult::of(m_unix_names.bind_abstract(name.value(), sock));
    }
    auto name = unix_address(raw);
    if (name.is_error())
        return SyscallResult::err(name.error().code);
    if (name.value()[0] == 0) {
        if (!sock->name().empty())
            return SyscallResult::err(EINVAL);
        return SyscallResult::of(m_unix_names.bind_abstract(name.value(), sock));
    }
    // unix_bind_bsd: the node first (EADDRINUSE if the path exists), then the socket.
    auto path = socket_path(t, name.value());
    if (path.is_error())
        return SyscallResult::err(path.error().code);
    std::string leaf;
    if (kernel().mounts().holding(path.value(), &leaf))
        return SyscallResult::err(EPERM);
    if (is_kernel_path(path.value()))
        return SyscallResult::err(EACCES);
    auto st = kernel().vfs().make_node(path.value(), S_IFSOCK | (0777 & ~group(t).umask));
    if (st.is_error())
        return SyscallResult::err(st.error().code == EEXIST ? EADDRINUSE : st.error().code);
    if (!sock->name().empty()) {
        (void)kernel().vfs().unlink(path.value());
        return SyscallResult::err(EINVAL);
    }
    sock->set_name(name.value());
    m_unix_names.bind_inode({st.value().st_dev, st.value().st_ino}, sock);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_listen(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    return SyscallResult::of(s.value()->socket->listen(static_cast<i32>(a[1]), cred_of(process(t))));
}

SyscallResult Syscalls::sys_connect(Task& t, const SyscallArgs& a)
{
    auto call = socket_and_address(t, a);
    if (call.is_error())
        return SyscallResult::err(call.error().code);
    auto& [file, raw] = call.value();
    const std::shared_ptr<UnixSocket>& sock = file->socket;
    if (sock->type() == UnixSocket::Type::Dgram) {
        // unix_dgram_connect: AF_UNSPEC dissolves the association.
        if (raw.size() < 2)
            return SyscallResult::err(EINVAL);
        if (family_of(raw) == AF_UNSPEC_)
            return SyscallResult::of(sock->connect_dgram(nullptr));
    }
    auto name = unix_address(raw);
    if (name.is_error())
        return SyscallResult::err(name.error().code);
    auto other = find_socket(t, name.value(), sock->type());
    if (other.is_error())
        return SyscallResult::err(other.error().code);
    if (sock->type() == UnixSocket::Type::Dgram)
        return SyscallResult::of(sock->connect_dgram(other.value()));
    auto r = sock->connect(other.value(), cred_of(process(t)));
    if (r.is_error())
        return socket_failed(t, r.error(), file->nonblock);
    end_wait(t);
    return SyscallResult::ret(0);
}

SyscallResult Syscalls::sys_accept(Task& t, const SyscallArgs& a)
{
    SyscallArgs with_flags = a;
    with_flags.a[3] = 0;
    return sys_accept4(t, with_flags);
}

SyscallResult Syscalls::sys_accept4(Task& t, const SyscallArgs& a)
{
    if (a[3] & ~(SOCK_NONBLOCK_ | SOCK_CLOEXEC_))
        return SyscallResult::err(EINVAL);
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    auto r = s.value()->socket->accept();
    if (r.is_error())
        return socket_failed(t, r.error(), s.value()->nonblock);
    end_wait(t);
    std::shared_ptr<UnixSocket> server = std::move(r.value());
    if (a[1]) {
        // The client's address; when it cannot be written the connection is dropped.
        auto peer = server->peer_name();
        if (put_sockaddr(t, a[1], a[2], sockaddr_of(peer.is_error() ? "" : peer.value())).is_error())
            return SyscallResult::err(EFAULT);
    }
    return install_fd(t, socket_open_file(std::move(server), a[3] & SOCK_NONBLOCK_, next_ino()),
                      a[3] & SOCK_CLOEXEC_);
}

Result<u64> Syscalls::socket_send(Task& t, SpecialFile& f, std::span<const u8> to, std::span<const u8> data,
                                  std::vector<std::shared_ptr<OpenFile>> files, int flags)
{
    UnixSocket& s = *f.socket;
    if (!to.empty() && s.type() == UnixSocket::Type::Dgram) {
        auto name = TRY(unix_address(to));
        auto target = TRY(find_socket(t, name, s.type()));
        return s.send_to(target, data, std::move(files));
    }
    if (!to.empty() && s.type() == UnixSocket::Type::Stream)
        return Error::from_errno(s.state() == UnixSocket::State::Connected ? EISCONN : EOPNOTSUPP,
                                 "a stream socket sends to its peer only");
    auto sent = s.send(data, std::move(files)); // a seqpacket socket ignores an address
    // Only a stream raises SIGPIPE (unix_stream_sendmsg); datagram and seqpacket sends do not.
    if (sent.is_error() && sent.error().code == EPIPE && s.type() == UnixSocket::Type::Stream &&
        !(flags & MSG_NOSIGNAL_))
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
    std::vector<u8> to;
    if (a[4]) {
        auto raw = read_sockaddr(t, a[4], static_cast<i32>(a[5]));
        if (raw.is_error())
            return SyscallResult::err(raw.error().code);
        to = std::move(raw.value());
    }
    std::vector<u8> data(std::min(a[2], MAX_IO_CHUNK));
    if (!data.empty() && get_bytes(t, a[1], data.data(), data.size()).is_error())
        return SyscallResult::err(EFAULT);
    auto r = socket_send(t, *s.value(), to, data, {}, static_cast<int>(a[3]));
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
    // copy_msghdr_from_user: a negative name length is EINVAL, a long one is cut to the storage.
    if (static_cast<i32>(h.namelen) < 0)
        return SyscallResult::err(EINVAL);
    std::vector<u8> to;
    if (h.name && h.namelen) {
        auto raw = read_sockaddr(t, h.name, std::min<i64>(h.namelen, SOCKADDR_STORAGE_SIZE));
        if (raw.is_error())
            return SyscallResult::err(raw.error().code);
        to = std::move(raw.value());
    }
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
    auto r = socket_send(t, *s.value(), to, bytes.value(), std::move(files), flags);
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
    if (a[4]) {
        auto from = put_sockaddr(t, a[4], a[5], got.from.empty() ? std::vector<u8>{} : sockaddr_of(got.from));
        if (from.is_error())
            return SyscallResult::err(from.error().code);
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
    if (h.name) {
        auto from =
            put_sockaddr(t, h.name, a[1] + 8, got.from.empty() ? std::vector<u8>{} : sockaddr_of(got.from));
        if (from.is_error())
            return SyscallResult::err(from.error().code);
    }
    if (put_bytes(t, a[1] + 40, &control_len, 8).is_error() ||
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
    UnixSocket& sock = *s.value()->socket;
    if (static_cast<int>(a[2]) == SO_PEERCRED_) {
        i32 len = 0;
        if (get_bytes(t, a[4], &len, 4).is_error())
            return SyscallResult::err(EFAULT);
        if (len < 0)
            return SyscallResult::err(EINVAL);
        const UnixSocket::Cred& c = sock.peer_cred();
        u32 cred[3] = {static_cast<u32>(c.pid), c.uid, c.gid};
        u32 n = std::min<u32>(static_cast<u32>(len), sizeof cred);
        if (put_bytes(t, a[3], cred, n).is_error() || put_bytes(t, a[4], &n, 4).is_error())
            return SyscallResult::err(EFAULT);
        return SyscallResult::ret(0);
    }
    switch (static_cast<int>(a[2])) {
    case SO_TYPE_: value = static_cast<i32>(sock.type()); break;
    case SO_ERROR_: value = sock.take_error(); break;
    case SO_SNDBUF_:
    case SO_RCVBUF_: value = static_cast<i32>(UnixSocket::SNDBUF); break;
    case SO_DOMAIN_: value = AF_UNIX_; break;
    case SO_PROTOCOL_: value = 0; break;
    case SO_ACCEPTCONN_: value = sock.state() == UnixSocket::State::Listening; break;
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
    // An unnamed socket's address is the family alone.
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    return SyscallResult::of(put_sockaddr(t, a[1], a[2], sockaddr_of(s.value()->socket->name())));
}

SyscallResult Syscalls::sys_getpeername(Task& t, const SyscallArgs& a)
{
    auto s = socket_file(t, a.fd(0));
    if (s.is_error())
        return SyscallResult::err(s.error().code);
    auto peer = s.value()->socket->peer_name();
    if (peer.is_error())
        return SyscallResult::err(peer.error().code);
    return SyscallResult::of(put_sockaddr(t, a[1], a[2], sockaddr_of(peer.value())));
}

} // namespace kioku
