import NIOCore
import NIOHTTPTypes
import NIOTLS

/// First in a connection's pipeline, before TLS: starts the connection's timer (the handshake's
/// deadline) when it becomes active, and stops it when it closes.
final class ConnectionStartHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let watch: ConnectionWatch
    private var started = false

    init(watch: ConnectionWatch) { self.watch = watch }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.stop()
        context.fireChannelInactive()
    }

    private func start() {
        guard !started else { return }
        started = true
        watch.started()
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
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // The answer has ended once its last byte is with the kernel, not when it is queued: a slow
        // site still downloading a large page is not idle, and closing would drop what is queued.
        let written = promise ?? context.eventLoop.makePromise(of: Void.self)
        let watch = self.watch
        written.futureResult.assumeIsolated().whenComplete { _ in watch.responseEnded() }
        context.write(data, promise: written)
    }
}
