import NIOCore

/// Notices that a connection's client went away (it closed its side, or the connection ended),
/// for a held pull to stop waiting: a site that gives up its held pull for a push leaves at once,
/// and its slot (a connection, a place among the held pulls) must not wait out the hold.
final class PeerLeftHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Succeeds once the client has gone.
    let left: EventLoopPromise<Void>
    private var done = false

    init(eventLoop: any EventLoop) {
        left = eventLoop.makePromise()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { leave() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        leave()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        leave()
    }

    private func leave() {
        guard !done else { return }
        done = true
        left.succeed(())
    }

    /// When the client of `channel` has gone (its channel's close, where the handler is missing).
    static func left(of channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.flatSubmit {
            (try? channel.pipeline.syncOperations.handler(type: PeerLeftHandler.self).left.futureResult) ?? channel.closeFuture
        }
    }
}
