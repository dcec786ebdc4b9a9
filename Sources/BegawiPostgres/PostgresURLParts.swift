import BegawiCore
import Foundation

/// The pieces of a `postgresql://` URL, checked one by one so that each refusal names the part
/// to fix. No message repeats the URL: it may hold a password.
struct PostgresURLParts {
    var host: String?
    var socketFolder = "/var/run/postgresql"
    var port = 5432
    var user: String
    var password: String?
    var database: String
    var tlsMode = PostgresSettings.TLSMode.prefer
    var rootCertificateFile: String?

    private static let example = "postgresql://ROLE[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=verify-full]"

    init(_ url: String) throws {
        guard let scheme = url.split(separator: ":", maxSplits: 1).first,
              ["postgresql", "postgres"].contains(scheme.lowercased()) else {
            throw Self.refusal("must start with postgresql://")
        }
        // Strict: Foundation would otherwise encode what is invalid (a space, a lone %) and pass it on.
        guard let components = URLComponents(string: url, encodingInvalidCharacters: false) else {
            throw Self.refusal("is not a valid URL: percent-encode any of : / @ ? # % or a space in the role, password or database name")
        }
        guard let encodedUser = components.percentEncodedUser, let user = encodedUser.removingPercentEncoding,
              !user.isEmpty else {
            throw Self.refusal("names no role: put it before the host, as ROLE@HOST")
        }
        self.user = user
        if let encodedPassword = components.percentEncodedPassword {
            guard let password = encodedPassword.removingPercentEncoding else {
                throw Self.refusal("has a password with a broken percent-encoding")
            }
            self.password = password
        }
        let path = components.percentEncodedPath
        guard path.hasPrefix("/"), let database = String(path.dropFirst()).removingPercentEncoding,
              !database.isEmpty, !database.contains("/") else {
            throw Self.refusal("names no database: end it with /DATABASE")
        }
        self.database = database
        if let port = components.port {
            guard (1...65535).contains(port) else { throw Self.refusal("has a port outside 1–65535") }
            self.port = port
        }
        if let host = components.host, !host.isEmpty {
            self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        }
        try readQuery(components.queryItems ?? [])
    }

    private mutating func readQuery(_ items: [URLQueryItem]) throws {
        var seen = Set<String>()
        for item in items {
            guard seen.insert(item.name).inserted else { throw Self.refusal("names \(item.name) twice") }
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = PostgresSettings.TLSMode(rawValue: value) else {
                    let modes = PostgresSettings.TLSMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Self.refusal("has an unknown sslmode: use one of \(modes)")
                }
                tlsMode = mode
            case "sslrootcert":
                guard value.hasPrefix("/") else { throw Self.refusal("needs an absolute path in sslrootcert") }
                rootCertificateFile = value
            case "host":
                // libpq's way to name a Unix socket's folder: postgresql://ROLE@/DATABASE?host=/run/postgresql
                guard value.hasPrefix("/") else { throw Self.refusal("needs the socket's folder, an absolute path, in host=") }
                guard host == nil else { throw Self.refusal("names a host twice (before the path and in host=)") }
                socketFolder = value
            default:
                throw Self.refusal("has a parameter Begawi does not know (\(item.name)): it knows sslmode, sslrootcert and host")
            }
        }
        if host == nil, tlsMode != .disable, tlsMode != .prefer {
            throw Self.refusal("asks for TLS (sslmode=\(tlsMode.rawValue)) over a Unix socket: drop sslmode, or name a host")
        }
        if rootCertificateFile != nil, tlsMode != .verifyCA, tlsMode != .verifyFull {
            throw Self.refusal("names sslrootcert without checking certificates: add sslmode=verify-full")
        }
    }

    private static func refusal(_ problem: String) -> BegawiError {
        BegawiError(.configuration, "database \(problem) (\(example))")
    }
}
