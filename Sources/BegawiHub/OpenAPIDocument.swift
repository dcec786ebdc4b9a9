/// The hub API's OpenAPI description, served at `/v1/openapi.yaml`. The same text is in
/// `docs/openapi.yaml`; a test keeps the two equal.
enum OpenAPIDocument {
    static let text = """
        openapi: 3.1.0
        info:
          title: Begawi hub
          version: "1"

        """
}
