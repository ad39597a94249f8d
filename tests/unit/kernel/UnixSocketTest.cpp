// UnixSocket: the memory a sender has in flight comes back when the receiver reads it, when a
// stream read takes part of a message, and when the receiver is destroyed unread; a listener's
// backlog; connections still pending when the listener goes are reset; names are found only
// while their socket lives.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "kernel/PollEvents.h"
#include "kernel/UnixSocket.h"

using namespace kioku;

namespace {

std::vector<u8> bytes(size_t n)
{
    return std::vector<u8>(n, 0x5a);
}

bool writable(const UnixSocket& s)
{
    return s.poll().mask & EPOLLOUT_;
}

} // namespace

TEST(UnixSocketTest, StreamInFlightReturnsAsTheReceiverReads)
{
    auto [a, b] = UnixSocket::make_pair(UnixSocket::Type::Stream, {});
    auto sent = a->send(bytes(UnixSocket::SNDBUF), {});
    ASSERT_FALSE(sent.is_error());
    EXPECT_EQ(sent.value(), UnixSocket::SNDBUF);
    EXPECT_FALSE(writable(*a));
    auto more = a->send(bytes(1), {});
    ASSERT_TRUE(more.is_error());
    EXPECT_EQ(more.error().code, EAGAIN);
    // A partial read gives back what it took: three quarters read leaves a quarter in flight.
    ASSERT_FALSE(b->recv(UnixSocket::SNDBUF * 3 / 4, false).is_error());
    EXPECT_TRUE(writable(*a));
    EXPECT_EQ(a->send(bytes(UnixSocket::SNDBUF), {}).value(), UnixSocket::SNDBUF * 3 / 4);
}

TEST(UnixSocketTest, DatagramsCountTheirBuffersAndComeBackWhenTheReceiverGoes)
{
    auto [a, b] = UnixSocket::make_pair(UnixSocket::Type::Dgram, {});
    int sent = 0;
    while (!a->send(bytes(1), {}).is_error())
        ++sent;
    // 768 bytes each (see enqueue), sent while less than SNDBUF is in flight
    EXPECT_EQ(sent, static_cast<int>((UnixSocket::SNDBUF + 767) / 768));
    b.reset();
    EXPECT_TRUE(writable(*a));
    auto after = a->send(bytes(1), {});
    ASSERT_TRUE(after.is_error());
    EXPECT_EQ(after.error().code, ECONNREFUSED);
    EXPECT_EQ(a->send(bytes(1), {}).error().code, ENOTCONN);
}

TEST(UnixSocketTest, BacklogHoldsOneMoreThanAskedAndAcceptTakesTheOldest)
{
    UnixNames names;
    auto listener = UnixSocket::make(UnixSocket::Type::Stream);
    ASSERT_FALSE(names.bind_abstract(std::string("\0srv", 4), listener).is_error());
    ASSERT_FALSE(listener->listen(1, {7, 0, 0}).is_error());
    auto c1 = UnixSocket::make(UnixSocket::Type::Stream);
    auto c2 = UnixSocket::make(UnixSocket::Type::Stream);
    auto c3 = UnixSocket::make(UnixSocket::Type::Stream);
    EXPECT_FALSE(c1->connect(listener, {1, 0, 0}).is_error());
    EXPECT_FALSE(c2->connect(listener, {2, 0, 0}).is_error());
    EXPECT_EQ(c3->connect(listener, {3, 0, 0}).error().code, EAGAIN);
    EXPECT_EQ(c1->peer_cred().pid, 7);
    auto first = listener->accept();
    ASSERT_FALSE(first.is_error());
    EXPECT_EQ(first.value()->peer_cred().pid, 1);
    EXPECT_FALSE(c3->connect(listener, {3, 0, 0}).is_error());
}

TEST(UnixSocketTest, PendingConnectionsAreResetWhenTheListenerGoes)
{
    UnixNames names;
    auto listener = UnixSocket::make(UnixSocket::Type::Stream);
    ASSERT_FALSE(names.bind_abstract(std::string("\0srv", 4), listener).is_error());
    ASSERT_FALSE(listener->listen(4, {}).is_error());
    auto client = UnixSocket::make(UnixSocket::Type::Stream);
    ASSERT_FALSE(client->connect(listener, {}).is_error());
    ASSERT_FALSE(client->send(bytes(100), {}).is_error());
    listener.reset();
    EXPECT_EQ(names.find_abstract(std::string("\0srv", 4)), nullptr);
    EXPECT_TRUE(client->poll().mask & EPOLLERR_);
    EXPECT_TRUE(writable(*client)); // the 100 bytes died with the pending server end
    EXPECT_EQ(client->recv(10, false).error().code, ECONNRESET);
    auto end = client->recv(10, false);
    ASSERT_FALSE(end.is_error());
    EXPECT_TRUE(end.value().bytes.empty());
}

TEST(UnixSocketTest, AutomaticNamesSkipThoseInUse)
{
    UnixNames names;
    auto s = UnixSocket::make(UnixSocket::Type::Dgram);
    ASSERT_FALSE(names
                     .bind_abstract(std::string("\0"
                                                "00000",
                                                6),
                                    s)
                     .is_error());
    auto name = names.autobind_name();
    ASSERT_FALSE(name.is_error());
    EXPECT_EQ(name.value(), std::string("\0"
                                        "00001",
                                        6));
}
