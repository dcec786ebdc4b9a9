public import BegawiCore
import Foundation

/// The version a schema file declares, and a digest of what it declares, so that two files that say
/// the same thing (whatever their spacing and comments) are one version.
extension SchemaDocument {
    /// The greatest version a schema file may declare: far more than a programme's lifetime of forms.
    public static let maximumVersion = Int(Int32.max)

    /// A document of tables without rules at `version`: what a hub made before versions were
    /// recorded holds, as the base a first publication is checked against.
    public init(tables schema: Schema, version: Int) {
        self.init(schema: schema, policy: nil, version: version)
    }

    private struct VersionField: Decodable { var version: Int? }

    /// Reads `"version"` from the file's JSON object: absent means 1; anything but a whole number from
    /// 1 to `maximumVersion` is refused.
    static func declaredVersion(in data: Data) throws -> Int {
        let advice = "\"version\" must be a whole number from 1 to \(maximumVersion), such as \"version\": 2 (leave it out for version 1)"
        let field: VersionField
        do {
            field = try JSONDecoder().decode(VersionField.self, from: data)
        } catch {
            throw BegawiError(.invalidSchema, advice)
        }
        guard let version = field.version else { return 1 }
        guard (1...maximumVersion).contains(version) else { throw BegawiError(.invalidSchema, advice) }
        return version
    }

    /// A digest of the version, the tables (columns, types, limits) and the rules: equal for files
    /// that declare the same, whatever their layout and comments.
    public var digest: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let tables = (try? encoder.encode(schema)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        var text = "version \(version)\n\(tables)\n\(policy?.digest ?? "no rules")\n"
        for name in (policy?.tables.keys.sorted() ?? []) {
            text += "\(name) duplicates \(policy?.tables[name]?.duplicateColumns ?? [])\n"
        }
        return Hashing.sha256Hex(Array(text.utf8))
    }
}
