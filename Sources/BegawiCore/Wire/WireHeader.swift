/// The names of Begawi's own HTTP headers.
public enum WireHeader {
    /// The hub's time in ms since the Unix epoch, on every answer.
    public static let hubTime = "Begawi-Hub-Time"
    /// The site replica's id, on every request of a site.
    public static let replica = "Begawi-Replica"
    /// The hub's epoch, on a pulled page.
    public static let epoch = "Begawi-Epoch"
    /// How many changes the site holds unsent, on a session request.
    public static let pending = "Begawi-Pending"
    /// The site's time in ms since the Unix epoch, on a session request.
    public static let siteTime = "Begawi-Site-Time"
    /// The protocol version the site speaks (`Wire.protocolVersion`), on every request of a site.
    public static let protocolVersion = "Begawi-Protocol"
    /// The site daemon's version (`DaemonVersion`, `1.2.3`), on every request of a site.
    public static let daemonVersion = "Begawi-Daemon-Version"
    /// The schema version the site's replica holds, on every request of a site; absent means the
    /// oldest the hub published (what daemons from before versions hold).
    public static let schemaVersion = "Begawi-Schema-Version"
    /// On a catch-up page that is not the last: the `after` of the next request.
    public static let catchUpNext = "Begawi-Catch-Up-Next"
}
