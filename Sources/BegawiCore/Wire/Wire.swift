/// The constants of the exchange between site and hub that are not JSON bodies: media types, header
/// names and the protocol version (docs/openapi.yaml describes them).
public enum Wire {
    /// The media type of an encoded batch, pushed and pulled.
    public static let batchMediaType = "application/vnd.begawi.batch"
    /// The media type of the hub's JSON answers.
    public static let jsonMediaType = "application/json"

    /// The version of the exchange this build speaks, sent by a site on every request and by the hub
    /// in its session answer. It rises when a peer of the previous version would misread the exchange:
    /// a change of the batch encoding, of a route's meaning, or a header or key a peer must now act on.
    /// An addition that an older peer may ignore (an optional key or header, a new route) leaves it.
    /// Version 1 is the exchange before versions (daemons that send no `Begawi-Protocol`); version 2
    /// adds the site's protocol, daemon and schema versions to its requests.
    public static let protocolVersion = 2

    /// The oldest version a hub of this build serves (the current one and the one before): a site
    /// older than that is refused `too-old`. A site that names no version speaks version 1.
    public static let oldestProtocolServed = protocolVersion - 1
}
