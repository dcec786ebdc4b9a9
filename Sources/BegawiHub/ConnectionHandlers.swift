import NIOCore
import NIOHTTPTypes
import NIOTLS

/// First in a connection's pipeline, before TLS: admits the connection through the gate or closes
/// it at once (no byte of a handshake is spent on it), and starts its timer.
final class ConnectionGateHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let gate: ConnectionGate
    private let watch: ConnectionWatch
    private var address: String?
    private var decided = false

    init(gate: ConnectionGate, watch: ConnectionWatch) {
        self.gate = gate
        self.watch = watch
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { decide(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if decide(context) { context.fireChannelActive() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.stop()
        if let address {
            self.address = nil
            gate.release(address)
        }
        context.fireChannelInactive()
    }

    /// Returns whether the connection was admitted.
    @discardableResult
    private func decide(_ context: ChannelHandlerContext) -> Bool {
        guard !decided else { return address != nil }
        decided = true
        let key = PeerAddress.key(context.channel.remoteAddress)
        guard gate.admit(key) == .admitted else {
            // Closed on the next turn of the loop, once the pipeline being built is complete.
            let channel = context.channel
            context.eventLoop.execute { channel.close(promise: nil) }
            return false
        }
        address = key
        watch.started()
        return true
    }
}

/// Right after TLS: sees the handshake end, every decrypted byte, and every request for more.
final class TLSWatchHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted? = event as? TLSUserEvent { watch.handshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        watch.bytesArrived()
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        watch.readRequested()
        context.read()
    }
}

/// At the HTTP level: sees where a request's head and end are, and where an answer ends.
final class HTTPWatchHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let watch: ConnectionWatch

    init(watch: ConnectionWatch) { self.watch = watch }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: watch.headReceived()
        case .body: break
        case .end: watch.endReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch.responseEnded() }
        context.write(data, promise: promise)
    }
}
