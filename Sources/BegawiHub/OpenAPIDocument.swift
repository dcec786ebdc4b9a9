import COpenAPI

/// The hub API's OpenAPI description, served at `/v1/openapi.yaml`: docs/openapi.yaml itself,
/// embedded in the binary when it is built (Sources/COpenAPI), so an edit needs no extra step.
enum OpenAPIDocument {
    static let text: String = {
        var length = 0
        let bytes = begawi_openapi_yaml(&length)
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }()
}
