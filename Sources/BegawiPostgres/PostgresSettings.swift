import BegawiCore
import Foundation

/// Where the hub's PostgreSQL database is and how each session to it behaves: parsed from the
/// configuration's `database = "postgresql://user[:password]@host[:port]/db[?sslmode=…]"`.
///
/// The password is kept for the connection only: `description` and every error leave it out.
public struct PostgresSettings: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// How the connection is encrypted, with libpq's names and meanings (`prefer` is libpq's default).
    public enum TLSMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, its certificate unchecked.
        case prefer
        /// TLS always, its certificate unchecked.
        case require
        /// TLS always, the certificate signed by a trusted CA, any host name.
        case verifyCA = "verify-ca"
        /// TLS always, the certificate signed by a trusted CA and naming the host.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address; nil for a Unix socket.
    public var host: String?
    /// The folder holding the server's Unix socket, when `host` is nil.
    public var socketFolder: String
    /// The server's port (also the number in the Unix socket's name).
    public var port: Int
    /// The role to log in as.
    public var user: String
    /// The role's password; nil for trust, peer or certificate authentication.
    public var password: String?
    /// The database's name.
    public var database: String
    /// How the connection is encrypted.
    public var tlsMode: TLSMode
    /// A PEM file of CAs to trust instead of the system's (`sslrootcert`).
    public var rootCertificateFile: String?
    /// How long one statement may run before the server cancels it, in milliseconds (0: no limit).
    public var statementTimeoutMilliseconds: Int
    /// How long a session may sit idle inside a transaction before the server ends it, in
    /// milliseconds (0: no limit). An abandoned transaction would otherwise hold the feed's fence.
    public var idleInTransactionTimeoutMilliseconds: Int
    /// How long connecting may take, in milliseconds.
    public var connectTimeoutMilliseconds: Int

    /// The default for `statementTimeoutMilliseconds`: a push's merge of a large batch fits well inside.
    public static let defaultStatementTimeout = 60_000
    /// The default for `idleInTransactionTimeoutMilliseconds`: a hub never waits inside a transaction.
    public static let defaultIdleInTransactionTimeout = 30_000
    /// The default for `connectTimeoutMilliseconds`.
    public static let defaultConnectTimeout = 10_000

    /// Parses a `postgresql://` (or `postgres://`) URL; the timeouts take their defaults unless given.
    public init(url: String, statementTimeoutMilliseconds: Int = defaultStatementTimeout,
                idleInTransactionTimeoutMilliseconds: Int = defaultIdleInTransactionTimeout,
                connectTimeoutMilliseconds: Int = defaultConnectTimeout) throws {
        for (name, value) in [("statement_timeout", statementTimeoutMilliseconds),
                              ("idle_in_transaction_session_timeout", idleInTransactionTimeoutMilliseconds)]
        where !(0...Int(Int32.max)).contains(value) {
            throw BegawiError(.configuration, "\(name) must be between 0 (no limit) and \(Int32.max) milliseconds")
        }
        guard (1...Int(Int32.max)).contains(connectTimeoutMilliseconds) else {
            throw BegawiError(.configuration, "the connect timeout must be between 1 and \(Int32.max) milliseconds")
        }
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.idleInTransactionTimeoutMilliseconds = idleInTransactionTimeoutMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        let parts = try PostgresURLParts(url)
        host = parts.host
        socketFolder = parts.socketFolder
        port = parts.port
        user = parts.user
        password = parts.password
        database = parts.database
        tlsMode = parts.tlsMode
        rootCertificateFile = parts.rootCertificateFile
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        let login = password == nil ? user : user + ":***"
        let place = host.map { ($0.contains(":") ? "[\($0)]" : $0) + ":\(port)" } ?? "(socket in \(socketFolder), port \(port))"
        return "postgresql://\(login)@\(place)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The parts without the password, for `dump` and test failures.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": description, "statementTimeoutMilliseconds": statementTimeoutMilliseconds,
                                "idleInTransactionTimeoutMilliseconds": idleInTransactionTimeoutMilliseconds,
                                "connectTimeoutMilliseconds": connectTimeoutMilliseconds])
    }
}
