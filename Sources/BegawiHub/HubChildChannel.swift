import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// A connection: admitted by the gate or closed at once, then a pipeline of watches before TLS
/// (one starts the connection's timer, one ends a connection whose answer is not read), TLS, a watch of the decrypted bytes, and Hummingbird's
/// HTTP/1.1 with a watch of its requests and answers. The three watches share one timer (see
/// `ConnectionDeadlines`).
struct HubChildChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let tls: NIOSSLContext
    let gate: ConnectionGate
    let settings: HubSettings

    /// The setup of a connection turned away; NIO drops it without a word.
    struct Refused: Error {}

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        // Runs before the connection is registered with the event loop: one turned away is closed
        // here, its descriptor freed at once, with no pipeline built and no byte of TLS spent.
        let address = PeerAddress.key(channel.remoteAddress)
        guard gate.admit(address) == .admitted else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(Refused())
        }
        channel.closeFuture.whenComplete { [gate] _ in gate.release(address) }
        let responder = self.responder
        return channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<ConnectionWatch> in
            // Timeouts as configured now: a reload changes them for new connections.
            let configuration = settings.configuration
            let watch = ConnectionWatch(channel: channel, limits: ConnectionDeadlines.Limits(configuration), logger: logger)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ConnectionStartHandler(watch: watch))
            try pipeline.addHandler(DrainWatchHandler(seconds: configuration.bodyTimeoutSeconds, logger: logger))
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
            try pipeline.addHandler(TLSWatchHandler(watch: watch))
            try pipeline.addHandler(PeerLeftHandler(eventLoop: channel.eventLoop))
            return NIOLoopBound(watch, eventLoop: channel.eventLoop)
        }.flatMap { watch in
            HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [HTTPWatchHandler(watch: watch.value)]))
                .setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
