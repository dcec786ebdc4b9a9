import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// A connection's pipeline: the gate (before TLS, so that a connection past the limits costs no
/// handshake), TLS, a watch of the decrypted bytes, then Hummingbird's HTTP/1.1 with a watch of
/// its requests and answers. The three watches share one timer (see `ConnectionDeadlines`).
struct HubChildChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let tls: NIOSSLContext
    let gate: ConnectionGate
    let settings: HubSettings

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let responder = self.responder
        return channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<ConnectionWatch> in
            // Timeouts as configured now: a reload changes them for new connections.
            let watch = ConnectionWatch(channel: channel, limits: ConnectionDeadlines.Limits(settings.configuration), logger: logger)
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(ConnectionGateHandler(gate: gate, watch: watch))
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
            try pipeline.addHandler(TLSWatchHandler(watch: watch))
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
