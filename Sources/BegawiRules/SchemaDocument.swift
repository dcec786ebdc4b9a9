public import BegawiCore
public import Foundation

/// A schema file: the synced tables and, beside each, its `access` rules.
public struct SchemaDocument: Sendable, Equatable {
    /// The tables as the engine syncs them.
    public var schema: Schema
    /// The rules between agencies; nil when the file declares none.
    public var policy: AccessPolicy?
    /// The schema's version (`"version"` in the file; 1 when the file has none).
    public var version: Int = 1

    /// Reads a schema file, with errors that name it.
    public static func load(path: String) throws -> SchemaDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.invalidArgument, "cannot read the schema file \(path); check the path")
        }
        do {
            return try parse(data)
        } catch let error as BegawiError {
            throw BegawiError(error.code, "\(path): \(error.message)")
        }
    }

    /// Parses the JSON text of a schema file.
    public static func parse(_ data: Data) throws -> SchemaDocument {
        let schema: Schema
        do {
            schema = try JSONDecoder().decode(Schema.self, from: data)
        } catch let error as BegawiError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw BegawiError(.invalidSchema, "not valid JSON: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw BegawiError(.invalidSchema, "'\(key.stringValue)' is missing at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw BegawiError(.invalidSchema, "not a Begawi schema: \(error)")
        }
        try schema.validate()
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let tables = root["tables"] as? [[String: Any]] else {
            throw BegawiError(.invalidSchema, "the file must be a JSON object with a \"tables\" array")
        }
        var rules: [TableAccess] = []
        for table in tables {
            guard let name = table["name"] as? String else { continue }
            guard let access = table["access"] else { continue }
            guard let object = access as? [String: Any] else {
                throw BegawiError(.invalidSchema, "table '\(name)': \"access\" must be an object")
            }
            rules.append(try TableAccess.parse(object, table: name))
        }
        let version = try SchemaDocument.declaredVersion(in: data)
        guard !rules.isEmpty else { return SchemaDocument(schema: schema, policy: nil, version: version) }
        let policy = AccessPolicy(tables: rules)
        try policy.validate(against: schema)
        return SchemaDocument(schema: schema, policy: policy, version: version)
    }
}

extension TableAccess {
    static let keys: Set<String> = ["owner", "writers", "office_only", "receivers", "linked_by", "values", "key_from", "duplicates", "comment"]

    /// Reads one `access` object; unknown keys are refused so that a typo does not loosen a rule.
    static func parse(_ object: [String: Any], table: String) throws -> TableAccess {
        func fail(_ text: String) -> BegawiError {
            BegawiError(.invalidSchema, "table '\(table)': \(text)")
        }
        if let unknown = object.keys.filter({ !keys.contains($0) }).sorted().first {
            throw fail("\"access\" has the unknown key '\(unknown)'; use \(keys.sorted().joined(separator: ", "))")
        }
        func strings(_ key: String) throws -> [String] {
            guard let value = object[key] else { return [] }
            guard let list = value as? [String] else { throw fail("\"\(key)\" must be a list of strings") }
            return list
        }
        let owner: Owner
        switch object["owner"] {
        case nil: owner = .none
        case let column as String: owner = .column(column)
        case let reference as [String: Any]:
            guard let column = reference["via"] as? String, let other = reference["table"] as? String, reference.count == 2 else {
                throw fail("\"owner\" must be a column name or {\"via\": COLUMN, \"table\": TABLE}")
            }
            owner = .via(column: column, table: other)
        default: throw fail("\"owner\" must be a column name or {\"via\": COLUMN, \"table\": TABLE}")
        }
        var writers = Set<SiteKind>()
        for kind in try strings("writers") {
            guard let k = SiteKind(rawValue: kind), k != .office else {
                throw fail("writer kind '\(kind)' is unknown; use lpk, blki, bplk or company (the office always writes)")
            }
            writers.insert(k)
        }
        let receiversValue = object["receivers"] ?? "linked"
        guard let receiversText = receiversValue as? String, let receivers = Receivers(rawValue: receiversText) else {
            throw fail("\"receivers\" must be \"all\" or \"linked\"")
        }
        var links: [Link] = []
        if let value = object["linked_by"] {
            guard let list = value as? [[String: String]] else { throw fail("\"linked_by\" must be a list of {\"table\": …, \"column\": …}") }
            for item in list {
                guard let t = item["table"], let c = item["column"], item.count == 2 else {
                    throw fail("each \"linked_by\" entry needs exactly \"table\" and \"column\"")
                }
                links.append(Link(table: t, column: c))
            }
        }
        var allowed: [String: Set<String>] = [:]
        if let value = object["values"] {
            guard let map = value as? [String: [String]] else { throw fail("\"values\" must map column names to lists of allowed strings") }
            for (column, list) in map { allowed[column] = Set(list) }
        }
        var derived: DerivedKey?
        if let value = object["key_from"] {
            guard let map = value as? [String: String], let column = map["column"], let check = map["check"], let salt = map["salt"], map.count == 3 else {
                throw fail("\"key_from\" must be {\"column\": …, \"check\": \"nik\", \"salt\": …}")
            }
            derived = DerivedKey(column: column, check: check, salt: salt)
        }
        return TableAccess(table: table, owner: owner, writers: writers, officeOnly: Set(try strings("office_only")),
                           receivers: receivers, linkedBy: links, allowedValues: allowed, derivedKey: derived,
                           duplicateColumns: try strings("duplicates"))
    }
}
