/// Why a row's change was refused (by the hub's rules, or by the site's own checks): a stable code
/// on the wire and in the site's refusal ledger, and what the site's replica does about it.
///
/// A struct over its code rather than an enum, so that a code from a newer hub still decodes: an
/// unknown reason is recorded as it came and evicted, as every reason was before it had an action.
public struct RefusalReason: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The code as it crosses the wire ("not-owner", …).
    public let code: String

    /// A reason from its code, known or not.
    public init(_ code: String) { self.code = code }

    /// A reason from a code written in a test or a ledger query.
    public init(stringLiteral code: String) { self.code = code }

    public init(from decoder: any Decoder) throws {
        code = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public var description: String { code }

    /// What the site's replica does with a row refused for this reason.
    public var action: RefusalAction {
        switch self {
        case .erased: .erase
        case .unknownReference: .requeue
        case .awaitingReference: .keep
        default: .evict
        }
    }

    /// Every reason this version knows.
    public static let known: [RefusalReason] = [
        .notWriter, .notOwner, .unknownRow, .ownerChange, .unknownReference, .awaitingReference, .officeOnly,
        .invalidNIK, .keyMismatch, .badValue, .forgedStamp, .alreadyRegistered, .erased, .purged,
    ]

    /// The pushing site's kind may not write the table (or the hub has no rules for it).
    public static let notWriter = RefusalReason("not-writer")
    /// The row, or a row it references, belongs to another site.
    public static let notOwner = RefusalReason("not-owner")
    /// A change or delete of a row the hub never had.
    public static let unknownRow = RefusalReason("unknown-row")
    /// A change of the column that names the owning site, which only the office may make.
    public static let ownerChange = RefusalReason("owner-change")
    /// A reference to an owned row the hub does not hold; the site may still send it.
    public static let unknownReference = RefusalReason("unknown-reference")
    /// A reference to a linked row the hub does not hold live, which another site may still send.
    public static let awaitingReference = RefusalReason("awaiting-reference")
    /// A column only the office may write.
    public static let officeOnly = RefusalReason("office-only")
    /// A NIK that is not plausible, or missing where a key is derived from it.
    public static let invalidNIK = RefusalReason("invalid-nik")
    /// A key that is not the one derived from its natural identifier.
    public static let keyMismatch = RefusalReason("key-mismatch")
    /// A key or value its column does not accept (size, control characters, empty).
    public static let badValue = RefusalReason("bad-value")
    /// Another site's write that the hub does not hold.
    public static let forgedStamp = RefusalReason("forged-stamp")
    /// A person another site already registered.
    public static let alreadyRegistered = RefusalReason("already-registered")
    /// A row erased at the office's request.
    public static let erased = RefusalReason("erased")
    /// A write to a row deleted and purged at the hub (below its horizon), from a site that never saw
    /// the delete: it is not re-inserted; the site moves it to its refusal ledger.
    public static let purged = RefusalReason("purged")
}
