@testable import BegawiHub
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// The watch of a connection's requests and answers, on an in-memory channel.
@Suite struct ConnectionWatchTests {
    /// An answer queued but not yet written out (a slow client still downloading it) does not start
    /// the idle timeout: closing then would drop the rest of the answer.
    @Test func theIdleTimeoutStartsOnceTheAnswerIsWrittenOut() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let watch = ConnectionWatch(channel: channel, limits: .init(handshake: 10, header: 10, idle: 1, body: 10), logger: Logger(label: "test"))
        try channel.pipeline.syncOperations.addHandler(HTTPWatchHandler(watch: watch))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        watch.started()
        watch.handshakeCompleted()
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: "https", authority: "hub", path: "/v1/pull")))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        _ = try channel.readInbound(as: HTTPRequestPart.self)
        _ = try channel.readInbound(as: HTTPRequestPart.self)

        channel.write(HTTPResponsePart.head(HTTPResponse(status: .ok)), promise: nil)
        channel.write(HTTPResponsePart.end(nil), promise: nil)
        // Queued, not flushed: the idle timeout (1 s) must not run yet.
        loop.advanceTime(by: .seconds(5))
        #expect(channel.isActive, "the idle timeout ran while the answer was still queued")
        channel.flush()
        loop.advanceTime(by: .milliseconds(500))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "idle for 1 s after the answer was written out")
        _ = try? channel.finish()
    }

    /// A client that stops reading its answer is cut after `seconds` without progress; one that
    /// reads slowly is not.
    @Test func aClientThatStopsReadingItsAnswerIsCut() throws {
        final class Buffer: @unchecked Sendable { var bytes = 0 }
        let buffer = Buffer()
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(DrainWatchHandler(seconds: 2, logger: Logger(label: "test")) { _ in buffer.bytes })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()

        // Full, then read slowly: 1 KB fewer at each check.
        buffer.bytes = 64_000
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        for _ in 0..<10 {
            buffer.bytes -= 1000
            loop.advanceTime(by: .seconds(2))
        }
        #expect(channel.isActive, "a client that reads slowly was cut")
        // Writable again, then full again and not read at all.
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        loop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "a client that reads nothing for 2 s kept its connection")
        _ = try? channel.finish()
    }
}
