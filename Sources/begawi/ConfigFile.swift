import BegawiCore
import Foundation
import TOMLKit

/// A TOML configuration file, read with errors that name the file, the line and the key.
/// Unknown keys are refused (a misspelt key must not be silently ignored); relative paths are
/// resolved from the file's folder.
struct ConfigFile {
    let path: String
    let folder: String
    private let table: TOMLTable

    static func load(_ path: String) throws -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BegawiError(.configuration, "cannot read the configuration file \(path); pass --config FILE, or see config/ for examples")
        }
        do {
            let table = try TOMLTable(string: String(decoding: data, as: UTF8.self))
            return ConfigFile(path: path, folder: URL(fileURLWithPath: path).deletingLastPathComponent().path, table: table)
        } catch let error as TOMLParseError {
            throw BegawiError(.configuration, "\(path) line \(error.source.begin.line), column \(error.source.begin.column): \(error.description); fix the TOML there")
        } catch {
            throw BegawiError(.configuration, "\(path) is not valid TOML", cause: "\(error)")
        }
    }

    /// Refuses keys that are not among `known`.
    func checkKeys(_ known: [String]) throws {
        for key in table.keys where !known.contains(key) {
            throw BegawiError(.configuration, "\(path): unknown key '\(key)'; the known keys are \(known.joined(separator: ", "))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            throw BegawiError(.configuration, "\(path): '\(key)' must be a string in quotes")
        }
        return text
    }

    func int(_ key: String) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else {
            throw BegawiError(.configuration, "\(path): '\(key)' must be a whole number")
        }
        return number
    }

    /// A whole number from `range`, or nil when absent; `unit` names it in the error.
    func int(_ key: String, in range: ClosedRange<Int>, unit: String = "") throws -> Int? {
        guard let number = try int(key) else { return nil }
        guard range.contains(number) else {
            throw BegawiError(.configuration, "\(path): '\(key)' is \(number)\(unit); use a whole number from \(range.lowerBound) to \(range.upperBound)\(unit)")
        }
        return number
    }

    /// A duration in `scale` milliseconds (1000 for seconds), at least 0 and at most about 100 years,
    /// as milliseconds (so that no multiplication can overflow).
    func milliseconds(_ key: String, scale: Int) throws -> UInt64? {
        let century = 100 * 366 * 86_400_000 / scale
        guard let number = try int(key, in: 0...century, unit: scale == 1000 ? " s" : " ms") else { return nil }
        return UInt64(clamping: number) * UInt64(clamping: scale)
    }

    /// An address value, `HOST:PORT` (`[::1]:PORT` for IPv6); `example` goes into the error.
    func hostPort(_ key: String, example: String) throws -> (host: String, port: Int)? {
        guard let text = try string(key) else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw BegawiError(.configuration, "\(path): \(key) must be HOST:PORT, for example \"\(example)\"")
        }
        return (String(text[..<colon]).trimmingCharacters(in: ["[", "]"]), port)
    }

    /// A path value, resolved from the configuration file's folder when relative. `credential:NAME`
    /// names a systemd credential (`LoadCredential=NAME:…`): the file NAME in `$CREDENTIALS_DIRECTORY`,
    /// so that secrets reach the daemon through neither the unit nor the environment.
    ///
    /// Outside systemd the value stays `credential:NAME`, so that commands which do not need the
    /// secret still run; `ConfigFile.secret` refuses it where the secret is read.
    func path(_ key: String) throws -> String? {
        guard let text = try string(key) else { return nil }
        if text.hasPrefix(ConfigFile.credentialPrefix) {
            let name = String(text.dropFirst(ConfigFile.credentialPrefix.count))
            guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
                throw BegawiError(.configuration, "\(path): '\(key)' names the credential '\(name)'; use credential:NAME with the NAME of LoadCredential=NAME:PATH")
            }
            guard let directory = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty else { return text }
            return directory + "/" + name
        }
        return text.hasPrefix("/") ? text : folder + "/" + text
    }

    static let credentialPrefix = "credential:"

    /// Refuses a secret's path that is still a systemd credential name: the daemon runs outside
    /// the unit that provides it.
    static func secret(_ path: String, key: String) throws -> String {
        guard path.hasPrefix(credentialPrefix) else { return path }
        let name = path.dropFirst(credentialPrefix.count)
        throw BegawiError(.configuration, "'\(key)' is the systemd credential '\(name)', but CREDENTIALS_DIRECTORY is not set; run under the systemd unit (LoadCredential=\(name):PATH), or give a file path")
    }
}
