import BegawiCore
import BegawiRules
import Foundation

/// Reads a declared schema (`config/handak-begawi.json`) with errors that name the file, and finds
/// a default schema where a source tree or an installation keeps it.
enum SchemaFile {
    static func load(_ path: String) throws -> Schema { try SchemaDocument.load(path: path).schema }

    /// The whole file: tables (with their limits) and rules.
    static func document(_ path: String) throws -> SchemaDocument { try SchemaDocument.load(path: path) }

    /// The rules between agencies the file declares, if any.
    static func policy(_ path: String) throws -> AccessPolicy? { try SchemaDocument.load(path: path).policy }

    /// The file a command reads: the one given with `--schema`, or else the first default found.
    /// Explicit paths are not looked up: a wrong one must fail with its own name.
    static func path(_ explicit: String?, default name: String) throws -> String {
        if let explicit { return explicit }
        let places = defaultPlaces(name)
        guard let found = places.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw BegawiError(.configuration, "found no schema file \(name) in \(places.joined(separator: ", ")); give one with --schema FILE, or install Begawi (make install, or the .deb) so that share/begawi holds it")
        }
        return found
    }

    /// Where a default schema is looked for, in order: the source tree (`make demo` runs from its
    /// root), the share folder of the prefix the binary runs from (`make install PREFIX=…`), then the
    /// .deb's and `make install`'s default prefixes.
    static func defaultPlaces(_ name: String, executable: String = Self.executable) -> [String] {
        let prefix = URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent().standardized.path
        var places: [String] = []
        for place in ["config/\(name)", "\(prefix)/share/begawi/\(name)", "/usr/share/begawi/\(name)", "/usr/local/share/begawi/\(name)"]
        where !places.contains(place) {
            places.append(place)
        }
        return places
    }

    /// The running binary itself, not a symbolic link to it: the prefix is where the file is.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
