@testable import BegawiHub
import NIOCore
import Testing

/// The rules behind the hub's exposure to the network, driven by a hand-moved clock.
@Suite struct ExposureLogicTests {
    @Test func tenFailuresAMinuteThenOneTryPerSixSeconds() {
        var buckets = FailureBuckets(perMinute: 10)
        for _ in 0..<10 {
            #expect(buckets.retryAfter("198.51.100.7", at: 0) == nil)
            buckets.failed("198.51.100.7", at: 0)
        }
        #expect(buckets.retryAfter("198.51.100.7", at: 0) == 6, "one try comes back every 6 s")
        #expect(buckets.retryAfter("198.51.100.7", at: 3) == 3)
        #expect(buckets.retryAfter("203.0.113.9", at: 1) == nil, "another address is not affected")
        // After the wait, one try: a site whose credential is right gets through, and is not punished forever.
        #expect(buckets.retryAfter("198.51.100.7", at: 6.1) == nil)
        buckets.failed("198.51.100.7", at: 6.1)
        #expect(buckets.retryAfter("198.51.100.7", at: 6.2) != nil, "a wrong one uses the try up")
        #expect(buckets.retryAfter("198.51.100.7", at: 70) == nil)
    }

    @Test func theTableOfAddressesStaysBounded() {
        var buckets = FailureBuckets(perMinute: 1, maxAddresses: 100)
        for i in 0..<1000 { buckets.failed("10.0.\(i / 256).\(i % 256)", at: Double(i)) }
        #expect(buckets.entries.count <= 100)
        // The newest are kept.
        #expect(buckets.retryAfter("10.0.3.231", at: 999.5) != nil)
    }

    /// What other processes counted (the database's tries left) replaces this process's count only
    /// when fewer, and refills here; an address that failed here stays one to ask about until full.
    @Test func triesCountedElsewhereAreAdoptedWhenFewer() {
        // 15 a minute: one try every 4 s (0.25 a second, exact in binary).
        var buckets = FailureBuckets(perMinute: 15)
        #expect(!buckets.hasFailed("198.51.100.7", at: 0))
        buckets.adopt("198.51.100.7", tries: 15, at: 0)
        #expect(buckets.entries.isEmpty, "a full bucket elsewhere adds nothing here")
        buckets.failed("198.51.100.7", at: 0)
        #expect(buckets.hasFailed("198.51.100.7", at: 0))
        buckets.adopt("198.51.100.7", tries: 0.5, at: 0)
        #expect(buckets.retryAfter("198.51.100.7", at: 0) == 2, "half a try left: 2 s to the next")
        buckets.adopt("198.51.100.7", tries: 4, at: 1)
        #expect(buckets.retryAfter("198.51.100.7", at: 1) == 1, "more tries elsewhere do not refill this process's")
        buckets.adopt("198.51.100.7", tries: -3, at: 1)
        buckets.adopt("198.51.100.7", tries: .nan, at: 1)
        #expect(buckets.retryAfter("198.51.100.7", at: 1) == 4, "nonsense reads as none left")
        #expect(buckets.hasFailed("198.51.100.7", at: 50))
        #expect(!buckets.hasFailed("198.51.100.7", at: 61.5), "refilled a minute after")
    }

    @Test func eachPhaseOfAConnectionArmsItsOwnTimer() {
        var d = ConnectionDeadlines(limits: .init(handshake: 10, header: 11, idle: 60, body: 30))
        #expect(d.started() == .arm(seconds: 10, reason: "no TLS handshake within 10 s"))
        #expect(d.handshakeCompleted() == .arm(seconds: 11, reason: "no request within 11 s of the handshake"))
        #expect(d.bytesArrived() == .arm(seconds: 11, reason: "request headers not complete within 11 s"))
        #expect(d.bytesArrived() == .none, "the header deadline runs from the first byte, not the last")
        #expect(d.headReceived() == .disarm)
        #expect(d.readRequested() == .arm(seconds: 30, reason: "no byte of the request body for 30 s"))
        #expect(d.readRequested() == .none)
        #expect(d.bytesArrived() == .disarm, "a byte of the body is progress")
        // While the hub does not ask for more (busy handler), no timer runs for the body.
        #expect(d.endReceived() == .disarm)
        #expect(d.readRequested() == .none)
        #expect(d.responseEnded() == .arm(seconds: 60, reason: "idle for 60 s between requests"))
        #expect(d.bytesArrived() == .arm(seconds: 11, reason: "request headers not complete within 11 s"))
        // An answer before the body was read (a refusal) leaves the body's rule in force.
        #expect(d.headReceived() == .disarm)
        #expect(d.responseEnded() == .none)
        #expect(d.readRequested() == .arm(seconds: 30, reason: "no byte of the request body for 30 s"))
    }

    @Test func peerAddressesCountIPv6ByTheSlash64() throws {
        #expect(PeerAddress.key(try .init(ipAddress: "192.0.2.1", port: 1)) == "192.0.2.1")
        #expect(PeerAddress.key(try .init(ipAddress: "::ffff:192.0.2.1", port: 1)) == "192.0.2.1")
        #expect(PeerAddress.key(try .init(ipAddress: "2001:db8:1:2:aaaa::1", port: 1)) == "2001:db8:1:2::/64")
        #expect(PeerAddress.key(try .init(ipAddress: "2001:db8:1:2:bbbb::9", port: 1)) == "2001:db8:1:2::/64")
        #expect(PeerAddress.key(nil) == "unknown")
    }
}
