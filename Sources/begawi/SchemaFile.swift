import BegawiCore
import BegawiRules

/// Reads a declared schema (`config/handak-begawi.json`) with errors that name the file.
enum SchemaFile {
    static func load(_ path: String) throws -> Schema { try SchemaDocument.load(path: path).schema }

    /// The whole file: tables (with their limits) and rules.
    static func document(_ path: String) throws -> SchemaDocument { try SchemaDocument.load(path: path) }

    /// The rules between agencies the file declares, if any.
    static func policy(_ path: String) throws -> AccessPolicy? { try SchemaDocument.load(path: path).policy }
}
