import BegawiCore

/// Site ids: short, stable, safe in file names, URLs and logs.
public enum SiteID {
    /// Throws unless the id is 1–64 characters of lowercase letters, digits, '.', '_' or '-'.
    public static func validate(_ id: String) throws {
        let ok = !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { c in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
        }
        guard ok else {
            throw BegawiError(.invalidArgument, "site id '\(id)' is not allowed: use 1–64 lowercase letters, digits, '.', '_' or '-'")
        }
    }
}
