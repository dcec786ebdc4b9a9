/// The constants of the exchange between site and hub that are not JSON bodies: media types and
/// header names (docs/openapi.yaml describes them).
public enum Wire {
    /// The media type of an encoded batch, pushed and pulled.
    public static let batchMediaType = "application/vnd.begawi.batch"
    /// The media type of the hub's JSON answers.
    public static let jsonMediaType = "application/json"
}
