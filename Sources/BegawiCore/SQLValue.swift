/// One SQLite value, as stored in a synced column.
public enum SQLValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// Whether two values are the same for conflict purposes (same type, same content; NaN equals NaN).
    public func same(as other: SQLValue) -> Bool {
        switch (self, other) {
        case (.real(let a), .real(let b)): a == b || (a.isNaN && b.isNaN)
        default: self == other
        }
    }

    /// A short description that never shows the value itself: personal data stays out of logs.
    public var description: String {
        switch self {
        case .null: "null"
        case .integer: "integer"
        case .real: "real"
        case .text(let s): "text(\(s.utf8.count) bytes)"
        case .blob(let b): "blob(\(b.count) bytes)"
        }
    }
}

extension SQLValue {
    /// The value's share of a page's or batch's byte budget: its bytes for text and blobs, 8 for
    /// numbers, 1 for NULL (the same count wherever a page is cut).
    public var budgetBytes: Int {
        switch self {
        case .null: 1
        case .integer, .real: 8
        case .text(let s): s.utf8.count
        case .blob(let b): b.count
        }
    }
}
