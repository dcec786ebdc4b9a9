/// One schema version the hub published: the file's text as given, its digest, and when.
public struct PublishedSchema: Sendable, Equatable {
    /// The version the file declares.
    public var version: Int
    /// The schema file's text, as published.
    public var document: String
    /// `SchemaDocument.digest` of the file: equal for files that declare the same.
    public var digest: String
    /// When it was published, in milliseconds since the Unix epoch.
    public var publishedAt: Int64

    /// Makes a record of a published version.
    public init(version: Int, document: String, digest: String, publishedAt: Int64) {
        self.version = version
        self.document = document
        self.digest = digest
        self.publishedAt = publishedAt
    }
}
