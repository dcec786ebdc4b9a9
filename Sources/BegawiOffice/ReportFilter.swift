import BegawiCore

/// Which enrollments a report counts: a period of registration dates (inclusive, `YYYY-MM-DD`)
/// and, optionally, one partner, one program or one status.
public struct ReportFilter: Sendable, Equatable {
    /// The first registration date counted.
    public var from: String?
    /// The last registration date counted.
    public var to: String?
    /// Only this partner (site id).
    public var partner: String?
    /// Only this program (id).
    public var program: String?
    /// Only this status.
    public var status: String?

    /// Makes a filter; nil means "any".
    public init(from: String? = nil, to: String? = nil, partner: String? = nil, program: String? = nil, status: String? = nil) {
        self.from = from
        self.to = to
        self.partner = partner
        self.program = program
        self.status = status
    }

    /// Throws when a date is not `YYYY-MM-DD` or the period ends before it starts.
    public func validate() throws -> ReportFilter {
        for (name, value) in [("from", from), ("to", to)] {
            guard let value else { continue }
            guard ReportFilter.isDate(value) else {
                throw BegawiError(.invalidArgument, "--\(name) must be a date written YYYY-MM-DD (got '\(value.prefix(20))')")
            }
        }
        if let from, let to, from > to { throw BegawiError(.invalidArgument, "the period ends (\(to)) before it starts (\(from))") }
        return self
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let month = Int(parts[1]), let day = Int(parts[2]) else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }
}
