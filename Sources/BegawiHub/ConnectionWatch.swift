import Logging
import NIOCore

/// One connection's timer, driven by `ConnectionDeadlines` from the handlers that see its events
/// (before TLS, after TLS, and at the HTTP level). Lives on the connection's event loop only.
final class ConnectionWatch {
    private var deadlines: ConnectionDeadlines
    private var timer: Scheduled<Void>?
    private let channel: any Channel
    private let logger: Logger
    private var stopped = false

    init(channel: any Channel, limits: ConnectionDeadlines.Limits, logger: Logger) {
        self.deadlines = ConnectionDeadlines(limits: limits)
        self.channel = channel
        self.logger = logger
    }

    func started() { apply(deadlines.started()) }
    func handshakeCompleted() { apply(deadlines.handshakeCompleted()) }
    func bytesArrived() { apply(deadlines.bytesArrived()) }
    func readRequested() { apply(deadlines.readRequested()) }
    func headReceived() { apply(deadlines.headReceived()) }
    func endReceived() { apply(deadlines.endReceived()) }
    func responseEnded() { apply(deadlines.responseEnded()) }

    /// The connection closed: nothing more to time.
    func stop() {
        stopped = true
        timer?.cancel()
        timer = nil
    }

    private func apply(_ action: ConnectionDeadlines.Action) {
        guard !stopped else { return }
        switch action {
        case .none:
            return
        case .disarm:
            timer?.cancel()
            timer = nil
        case .arm(let seconds, let reason):
            timer?.cancel()
            let channel = self.channel
            let logger = self.logger
            timer = channel.eventLoop.assumeIsolated().scheduleTask(in: .seconds(Int64(seconds))) {
                // Per connection, so only at debug level: a flood must not flood the journal.
                logger.debug("connection closed", metadata: ["reason": "\(reason)", "peer": "\(PeerAddress.key(channel.remoteAddress))"])
                channel.close(promise: nil)
            }
        }
    }
}
