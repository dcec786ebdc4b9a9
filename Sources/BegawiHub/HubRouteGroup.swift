public import Hummingbird

/// Routes that another library mounts on the hub's router (the office's dashboard), so that the
/// hub library never imports them. They pass through the hub's middleware like its own routes.
public protocol HubRouteGroup: Sendable {
    /// Adds the group's routes to the hub's router.
    func register<Context: RequestContext>(on router: Router<Context>)
}
