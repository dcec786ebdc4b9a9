public import Hummingbird

/// Routes that another library mounts on the hub's router (the office's dashboard), so that the
/// hub library never imports them. They pass through the hub's middleware like its own routes.
public protocol HubRouteGroup: Sendable {
    /// The prefix of every path in the group: its requests count as one route in the metrics.
    var pathPrefix: String { get }
    /// The paths whose POST checks a credential (a sign-in form): a wrong one counts toward the
    /// client address's limit, as on the API.
    var credentialPaths: Set<String> { get }
    /// Adds the group's routes to the hub's router.
    func register<Context: RequestContext>(on router: Router<Context>)
}
