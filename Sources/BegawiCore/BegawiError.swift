/// An error with a stable code, a message that says what was wrong and what to do, and where it was thrown.
///
/// Messages never carry personal values (NIK, names, phone numbers): they name tables, columns and files.
public struct BegawiError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stable, opaque error code; new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// A declared schema that cannot be installed.
        public static let invalidSchema = Code(raw: "invalid-schema")
        /// A file that is not a Begawi replica.
        public static let notAReplica = Code(raw: "not-a-replica")
        /// A replica file that SQLite reports as damaged.
        public static let corrupted = Code(raw: "corrupted")
        /// A replica made by a newer version of Begawi.
        public static let newerFormat = Code(raw: "newer-format")
        /// A batch that cannot be decoded or applied; nothing of it was applied.
        public static let badBatch = Code(raw: "bad-batch")
        /// A batch that does not follow the receiver's cursor.
        public static let outOfOrder = Code(raw: "out-of-order")
        /// A clock that would go backwards or overflow.
        public static let clock = Code(raw: "clock")
        /// An argument that is not acceptable.
        public static let invalidArgument = Code(raw: "invalid-argument")
        /// A failure of the underlying database.
        public static let storage = Code(raw: "storage")
        /// No answer from a peer: refused, reset, timed out, or a TLS failure.
        public static let network = Code(raw: "network")
        /// The peer answered with a refusal (an HTTP error status) and a reason.
        public static let refused = Code(raw: "refused")
        /// A configuration file or value that cannot be used.
        public static let configuration = Code(raw: "configuration")
        /// A missing, wrong or revoked credential.
        public static let unauthorized = Code(raw: "unauthorized")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong and what to do about it.
    public var message: String
    /// The lower-level error, if any, described without bound values.
    public var cause: String?
    /// Where it was thrown.
    public var location: String

    /// Makes an error; the location defaults to the caller's file and line.
    public init(_ code: Code, _ message: String, cause: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    public var description: String {
        var text = "\(message) [\(code)]"
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    public static func == (a: BegawiError, b: BegawiError) -> Bool {
        a.code == b.code && a.message == b.message
    }
}
