/// A release of the `begawi` daemon, `MAJOR.MINOR.PATCH`: what `begawi version` prints, what a site
/// names in its requests, and what the hub's `min_site_version` compares with.
public struct DaemonVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The release numbers, most significant first.
    public let major: Int, minor: Int, patch: Int

    /// This build: the one source of the version (`begawi version`, the `User-Agent`, the version header).
    public static let current = DaemonVersion(0, 1, 0)

    /// The largest number a part may have: a larger one is no release, and must not overflow.
    public static let maxPart = 99_999

    /// A version from its parts (each clamped to 0…`maxPart`).
    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = min(max(major, 0), DaemonVersion.maxPart)
        self.minor = min(max(minor, 0), DaemonVersion.maxPart)
        self.patch = min(max(patch, 0), DaemonVersion.maxPart)
    }

    /// Parses `1.2.3` (three whole numbers of at most five digits); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            // Digits only: `Int("+1")` would take a sign, and a long run must not reach `Int`'s bounds.
            guard (1...5).contains(part.utf8.count), part.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let n = Int(part) else { return nil }
            numbers.append(n)
        }
        self.init(numbers[0], numbers[1], numbers[2])
    }

    /// The version a `User-Agent` such as `begawi/0.1.0` names, as every daemon sends it (those made
    /// before the version header too); nil for another agent.
    public init?(userAgent: some StringProtocol) {
        guard userAgent.hasPrefix("begawi/") else { return nil }
        let rest = userAgent.dropFirst("begawi/".count)
        self.init(rest.prefix { $0 != " " })
    }

    /// The `User-Agent` of this version.
    public var userAgent: String { "begawi/\(self)" }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: DaemonVersion, b: DaemonVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}
