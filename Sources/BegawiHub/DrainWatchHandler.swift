import Logging
import NIOCore

/// Before TLS: ends a connection whose client has stopped reading its answer. While the
/// connection cannot take more writes (its outgoing buffer is full), the buffer's size is checked
/// every `seconds`: if it has not shrunk since the last check, the client read nothing, and the
/// connection is closed. A slow client that keeps reading, however slowly, is never cut.
final class DrainWatchHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let seconds: Int
    private let logger: Logger
    /// Bytes waiting in the connection's outgoing buffer (a test hands in its own count).
    private let buffered: (any Channel) -> Int
    private var check: Scheduled<Void>?
    private var lastBuffered = Int.max

    init(seconds: Int, logger: Logger,
         buffered: @escaping (any Channel) -> Int = { (try? $0.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0 }) {
        self.seconds = seconds
        self.logger = logger
        self.buffered = buffered
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stop()
        } else if check == nil {
            lastBuffered = buffered(context.channel)
            schedule(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    private func stop() {
        check?.cancel()
        check = nil
        lastBuffered = Int.max
    }

    private func schedule(_ context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(seconds))) { [self] in
            check = nil
            guard !context.channel.isWritable else { return }
            let now = buffered(context.channel)
            if now < lastBuffered {
                lastBuffered = now
                schedule(context)
            } else {
                // Per connection, so only at debug level.
                logger.debug("connection closed", metadata: ["reason": "answer not read for \(seconds) s",
                                                             "peer": "\(PeerAddress.key(context.channel.remoteAddress))"])
                context.close(promise: nil)
            }
        }
    }
}
