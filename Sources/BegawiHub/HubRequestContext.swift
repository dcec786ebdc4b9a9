import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the client's address, which the limit on wrong
/// credentials counts by.
struct HubRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The address the request came from.
    let remoteAddress: SocketAddress?
    /// The connection, for a held pull to learn that its client left.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }
}
