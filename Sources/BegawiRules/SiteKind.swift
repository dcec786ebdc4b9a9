import BegawiCore

/// What kind of partner a site is.
public enum SiteKind: String, Sendable, Codable, CaseIterable {
    /// A private training institution (Lembaga Pelatihan Kerja).
    case lpk
    /// The government training centre (Balai Latihan Kerja Industri).
    case blki
    /// A national training centre.
    case bplk
    /// A partner company.
    case company
    /// The city labour office.
    case office

    /// Parses a kind, with a message listing the allowed ones.
    public static func parse(_ text: String) throws -> SiteKind {
        guard let kind = SiteKind(rawValue: text) else {
            throw BegawiError(.invalidArgument, "site kind '\(text)' is unknown; use one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return kind
    }
}
