import BegawiCore

extension TableAccess.DerivedKey {
    /// The checks a `key_from` may name, each saying why a value is not a plausible identity
    /// number (nil when it is). The Handak Begawi schema names "nik", the Indonesian one.
    static let checks: [String: @Sendable (String) -> String?] = ["nik": NIK.problem]

    /// The check names a schema may use, for messages.
    static var checkNames: String { checks.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ") }

    /// Why `identity` fails the check this key names, or nil when it passes. A check the rules do
    /// not know fails every value (`AccessPolicy.validate` refuses such a schema before).
    public func problem(_ identity: String) -> String? {
        guard let check = Self.checks[check] else {
            return "the schema's key_from check '\(check)' is unknown; use one of \(Self.checkNames)"
        }
        return check(identity)
    }

    /// The row key derived from `identity` once it passes its check: the same identity gives the
    /// same key at every site, and the key does not show it to someone who lacks the salt.
    public func key(for identity: String) throws -> String {
        if let problem = problem(identity) { throw BegawiError(.invalidArgument, problem) }
        return NIK.key(for: identity, salt: salt)
    }
}
