import BegawiCore
import BegawiReplica

/// A site's credential: `bgw1.<site id>.<64 hex digits>`. The hub keeps only the SHA-256 of the
/// secret part; the whole token is shown once, when the site is added.
public struct SiteCredential: Sendable, Equatable {
    /// The site the credential names.
    public var siteID: String
    /// The 32-byte secret, as 64 lowercase hex digits.
    public var secret: String

    /// The token as handed to the site.
    public var token: String { "bgw1.\(siteID).\(secret)" }

    /// The hash the hub stores.
    public var secretHash: String { Hashing.sha256Hex(Array(secret.utf8)) }

    /// Makes a new random credential for a site.
    public static func generate(for siteID: String) -> SiteCredential {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        for _ in 0..<4 {
            var word = rng.next() as UInt64
            for _ in 0..<8 {
                bytes.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        let hex = bytes.map { b in String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined()
        return SiteCredential(siteID: siteID, secret: hex)
    }

    /// Parses a token; nil when it is not one (the token itself is never put in a message).
    public static func parse(_ token: String) -> SiteCredential? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "bgw1", (try? SiteID.validate(String(parts[1]))) != nil,
              parts[2].utf8.count == 64, parts[2].utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        return SiteCredential(siteID: String(parts[1]), secret: String(parts[2]))
    }
}
